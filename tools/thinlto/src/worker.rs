//! Bazel's persistent worker protocol: `thinlto backend --persistent_worker`
//! reads WorkRequests on stdin and answers WorkResponses on stdout, running
//! each request's arguments as `thinlto backend ARGS...` would, with their
//! compiles sent to a clang server ([`crate::clang_server`]).
//!
//! The protocol is the proto one (the default of every Bazel; JSON needs
//! `--experimental_worker_allow_json_protocol` in Bazel 4): messages are
//! length-delimited (a varint size, then the message), and only the fields
//! below are read or written; any other is skipped.
//!
//! ```text
//! WorkRequest  { repeated string arguments = 1; int32 request_id = 3; ... }
//! WorkResponse { int32 exit_code = 1; string output = 2; int32 request_id = 3; }
//! ```
//!
//! Requests run one at a time (a singleplex worker: Bazel starts as many
//! workers as it runs actions at once). What a request prints to stdout or
//! stderr, the request's own process included, is its response's `output`;
//! the protocol keeps a private copy of the worker's stdout.

use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The flag Bazel adds to a worker's command line.
pub const FLAG: &str = "--persistent_worker";

/// Turns off the clang server (a worker flag, so no action key changes):
/// `--worker_extra_flag=ThinLtoBackend=--no-clang-server`.
pub const NO_SERVER_FLAG: &str = "--no-clang-server";

/// If `args` (the process's, `argv[0]` first) ask for a worker, the fixed
/// arguments every request's are appended to (`argv[0]` and the subcommand)
/// and whether the clang server is off.
pub fn requested(args: &[String]) -> Option<(Vec<String>, bool)> {
    // Bazel appends the flag to the arguments before the param file; never one after `--`.
    if !args.iter().take_while(|a| *a != "--").any(|a| a == FLAG) {
        return None;
    }
    let no_server = args.iter().any(|a| a == NO_SERVER_FLAG);
    Some((args.iter().filter(|a| *a != FLAG && *a != NO_SERVER_FLAG).cloned().collect(), no_server))
}

/// Serves requests until stdin ends. `run` runs one command line (`prefix`
/// followed by the request's arguments) and returns its exit code; what it
/// prints goes into the response.
pub fn serve(prefix: &[String], no_server: bool, run: impl Fn(Vec<String>) -> u8) -> Result<()> {
    // The protocol gets its own copy of stdout; fd 1 and 2 point at the log
    // (Bazel's worker log is the worker's stderr) between requests.
    let protocol_out = File::from(dup(1)?);
    let log = File::from(dup(2)?);
    dup2(log.as_raw_fd(), 1)?;
    if !no_server {
        crate::clang_server::enable(Some(log.try_clone()?))?;
    }
    let mut capture = tempfile::tempfile().context("cannot create the worker's output file")?;
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(protocol_out);
    while let Some(message) = read_delimited(&mut input)? {
        let request = WorkRequest::decode(&message)?;
        capture.set_len(0)?;
        capture.seek(SeekFrom::Start(0))?;
        dup2(capture.as_raw_fd(), 1)?;
        dup2(capture.as_raw_fd(), 2)?;
        let mut argv = prefix.to_vec();
        argv.extend(request.arguments);
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(argv))).unwrap_or(1);
        std::io::stdout().flush()?;
        dup2(log.as_raw_fd(), 1)?;
        dup2(log.as_raw_fd(), 2)?;
        let mut printed = Vec::new();
        capture.seek(SeekFrom::Start(0))?;
        capture.read_to_end(&mut printed)?;
        let response = WorkResponse {
            exit_code: code as i32,
            output: String::from_utf8_lossy(&printed).into_owned(),
            request_id: request.request_id,
        };
        output.write_all(&delimited(&response.encode()))?;
        output.flush()?;
    }
    crate::clang_server::disable();
    Ok(())
}

fn dup(fd: i32) -> Result<OwnedFd> {
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) on a descriptor this process has; the new one is owned here.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        bail!("cannot duplicate file descriptor {fd}: {}", std::io::Error::last_os_error());
    }
    // SAFETY: `new` was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

