//! The persistent worker (`thinlto backend --persistent_worker`, Bazel's proto
//! protocol) and its clang fork server, against plain processes.

use crate::support::*;
use serde_json::json;
use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use thinlto::worker::{delimited, read_delimited, WorkRequest, WorkResponse};

/// Cargo needs a C compiler to link anything, so build.rs always finds one: a helper without
/// the server is a broken build here, not a reason to skip.
const NO_SERVER: &str =
    "this helper was built without the clang server: build.rs found no C compiler (its cargo warning says why)";

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn start(root: &Path, extra: &[&str]) -> Worker {
        let mut child = thinlto(root)
            .args(["backend", "--persistent_worker"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Worker { child, stdin, stdout }
    }

    fn run(&mut self, arguments: Vec<String>, request_id: i32) -> WorkResponse {
        let request = WorkRequest { arguments, request_id };
        self.stdin.write_all(&delimited(&request.encode())).unwrap();
        self.stdin.flush().unwrap();
        let message = read_delimited(&mut self.stdout).unwrap().expect("the worker answered");
        let response = WorkResponse::decode(&message).unwrap();
        assert_eq!(response.request_id, request_id);
        response
    }

    /// The process ids of the worker's children (its clang servers).
    fn child_pids(&self) -> Vec<u32> {
        let pid = self.child.id();
        let list = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
        list.split_whitespace().map(|c| c.parse().unwrap()).collect()
    }

    /// The worker's children, as the paths of their executables.
    fn children(&self) -> Vec<std::path::PathBuf> {
        self.child_pids().iter().filter_map(|c| std::fs::read_link(format!("/proc/{c}/exe")).ok()).collect()
    }

    /// Ends the worker (EOF on stdin) and returns what it logged.
    fn finish(self) -> String {
        drop(self.stdin);
        let out = self.child.wait_with_output().unwrap();
        assert!(out.status.success(), "worker exited with {}", out.status);
        String::from_utf8(out.stderr).unwrap()
    }
}

/// Three C++ modules, thin-linked; their names.
fn thin_linked(root: &Path) -> [&'static str; 3] {
    write(
        &root.join("src/main.cc"),
        "int a(int); int b(int);\nint main(int argc, char **) { return a(argc) + b(argc) == 4 ? 0 : 1; }\n",
    );
    write(&root.join("src/a.cc"), "int a(int x) { return x + 1; }\n");
    write(&root.join("src/b.cc"), "int b(int x) { return x * 2; }\n");
    let modules = ["main", "a", "b"];
    for m in modules {
        compile_cpp(root, &format!("src/{m}.cc"), &format!("obj/{m}.o"));
    }
    let manifest = manifest(json!(modules.iter().map(|m| bitcode(&format!("obj/{m}.o"))).collect::<Vec<_>>()));
    write(&root.join("lto/manifest.json"), serde_json::to_vec_pretty(&manifest).unwrap());
    index(root, "lto/manifest.json");
    modules
}

/// The arguments (after `backend`) of module `m`'s backend, writing `out_dir/m.o`.
fn backend_args(m: &str, out_dir: &str) -> Vec<String> {
    vec![
        format!("--module=obj/{m}.o"),
        format!("--index=lto/{m}.o.thinlto.bc"),
        format!("--imports=lto/{m}.o.imports"),
        format!("--import-pack=lto/{m}.o.pack"),
        format!("--out={out_dir}/{m}.o"),
        "--".into(),
        clang(),
        format!("--target={TARGET}"),
        "-O2".into(),
    ]
}

#[test]
fn worker_objects_equal_plain_processes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let modules = thin_linked(root);
    for m in modules {
        run(thinlto(root).arg("backend").args(backend_args(m, "plain")));
    }
    let mut worker = Worker::start(root, &[]);
    let mut no_server = Worker::start(root, &["--no-clang-server"]);
    for (k, m) in modules.iter().enumerate() {
        for (w, out) in [(&mut worker, "served"), (&mut no_server, "spawned")] {
            let r = w.run(backend_args(m, out), k as i32 + 1);
            assert_eq!((r.exit_code, r.output.as_str()), (0, ""), "backend of {m} in the {out} worker");
            let (plain, other) = (root.join(format!("plain/{m}.o")), root.join(format!("{out}/{m}.o")));
            assert!(std::fs::read(&plain).unwrap() == std::fs::read(&other).unwrap(), "{m}: {out} object differs");
        }
    }
    let clang_exe = std::fs::canonicalize(thinlto::command::find_program(&clang()).expect("clang on PATH")).unwrap();
    assert_eq!(worker.children(), vec![clang_exe.clone()], "the worker's clang server");
    assert_eq!(no_server.children(), Vec::<std::path::PathBuf>::new());
    assert_eq!(worker.finish(), "", "the worker logged something");
    assert_eq!(no_server.finish(), "");

    // The program links from the served objects and runs.
    for m in modules {
        std::fs::copy(root.join(format!("served/{m}.o")), root.join(format!("lto/{m}.o"))).unwrap();
    }
    run(thinlto(root).args(["link", "--manifest=lto/manifest.json", "--params=lto/final.params"]));
    run(&mut Command::new(root.join("bin/prog")));
}

