// bb_scheduler: queues actions from bb_storage and hands them to bb_worker.
local common = import 'common.libsonnet';

{
  adminHttpServers: [{
    listenAddresses: [common.schedulerAdmin],
    authenticationPolicy: common.allow,
  }],
  clientGrpcServers: [{
    listenAddresses: [common.schedulerClient],
    authenticationPolicy: common.allow,
  }],
  workerGrpcServers: [{
    listenAddresses: [common.schedulerWorker],
    authenticationPolicy: common.allow,
  }],
  contentAddressableStorage: common.blobstore.contentAddressableStorage,
  maximumMessageSizeBytes: common.maximumMessageSizeBytes,
  executeAuthorizer: common.allow,
  modifyDrainsAuthorizer: common.allow,
  killOperationsAuthorizer: common.allow,
  synchronizeAuthorizer: common.allow,
  actionRouter: {
    simple: {
      // Bazel 4.2.3 puts platform properties into the Command only (REv2.0).
      platformKeyExtractor: { actionAndCommand: {} },
      invocationKeyExtractors: [{ toolInvocationId: {} }],
      initialSizeClassAnalyzer: {
        defaultExecutionTimeout: '600s',
        maximumExecutionTimeout: '1800s',
      },
    },
  },
  // The worker's queue (empty platform, what Bazel sends without
  // --remote_default_exec_properties) exists from the start: actions sent before the
  // worker has connected wait instead of failing with "No workers exist".
  predeclaredPlatformQueues: [{
    instanceNamePrefix: '',
    platform: {},
    sizeClasses: [0],
  }],
  platformQueueWithNoWorkersTimeout: '60s',
}
