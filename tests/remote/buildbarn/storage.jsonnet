// bb_storage: the only endpoint Bazel talks to. It stores the CAS and the AC on disk
// under BB_ROOT/storage and forwards Execute and WaitExecution to bb_scheduler.
local common = import 'common.libsonnet';

// A local blob store: in-memory key-location map, blocks in a sparse file on disk.
// (The sizes are upper bounds: the files are sparse.)
local localStore(name, sizeBytes, newBlocks) = {
  'local': {
    keyLocationMapInMemory: { entries: 1024 * 1024 },
    keyLocationMapMaximumGetAttempts: 16,
    keyLocationMapMaximumPutAttempts: 64,
    oldBlocks: 8,
    currentBlocks: 24,
    newBlocks: newBlocks,
    blocksOnBlockDevice: {
      source: { file: { path: common.root + '/storage/' + name + '.blocks', sizeBytes: sizeBytes } },
      spareBlocks: 3,
    },
  },
};

{
  grpcServers: [{
    listenAddresses: [common.storage],
    authenticationPolicy: common.allow,
  }],
  schedulers: {
    // '' is the prefix of every instance name: the whole Execution service goes to bb_scheduler.
    '': { endpoint: { address: common.schedulerClient } },
  },
  maximumMessageSizeBytes: common.maximumMessageSizeBytes,
  contentAddressableStorage: {
    // 38 blocks of ~108 MiB: the largest blob must fit into one block.
    backend: localStore('cas', 4 * 1024 * 1024 * 1024, 3),
    getAuthorizer: common.allow,
    putAuthorizer: common.allow,
    findMissingAuthorizer: common.allow,
  },
  actionCache: {
    // Only hand out results whose outputs are all still in the CAS.
    backend: {
      completenessChecking: {
        // (An AC entry can be overwritten: Buildbarn requires a single "new" block for it.)
        backend: localStore('ac', 64 * 1024 * 1024, 1),
        maximumTotalTreeSizeBytes: 64 * 1024 * 1024,
      },
    },
    getAuthorizer: common.allow,
    putAuthorizer: common.allow,
  },
  executeAuthorizer: common.allow,
}
