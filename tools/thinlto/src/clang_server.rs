//! Compiles without a compiler process start-up each: a fork server made of
//! the compiler binary itself (`clang_server.c`, preloaded into it).
//!
//! A clang-22 process spends 16-19 ms of CPU starting (mapping and
//! relocating libLLVM and libclang-cpp, static constructors, page faults):
//! half of a typical small ThinLTO backend, whose compile takes ~15 ms. The server is that compiler, started once
//! and stopped at the entry to its own `main`; for each compile it forks a
//! child that calls the unmodified `main` with the compile's argv, working
//! directory and environment, so the child runs exactly the code and reaches
//! exactly the state a fresh `clang ...` process would (nothing a compile does
//! survives into the next: the server itself never calls `main`).
//!
//! Used by the persistent worker ([`crate::worker`]) only, and only where it
//! can be: [`run`] falls back to a plain process when the library could not be
//! built with the helper (no C compiler), the compiler does not take the
//! preload (not a dynamically linked glibc program, `LD_PRELOAD` not honoured)
//! or the server fails. A server is restarted when any file it has mapped
//! (the compiler, libLLVM, libclang-cpp, ...) changes on disk, so an upgraded
//! compiler is never served by the old one's code.

use crate::command::{self, Ran};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::Mutex;

/// The preload library, built by build.rs from `clang_server.c` (none if no C
/// compiler was found then).
#[cfg(not(thinlto_no_clang_server))]
const LIBRARY: Option<&[u8]> = Some(include_bytes!(concat!(env!("OUT_DIR"), "/libthinlto_clang_server.so")));
#[cfg(thinlto_no_clang_server)]
const LIBRARY: Option<&[u8]> = None;

/// The variable that turns the preloaded library into a server.
const MODE_ENV: &str = "THINLTO_CLANG_SERVER";
const HELLO: &str = "THINLTO-CLANG-SERVER 1\n";

/// Whether servers are used at all, and the ones running: one per compiler
/// (argv[0], exactly as a plain run would execute it).
static SERVERS: Mutex<Option<Servers>> = Mutex::new(None);

struct Servers {
    /// The library, in a memory file (nothing on disk to clean up).
    library: Option<OwnedFd>,
    /// Where a server's own messages go (the worker's log, not a request's output).
    log: Option<File>,
    by_compiler: HashMap<String, Slot>,
    /// How often each compiler's server failed: after [`MAX_FAILURES`] it is not restarted.
    failures: HashMap<String, u32>,
}

const MAX_FAILURES: u32 = 3;

enum Slot {
    Running(Server),
    /// Could not start, and why (said once, in the log).
    Unavailable,
}

/// Turns servers on for this process (the worker): from now on [`run`] sends
/// compiles to one. `log` receives the servers' own messages.
pub fn enable(log: Option<File>) -> Result<()> {
    let library = library()?;
    *SERVERS.lock().unwrap() = Some(Servers { library, log, by_compiler: HashMap::new(), failures: HashMap::new() });
    Ok(())
}

/// Stops every server and turns them off.
pub fn disable() {
    SERVERS.lock().unwrap().take();
}