#[test]
fn worker_reports_each_request_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    thin_linked(root);
    let args = |out: &str| backend_args("a", out);
    let mut worker = Worker::start(root, &[]);

    let missing: Vec<String> =
        args("out").into_iter().map(|a| a.replace("--module=obj/a.o", "--module=obj/gone.o")).collect();
    let r = worker.run(missing, 1);
    assert_eq!(r.exit_code, 1);
    // The request's own error, named, and nothing else in its output.
    assert!(r.output.starts_with("thinlto: error: ") && r.output.contains("'obj/gone.o'"), "{}", r.output);
    assert_eq!(r.output.lines().count(), 1, "{}", r.output);

    let mut bad_flag = args("out");
    bad_flag.push("-fno-such-flag".into());
    let r = worker.run(bad_flag, 2);
    assert_eq!(r.exit_code, 1);
    assert!(
        r.output.contains("failed (exit status: 1)") && r.output.contains("unknown argument: '-fno-such-flag'"),
        "{}",
        r.output
    );

    // clang's warnings on a successful compile reach the action's output.
    let mut warns = args("out");
    warns.extend(["-Wl,unused".into(), "-Wunused-command-line-argument".into()]);
    let r = worker.run(warns, 3);
    assert_eq!(r.exit_code, 0);
    assert!(r.output.contains("warning: -Wl,unused: 'linker' input unused"), "{}", r.output);

    let r = worker.run(vec!["--no-such-option".into()], 4);
    assert_eq!(r.exit_code, 2, "{}", r.output);
    assert!(r.output.contains("unexpected argument '--no-such-option'"), "{}", r.output);

    // The worker (and its server) carry on.
    let r = worker.run(args("out"), 5);
    assert_eq!((r.exit_code, r.output.as_str()), (0, ""));
    assert!(root.join("out/a.o").is_file());
    assert_eq!(worker.finish(), "");
}

#[test]
fn clang_server_compiles_as_clang_does() {
    let library = thinlto::clang_server::library().unwrap().expect(NO_SERVER);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("src/f.c"), "#ifndef V\n#define V 1\n#endif\nint f(int x) { int unused; return x * V; }\n");
    let argv = |out: &str| -> Vec<String> {
        [clang().as_str(), "-O2", "-Wunused-variable", "-c", "src/f.c", "-o", out].map(String::from).to_vec()
    };
    let plain = run(Command::new(clang()).current_dir(root).args(&argv("plain.o")[1..]));
    let mut server = thinlto::clang_server::Server::start(&clang(), std::os::fd::AsFd::as_fd(&library), None).unwrap();
    for k in 0..3 {
        let served = server.run(&argv(&format!("served{k}.o")), root).unwrap();
        assert!(served.status.success());
        assert_eq!(served.stderr, plain.stderr, "the same warning");
        assert!(String::from_utf8_lossy(&served.stderr).contains("unused variable 'unused'"));
        assert!(
            std::fs::read(root.join("plain.o")).unwrap() == std::fs::read(root.join(format!("served{k}.o"))).unwrap()
        );
    }
    // stdout, a failing compile's status, and the working directory are the request's.
    let version = server.run(&[clang(), "--version".into()], root).unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains("clang version"), "{version:?}");
    let failed = server.run(&[clang(), "-c".into(), "src/none.c".into()], root).unwrap();
    assert_eq!(failed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("no such file or directory: 'src/none.c'"));
    let elsewhere =
        server.run(&[clang(), "-c".into(), "f.c".into(), "-o".into(), "../g.o".into()], &root.join("src")).unwrap();
    assert!(elsewhere.status.success() && root.join("g.o").is_file());
    assert!(server.run(&[clang(), "--version".into()], &root.join("no-such-dir")).is_err());
    // A crashing compile fails as it does in a plain process, and the server carries on.
    write(&root.join("src/crash.c"), "#pragma clang __debug crash\n");
    let crash = [clang().as_str(), "-fno-crash-diagnostics", "-c", "src/crash.c", "-o", "crash.o"].map(String::from);
    let plain = Command::new(clang()).current_dir(root).args(&crash[1..]).output().unwrap();
    let served = server.run(&crash, root).unwrap();
    assert!(!plain.status.success());
    assert_eq!(served.status, plain.status);
    assert!(server.run(&argv("after-crash.o"), root).unwrap().status.success());
}