fn dup2(from: i32, to: i32) -> Result<()> {
    // SAFETY: dup2 between descriptors this process has; `to` is 1 or 2, which stay open.
    if unsafe { libc::dup2(from, to) } < 0 {
        bail!("cannot redirect file descriptor {to}: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

#[derive(Debug, Default, PartialEq)]
pub struct WorkRequest {
    pub arguments: Vec<String>,
    pub request_id: i32,
}

#[derive(Debug, Default, PartialEq)]
pub struct WorkResponse {
    pub exit_code: i32,
    pub output: String,
    pub request_id: i32,
}

impl WorkRequest {
    pub fn decode(mut buf: &[u8]) -> Result<WorkRequest> {
        let mut req = WorkRequest::default();
        while !buf.is_empty() {
            let key = read_varint(&mut buf)?;
            let (field, wire) = (key >> 3, key & 7);
            match (field, wire) {
                (1, 2) => {
                    let bytes = read_len(&mut buf)?;
                    req.arguments
                        .push(String::from_utf8(bytes.to_vec()).context("WorkRequest: an argument is not UTF-8")?);
                }
                (3, 0) => req.request_id = read_varint(&mut buf)? as i32,
                (_, 0) => {
                    read_varint(&mut buf)?;
                }
                (_, 1) => skip(&mut buf, 8)?,
                (_, 2) => {
                    read_len(&mut buf)?;
                }
                (_, 5) => skip(&mut buf, 4)?,
                _ => bail!("WorkRequest: unsupported wire type {wire} (field {field})"),
            }
        }
        Ok(req)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for a in &self.arguments {
            put_bytes(&mut out, 1, a.as_bytes());
        }
        if self.request_id != 0 {
            put_varint(&mut out, 3 << 3);
            put_varint(&mut out, self.request_id as i64 as u64);
        }
        out
    }
}

impl WorkResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.exit_code != 0 {
            put_varint(&mut out, 1 << 3);
            put_varint(&mut out, self.exit_code as i64 as u64); // int32: negative ones sign-extended
        }
        if !self.output.is_empty() {
            put_bytes(&mut out, 2, self.output.as_bytes());
        }
        if self.request_id != 0 {
            put_varint(&mut out, 3 << 3);
            put_varint(&mut out, self.request_id as i64 as u64);
        }
        out
    }

    pub fn decode(mut buf: &[u8]) -> Result<WorkResponse> {
        let mut resp = WorkResponse::default();
        while !buf.is_empty() {
            let key = read_varint(&mut buf)?;
            match (key >> 3, key & 7) {
                (1, 0) => resp.exit_code = read_varint(&mut buf)? as i32,
                (2, 2) => resp.output = String::from_utf8_lossy(read_len(&mut buf)?).into_owned(),
                (3, 0) => resp.request_id = read_varint(&mut buf)? as i32,
                (_, 0) => {
                    read_varint(&mut buf)?;
                }
                (_, 2) => {
                    read_len(&mut buf)?;
                }
                (f, w) => bail!("WorkResponse: unsupported field {f} wire type {w}"),
            }
        }
        Ok(resp)
    }
}

/// One length-delimited message, or None at a clean end of input.
pub fn read_delimited(input: &mut impl Read) -> Result<Option<Vec<u8>>> {
    let mut len: u64 = 0;
    for i in 0..10 {
        let mut b = [0u8; 1];
        if input.read(&mut b)? == 0 {
            if i == 0 {
                return Ok(None);
            }
            bail!("worker protocol: input ended inside a message length");
        }
        len |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            if len > (1 << 30) {
                bail!("worker protocol: message of {len} bytes");
            }
            let mut message = vec![0u8; len as usize];
            input.read_exact(&mut message).context("worker protocol: input ended inside a message")?;
            return Ok(Some(message));
        }
    }
    bail!("worker protocol: malformed message length")
}

pub fn delimited(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 5);
    put_varint(&mut out, message.len() as u64);
    out.extend_from_slice(message);
    out
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_varint(out, field << 3 | 2);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn read_varint(buf: &mut &[u8]) -> Result<u64> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some((&b, rest)) = buf.split_first() else { bail!("worker protocol: truncated varint") };
        *buf = rest;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    bail!("worker protocol: varint longer than 10 bytes")
}

