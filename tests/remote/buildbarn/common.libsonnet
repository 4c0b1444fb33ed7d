// Settings shared by the four processes of the test cluster (tests/remote/cluster.py).
//
// Every Buildbarn binary evaluates its configuration as Jsonnet with the process
// environment available through std.extVar(); cluster.py sets the BB_* variables below.
// Everything listens on 127.0.0.1 (or a Unix socket inside BB_ROOT).
{
  root: std.extVar('BB_ROOT'),  // the cluster's private directory (storage, build dirs, sockets)
  storage: '127.0.0.1:' + std.extVar('BB_STORAGE_PORT'),  // the frontend Bazel talks to: CAS, AC, Execute
  schedulerClient: '127.0.0.1:' + std.extVar('BB_SCHEDULER_CLIENT_PORT'),  // Execute, from bb_storage
  schedulerWorker: '127.0.0.1:' + std.extVar('BB_SCHEDULER_WORKER_PORT'),  // Synchronize, from bb_worker
  schedulerAdmin: '127.0.0.1:' + std.extVar('BB_SCHEDULER_ADMIN_PORT'),  // HTTP page listing queues and workers
  runnerSocket: self.root + '/runner.sock',
  buildDirectory: self.root + '/worker/build',
  concurrency: std.parseInt(std.extVar('BB_WORKER_CONCURRENCY')),

  // Bazel 4.2.3 streams large blobs through ByteStream; this bounds the other messages.
  maximumMessageSizeBytes: 16 * 1024 * 1024,

  // How bb_scheduler and bb_worker reach the storage.
  blobstore: {
    contentAddressableStorage: { grpc: { address: $.storage } },
    actionCache: { grpc: { address: $.storage } },
  },

  allow: { allow: {} },
}