#[test]
fn clang_server_ends_with_its_worker() {
    assert!(thinlto::clang_server::available(), "{NO_SERVER}");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    thin_linked(root);
    let mut worker = Worker::start(root, &[]);
    assert_eq!(worker.run(backend_args("main", "out"), 1).exit_code, 0);
    let servers = worker.child_pids();
    assert_eq!(servers.len(), 1, "one clang server: {servers:?}");
    let server = servers[0];
    worker.child.kill().unwrap();
    worker.child.wait().unwrap();
    let gone = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Gone, or a zombie nobody waits for (its parent, the worker, is dead: init reaps it).
        std::fs::read_to_string(format!("/proc/{server}/stat")).map_or(true, |s| s.contains(") Z "))
    });
    assert!(gone, "clang server {server} outlived its worker");
}

#[test]
fn a_dead_clang_server_is_replaced() {
    assert!(thinlto::clang_server::available(), "{NO_SERVER}");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    thin_linked(root);
    run(thinlto(root).arg("backend").args(backend_args("a", "plain")));
    let mut worker = Worker::start(root, &[]);
    assert_eq!(worker.run(backend_args("a", "one"), 1).exit_code, 0);
    let first = worker.child_pids();
    assert_eq!(first.len(), 1, "one clang server: {first:?}");
    let status = Command::new("kill").args(["-KILL", &first[0].to_string()]).status().unwrap();
    assert!(status.success());
    // The compile that finds the server dead runs in a plain process; the next gets a new server.
    let r = worker.run(backend_args("a", "two"), 2);
    assert_eq!((r.exit_code, r.output.as_str()), (0, ""));
    assert_eq!(worker.run(backend_args("a", "three"), 3).exit_code, 0);
    let second = worker.child_pids();
    assert!(!second.is_empty() && second != first, "{first:?} -> {second:?}");
    let plain = std::fs::read(root.join("plain/a.o")).unwrap();
    for out in ["one", "two", "three"] {
        assert!(std::fs::read(root.join(format!("{out}/a.o"))).unwrap() == plain, "{out}");
    }
    let log = worker.finish();
    assert!(log.contains("failed, compiling in a plain process (a new server next time)"), "{log}");
}

#[test]
fn a_compiler_wrapper_script_runs_in_plain_processes() {
    // Toolchains often name a script that runs the compiler (Bazel's cc_wrapper.sh, ccache-style
    // wrappers). Its interpreter must not become the server; the objects stay the compiler's.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    thin_linked(root);
    let wrapper = root.join("bin/cc-wrapper");
    write(&wrapper, format!("#!/bin/sh\nexec {} \"$@\"\n", clang()));
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let wrapped = |out: &str| -> Vec<String> {
        let mut a = backend_args("a", out);
        let at = a.iter().position(|x| *x == clang()).unwrap();
        a[at] = "bin/cc-wrapper".into();
        a
    };
    run(thinlto(root).arg("backend").args(wrapped("plain")));
    let mut worker = Worker::start(root, &[]);
    for (k, out) in ["one", "two"].iter().enumerate() {
        let r = worker.run(wrapped(out), k as i32 + 1);
        assert_eq!((r.exit_code, r.output.as_str()), (0, ""), "{out}");
        assert!(
            std::fs::read(root.join(format!("{out}/a.o"))).unwrap() == std::fs::read(root.join("plain/a.o")).unwrap()
        );
    }
    assert_eq!(worker.children(), Vec::<std::path::PathBuf>::new(), "no server for a script");
    let log = worker.finish();
    assert!(log.contains("no clang server for '") && log.contains("bin/cc-wrapper' is a script"), "{log}");
}
