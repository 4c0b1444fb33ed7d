// bb_worker: fetches each action's input root from the CAS into a native build
// directory (hard links from a local file cache; no FUSE), has bb_runner run it, and
// uploads the outputs.
local common = import 'common.libsonnet';

{
  blobstore: common.blobstore,
  maximumMessageSizeBytes: common.maximumMessageSizeBytes,
  scheduler: { address: common.schedulerWorker },
  buildDirectories: [{
    native: {
      buildDirectoryPath: common.buildDirectory,
      // Same file system as the build directory: inputs are hard-linked from here.
      cacheDirectoryPath: common.root + '/worker/cache',
      maximumCacheFileCount: 100000,
      maximumCacheSizeBytes: 4 * 1024 * 1024 * 1024,
      cacheReplacementPolicy: 'LEAST_RECENTLY_USED',
    },
    runners: [{
      endpoint: { address: 'unix://' + common.runnerSocket },
      concurrency: common.concurrency,
      // Must equal the platform of the actions: Bazel 4.2.3 sends none by default.
      platform: {},
      workerId: { host: 'localhost', worker: 'rules_thinlto-test' },
    }],
  }],
  inputDownloadConcurrency: 8,
  outputUploadConcurrency: 8,
  directoryCache: {
    maximumCount: 10000,
    maximumSizeBytes: 16 * 1024 * 1024,
    cacheReplacementPolicy: 'LEAST_RECENTLY_USED',
  },
}