/// A memory file (memfd, close-on-exec) holding `bytes`.
fn memory_file(bytes: &[u8]) -> Result<OwnedFd> {
    // SAFETY: memfd_create with a NUL-terminated name; the descriptor is owned here.
    let fd = unsafe { libc::memfd_create(c"thinlto-clang-server".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        bail!("cannot create a memory file for the clang server: {}", std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and is owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    File::from(fd.try_clone()?).write_all(bytes).context("cannot write the clang server's library")?;
    Ok(fd)
}

/// Whether this helper was built with the server library.
pub fn available() -> bool {
    LIBRARY.is_some()
}

/// The server library in a memory file, for [`Server::start`] (None if this
/// helper was built without it).
pub fn library() -> Result<Option<OwnedFd>> {
    LIBRARY.map(memory_file).transpose()
}

/// Runs the compile `argv` in `cwd` as [`command::run`] does, through a server
/// where servers are enabled and one can run, in a plain process otherwise.
pub fn run(argv: &[String], cwd: &Path, what: &str) -> Result<Ran> {
    let started = std::time::Instant::now();
    let served = {
        let mut guard = SERVERS.lock().unwrap();
        match guard.as_mut() {
            Some(servers) => servers.run(argv, cwd),
            None => None,
        }
    };
    match served {
        Some(output) => {
            crate::timings::add_tool_time(started.elapsed());
            command::finish(argv, what, output)
        }
        None => command::run(argv, Some(cwd), what),
    }
}

impl Servers {
    /// The compile's output, or None where it must run as a plain process.
    fn run(&mut self, argv: &[String], cwd: &Path) -> Option<Output> {
        let compiler = argv.first()?.clone();
        let library = self.library.as_ref()?;
        if let Some(Slot::Running(server)) = self.by_compiler.get_mut(&compiler) {
            if let Err(why) = server.still_current() {
                self.note(&format!("restarting the server for '{compiler}': {why:#}"));
                self.by_compiler.remove(&compiler);
            }
        }
        if !self.by_compiler.contains_key(&compiler) {
            let slot = match Server::start(&compiler, library.as_fd(), self.log.as_ref()) {
                Ok(server) => Slot::Running(server),
                Err(e) => {
                    self.note(&format!("no clang server for '{compiler}', compiling in plain processes: {e:#}"));
                    Slot::Unavailable
                }
            };
            self.by_compiler.insert(compiler.clone(), slot);
        }
        let Some(Slot::Running(server)) = self.by_compiler.get_mut(&compiler) else { return None };
        match server.run(argv, cwd) {
            Ok(output) => Some(output),
            Err(e) => {
                // The compile is repeated in a plain process: its outputs are rewritten whole.
                let failures = {
                    let n = self.failures.entry(compiler.clone()).or_default();
                    *n += 1;
                    *n
                };
                let retry = failures < MAX_FAILURES;
                let next = if retry { "a new server next time" } else { "no server any more" };
                self.note(&format!(
                    "clang server for '{compiler}' failed, compiling in a plain process ({next}): {e:#}"
                ));
                if retry {
                    self.by_compiler.remove(&compiler);
                } else {
                    self.by_compiler.insert(compiler, Slot::Unavailable);
                }
                None
            }
        }
    }

    fn note(&self, message: &str) {
        if let Some(mut log) = self.log.as_ref() {
            let _ = writeln!(log, "thinlto worker: {message}");
        }
    }
}

/// One running server.
pub struct Server {
    child: Child,
    requests: ChildStdin,
    responses: BufReader<ChildStdout>,
    /// Where the compiles' stdout and stderr go (the server's descriptors 3
    /// and 4, in append mode), emptied before each and read back after.
    stdout: File,
    stderr: File,
    /// Every file the server has mapped, as it was when the server started.
    mapped: Vec<(PathBuf, FileId)>,
}

#[derive(Debug, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
}

impl FileId {
    fn of(path: &Path) -> std::io::Result<FileId> {
        let m = std::fs::metadata(path)?;
        Ok(FileId { dev: m.dev(), ino: m.ino(), size: m.size(), mtime: (m.mtime(), m.mtime_nsec()) })
    }
}

impl Server {
    /// Starts `compiler` (found as a plain run would find it) with `library`
    /// preloaded and waits for its hello.
    pub fn start(compiler: &str, library: BorrowedFd, log: Option<&File>) -> Result<Server> {
        refuse_scripts(compiler)?;
        let stdout = tempfile::tempfile().context("cannot create the clang server's stdout file")?;
        let stderr = tempfile::tempfile().context("cannot create the clang server's stderr file")?;
        let mut cmd = Command::new(compiler);
        cmd.env("LD_PRELOAD", format!("/proc/self/fd/{LIBRARY_FD}"))
            .env(MODE_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        match log {
            Some(f) => cmd.stderr(f.try_clone().context("cannot share the log with the clang server")?),
            None => cmd.stderr(Stdio::inherit()),
        };
        let fds = [
            (append_mode(&stdout)?, OUT_FD),
            (append_mode(&stderr)?, ERR_FD),
            (library.try_clone_to_owned()?, LIBRARY_FD),
        ];
        let raw: [(i32, i32); 3] = [0, 1, 2].map(|k| (fds[k].0.as_raw_fd(), fds[k].1));
        // SAFETY: only fcntl, dup2 and close, which are async-signal-safe, between fork
        // and exec; `raw` holds descriptors this process keeps open until spawn returns.
        unsafe {
            cmd.pre_exec(move || {
                // Each source first to a free descriptor of its own (F_DUPFD never replaces
                // an open one), so that placing one cannot overwrite another's source.
                let mut moved = [0i32; 3];
                for (k, &(from, _)) in raw.iter().enumerate() {
                    moved[k] = libc::fcntl(from, libc::F_DUPFD, 10);
                    if moved[k] < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                for (k, &(_, to)) in raw.iter().enumerate() {
                    if libc::dup2(moved[k], to) < 0 || libc::close(moved[k]) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().with_context(|| format!("cannot run '{compiler}'"))?;
        drop(fds);
        let requests = child.stdin.take().expect("piped");
        let mut responses = BufReader::new(child.stdout.take().expect("piped"));
        let mut hello = String::new();
        let read = responses.read_line(&mut hello);
        if read.is_err() || hello != HELLO {
            let _ = child.kill();
            let _ = child.wait();
            bail!("'{compiler}' did not start as a server (does it load LD_PRELOAD libraries?)");
        }
        let mapped = mapped_files(child.id()).context("cannot list the server's mapped files")?;
        Ok(Server { child, requests, responses, stdout, stderr, mapped })
    }

    /// An error if a file the server has mapped is no longer the one on disk.
    fn still_current(&self) -> Result<()> {
        for (path, id) in &self.mapped {
            match FileId::of(path) {
                Ok(now) if &now == id => {}
                Ok(_) => bail!("'{}' changed", path.display()),
                Err(e) => bail!("'{}': {e}", path.display()),
            }
        }
        Ok(())
    }

    /// Runs one compile in a child of the server, with this process's
    /// environment; its stdout and stderr are returned as a plain run's.
    pub fn run(&mut self, argv: &[String], cwd: &Path) -> Result<Output> {
        let cwd = std::path::absolute(cwd).with_context(|| format!("cannot resolve '{}'", cwd.display()))?;
        let env: Vec<OsString> = std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k;
                kv.push("=");
                kv.push(v);
                kv
            })
            .collect();
        let mut fields: Vec<&[u8]> = Vec::with_capacity(3 + argv.len() + env.len());
        let (argc, envc) = (argv.len().to_string(), env.len().to_string());
        fields.push(cwd.as_os_str().as_bytes());
        fields.push(argc.as_bytes());
        fields.extend(argv.iter().map(|a| a.as_bytes()));
        fields.push(envc.as_bytes());
        fields.extend(env.iter().map(|e| e.as_bytes()));
        self.stdout.set_len(0)?;
        self.stderr.set_len(0)?;
        self.requests.write_all(&encode_request(&fields)).context("cannot send the compile to the server")?;
        let mut response = [0u8; 16];
        self.responses.read_exact(&mut response).context("the server did not answer")?;
        let status = i32::from_le_bytes(response[0..4].try_into().unwrap());
        let error = u32::from_le_bytes(response[4..8].try_into().unwrap());
        if error != 0 {
            let e = std::io::Error::from_raw_os_error(error as i32);
            bail!("the server could not start the compile in '{}': {e}", cwd.display());
        }
        Ok(Output {
            status: std::process::ExitStatus::from_raw(status),
            stdout: read_all(&self.stdout).context("cannot read the compile's stdout")?,
            stderr: read_all(&self.stderr).context("cannot read the compile's stderr")?,
        })
    }
}

/// An error if `compiler` (found as a plain run finds it) is a script: its interpreter would
/// become the server and be handed the compile's argv without the script's name, so a wrapper
/// such as `#!/bin/sh exec clang "$@"` runs in plain processes instead. (A wrapper that is a
/// program is served: its own `main` runs per compile and starts the real compiler afresh.)
fn refuse_scripts(compiler: &str) -> Result<()> {
    let Some(path) = command::find_program(compiler) else { return Ok(()) }; // not found: the start reports it
    let mut head = [0u8; 2];
    if File::open(&path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == b"#!" {
        bail!("'{}' is a script: its interpreter, not a compiler, would become the server", path.display());
    }
    Ok(())
}

/// Where the server finds the compiles' stdout and stderr files and the library.
const OUT_FD: i32 = 3;
const ERR_FD: i32 = 4;
const LIBRARY_FD: i32 = 5;

/// A new descriptor of `file` in append mode: every write lands at its end,
/// which is its start once it has been emptied.
fn append_mode(file: &File) -> Result<OwnedFd> {
    let path = format!("/proc/self/fd/{}", file.as_raw_fd());
    // Reopened rather than duplicated: O_APPEND belongs to the open file, not the descriptor.
    let reopened = File::options().append(true).open(&path).with_context(|| format!("cannot reopen '{path}'"))?;
    Ok(reopened.into())
}

fn read_all(file: &File) -> std::io::Result<Vec<u8>> {
    let len = file.metadata()?.len() as usize;
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, 0)?;
    Ok(buf)
}

impl Drop for Server {
    fn drop(&mut self) {
        // EOF on its stdin ends the server; kill it in case it is stuck.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// u32 count, then each field as u32 length + bytes (all little-endian).
fn encode_request(fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + fields.iter().map(|f| 4 + f.len()).sum::<usize>());
    out.extend((fields.len() as u32).to_le_bytes());
    for f in fields {
        out.extend((f.len() as u32).to_le_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// The files a process has mapped (its executable and libraries), with their
/// identity now; mappings of files already gone (memfds, say) are left out.
fn mapped_files(pid: u32) -> Result<Vec<(PathBuf, FileId)>> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let mut paths: Vec<&str> = maps.lines().filter_map(mapped_path).collect();
    paths.sort_unstable();
    paths.dedup();
    Ok(paths.into_iter().filter_map(|p| FileId::of(Path::new(p)).ok().map(|id| (PathBuf::from(p), id))).collect())
}

/// The path of one line of /proc/PID/maps (address, perms, offset, dev, inode, path),
/// if it maps a file that still exists.
fn mapped_path(line: &str) -> Option<&str> {
    let mut rest = line;
    for _ in 0..5 {
        rest = rest.trim_start();
        rest = &rest[rest.find(' ')?..];
    }
    let path = rest.trim_start();
    (path.starts_with('/') && !path.ends_with(" (deleted)")).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encoding() {
        let r = encode_request(&[b"/w", b"o", b"", b"1", b"clang", b"0"]);
        assert_eq!(&r[..4], &6u32.to_le_bytes());
        assert_eq!(&r[4..8], &2u32.to_le_bytes());
        assert_eq!(&r[8..10], b"/w");
        assert_eq!(r.len(), 4 + 6 * 4 + "/wo1clang0".len());
    }

    #[test]
    fn maps_lines() {
        let l = "7f00-7f10 r-xp 00001000 fe:01 1234                       /usr/lib/llvm-22/lib/libLLVM.so.22.1";
        assert_eq!(mapped_path(l), Some("/usr/lib/llvm-22/lib/libLLVM.so.22.1"));
        assert_eq!(mapped_path("7f00-7f10 rw-p 00000000 00:00 0 "), None);
        assert_eq!(mapped_path("7f00-7f10 rw-p 00000000 00:00 0                          [heap]"), None);
        assert_eq!(mapped_path("7f00-7f10 r--p 00000000 fe:01 9 /tmp/a b (deleted)"), None);
        assert_eq!(mapped_path("7f00-7f10 r--p 00000000 fe:01 9 /tmp/a b"), Some("/tmp/a b"));
    }

    #[test]
    fn own_mapped_files_are_current() {
        let files = mapped_files(std::process::id()).unwrap();
        assert!(files.iter().any(|(p, _)| p.to_string_lossy().contains("libc")), "{files:?}");
    }
}
