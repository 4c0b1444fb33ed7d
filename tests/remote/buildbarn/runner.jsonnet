// bb_runner: runs each action's command in its directory under the worker's build
// directory, directly on this host (no chroot, no container): Bazel's commands name
// host tools by absolute path (/usr/bin/clang-22, ~/.cargo/bin/rustc).
local common = import 'common.libsonnet';

{
  buildDirectoryPath: common.buildDirectory,
  grpcServers: [{
    listenPaths: [common.runnerSocket],
    authenticationPolicy: common.allow,
  }],
  // Each action gets its own empty TMPDIR inside the build directory.
  setTmpdirEnvironmentVariable: true,
}
