//! Parsers for the thin link's line-oriented outputs: `.imports` files and
//! the index list (`--thinlto-index-only=FILE`).
//!
//! lld writes one path per line, each ending in `\n`. Anything else (CRLF,
//! non-UTF-8, blank lines, absolute or escaping paths) means the file was not
//! written by the linker we ran, and is an error naming the file and line.

use crate::execpath::{ExecPath, ExecPathError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LineListError {
    #[error("cannot read '{file}': {source}")]
    Read { file: PathBuf, source: std::io::Error },
    #[error("'{file}' line {line}: not valid UTF-8")]
    NotUtf8 { file: PathBuf, line: usize },
    #[error("'{file}' line {line}: carriage return (CRLF line end); the linker writes LF only")]
    CarriageReturn { file: PathBuf, line: usize },
    #[error("'{file}' line {line}: empty line")]
    EmptyLine { file: PathBuf, line: usize },
    #[error("'{file}' line {line}: {source}")]
    BadPath { file: PathBuf, line: usize, source: ExecPathError },
    #[error("'{file}': last line has no newline (truncated file?)")]
    Truncated { file: PathBuf },
}

/// Parses the bytes of a list file; `file` is only used in messages.
pub fn parse(file: &Path, bytes: &[u8]) -> Result<Vec<ExecPath>, LineListError> {
    let mut out = Vec::new();
    if bytes.is_empty() {
        return Ok(out);
    }
    if !bytes.ends_with(b"\n") {
        return Err(LineListError::Truncated { file: file.to_path_buf() });
    }
    let body = &bytes[..bytes.len() - 1];
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let file = || file.to_path_buf();
        let text = std::str::from_utf8(raw).map_err(|_| LineListError::NotUtf8 { file: file(), line })?;
        if text.ends_with('\r') {
            return Err(LineListError::CarriageReturn { file: file(), line });
        }
        if text.is_empty() {
            return Err(LineListError::EmptyLine { file: file(), line });
        }
        let path = ExecPath::new(text).map_err(|source| LineListError::BadPath { file: file(), line, source })?;
        out.push(path);
    }
    Ok(out)
}

/// Reads and parses a list file at `file` (relative to the current directory or absolute).
pub fn read(file: &Path) -> Result<Vec<ExecPath>, LineListError> {
    let bytes = std::fs::read(file).map_err(|source| LineListError::Read { file: file.to_path_buf(), source })?;
    parse(file, &bytes)
}

/// The bytes of a list file: one path per line, each ending in `\n`.
pub fn render<'a>(paths: impl IntoIterator<Item = &'a ExecPath>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in paths {
        out.extend_from_slice(p.as_str().as_bytes());
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(bytes: &[u8]) -> Result<Vec<String>, String> {
        parse(Path::new("lto/m.o.imports"), bytes)
            .map(|v| v.into_iter().map(|p| p.as_str().to_string()).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn parses_linker_output() {
        assert_eq!(p(b"").unwrap(), Vec::<String>::new());
        assert_eq!(p(b"obj/a.o\nobj/b/c.o\n").unwrap(), vec!["obj/a.o", "obj/b/c.o"]);
    }

    #[test]
    fn round_trips() {
        let paths = vec![ExecPath::new("x/y.o").unwrap(), ExecPath::new("z.o").unwrap()];
        assert_eq!(parse(Path::new("f"), &render(&paths)).unwrap(), paths);
    }

    #[test]
    fn names_file_line_and_reason() {
        assert_eq!(
            p(b"obj/a.o\n/abs/b.o\n").unwrap_err(),
            "'lto/m.o.imports' line 2: absolute path '/abs/b.o': paths must be relative to the exec root"
        );
        assert_eq!(
            p(b"../x.o\n").unwrap_err(),
            "'lto/m.o.imports' line 1: path '../x.o' escapes the exec root with '..'"
        );
        assert_eq!(
            p(b"obj/a.o\r\n").unwrap_err(),
            "'lto/m.o.imports' line 1: carriage return (CRLF line end); the linker writes LF only"
        );
        assert_eq!(p(b"a.o\n\xff\xfe\n").unwrap_err(), "'lto/m.o.imports' line 2: not valid UTF-8");
        assert_eq!(p(b"a.o\n\nb.o\n").unwrap_err(), "'lto/m.o.imports' line 2: empty line");
        assert_eq!(p(b"a.o\nb.o").unwrap_err(), "'lto/m.o.imports': last line has no newline (truncated file?)");
    }
}