fn read_len<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8]> {
    let len = read_varint(buf)?;
    if len > buf.len() as u64 {
        bail!("worker protocol: field of {len} bytes in {} left", buf.len());
    }
    let (field, rest) = buf.split_at(len as usize);
    *buf = rest;
    Ok(field)
}

fn skip(buf: &mut &[u8], n: usize) -> Result<()> {
    if buf.len() < n {
        bail!("worker protocol: truncated field");
    }
    *buf = &buf[n..];
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trip() {
        let req = WorkRequest { arguments: vec!["--module".into(), "a é.o".into(), String::new()], request_id: 7 };
        assert_eq!(WorkRequest::decode(&req.encode()).unwrap(), req);
    }

    #[test]
    fn request_fields_skipped() {
        // arguments "x"; inputs { path "p" digest "d" }; request_id 300; cancel false; verbosity 2; sandbox_dir "s"
        let mut m = Vec::new();
        put_bytes(&mut m, 1, b"x");
        put_bytes(&mut m, 2, &[0x0a, 1, b'p', 0x12, 1, b'd']);
        m.extend([3 << 3, 0xac, 0x02, 4 << 3, 0, 5 << 3, 2]);
        put_bytes(&mut m, 6, b"s");
        m.extend([7 << 3 | 5, 1, 2, 3, 4, 8 << 3 | 1, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(WorkRequest::decode(&m).unwrap(), WorkRequest { arguments: vec!["x".into()], request_id: 300 });
    }

    #[test]
    fn response_encoding() {
        // As protobuf writes it: defaults omitted, int32 -1 as ten bytes.
        assert_eq!(WorkResponse::default().encode(), Vec::<u8>::new());
        let r = WorkResponse { exit_code: 1, output: "hi".into(), request_id: 0 };
        assert_eq!(r.encode(), vec![0x08, 1, 0x12, 2, b'h', b'i']);
        let neg = WorkResponse { exit_code: -1, output: String::new(), request_id: 2 };
        assert_eq!(neg.encode().len(), 1 + 10 + 2);
        assert_eq!(WorkResponse::decode(&neg.encode()).unwrap(), neg);
    }

    #[test]
    fn delimited_stream() {
        let big = WorkRequest { arguments: vec!["a".repeat(300)], request_id: 0 };
        let mut stream = delimited(&big.encode());
        stream.extend(delimited(&[]));
        let mut r = &stream[..];
        assert_eq!(WorkRequest::decode(&read_delimited(&mut r).unwrap().unwrap()).unwrap(), big);
        assert_eq!(read_delimited(&mut r).unwrap().unwrap(), Vec::<u8>::new());
        assert!(read_delimited(&mut r).unwrap().is_none());
        let mut truncated = &delimited(b"abc")[..2];
        assert!(read_delimited(&mut truncated).is_err());
    }

    #[test]
    fn malformed_requests() {
        assert!(WorkRequest::decode(&[0x0a, 5, b'a']).is_err()); // field longer than the message
        assert!(WorkRequest::decode(&[0x08]).is_err()); // truncated varint
        assert!(WorkRequest::decode(&[0x0b]).is_err()); // wire type 3 (groups)
        assert!(WorkRequest::decode(&[0x0a, 1, 0xff]).is_err()); // not UTF-8
    }

    #[test]
    fn worker_flags() {
        let args: Vec<String> = ["thinlto", "backend", "--persistent_worker"].map(String::from).to_vec();
        assert_eq!(requested(&args), Some((vec!["thinlto".to_string(), "backend".to_string()], false)));
        let off: Vec<String> =
            ["thinlto", "backend", "--persistent_worker", "--no-clang-server"].map(String::from).to_vec();
        assert!(requested(&off).unwrap().1);
        assert_eq!(requested(&args[..2]), None);
        let compiler_flag: Vec<String> =
            ["thinlto", "backend", "--", "clang", "--persistent_worker"].map(String::from).to_vec();
        assert_eq!(requested(&compiler_flag), None);
    }
}
