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
    for (line, raw) in split_lines(file, bytes)? {
        out.push(ExecPath::new(check_line(file, line, raw)?).expect("checked"));
    }
    Ok(out)
}

/// The raw lines of a list file, numbered from 1, unchecked but for the
/// file's last newline; check each with [`check_line`] unless it is known
/// good (for example equal to a path already checked), and check them in
/// order, so that the first bad line is the one reported.
pub fn split_lines<'a>(
    file: &Path,
    bytes: &'a [u8],
) -> Result<impl Iterator<Item = (usize, &'a [u8])> + 'a, LineListError> {
    let body = match bytes {
        [] => None,
        [body @ .., b'\n'] => Some(body),
        _ => return Err(LineListError::Truncated { file: file.to_path_buf() }),
    };
    Ok(body.into_iter().flat_map(|b| b.split(|&c| c == b'\n')).enumerate().map(|(i, raw)| (i + 1, raw)))
}

/// Checks line number `line` of a list file, `raw` without its newline.
pub fn check_line<'a>(file: &Path, line: usize, raw: &'a [u8]) -> Result<&'a str, LineListError> {
    let file = || file.to_path_buf();
    let text = std::str::from_utf8(raw).map_err(|_| LineListError::NotUtf8 { file: file(), line })?;
    if text.ends_with('\r') {
        return Err(LineListError::CarriageReturn { file: file(), line });
    }
    if text.is_empty() {
        return Err(LineListError::EmptyLine { file: file(), line });
    }
    ExecPath::check(text).map_err(|source| LineListError::BadPath { file: file(), line, source })?;
    Ok(text)
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

    #[test]
    fn splits_then_checks_line_by_line() {
        let f = Path::new("lto/m.o.imports");
        let lines: Vec<(usize, &[u8])> = split_lines(f, b"a.o\n\nb\r\n").unwrap().collect();
        assert_eq!(lines, [(1, &b"a.o"[..]), (2, &b""[..]), (3, &b"b\r"[..])]);
        assert_eq!(split_lines(f, b"").unwrap().count(), 0);
        assert!(matches!(split_lines(f, b"a.o"), Err(LineListError::Truncated { .. })));
        assert_eq!(check_line(f, 1, b"a.o").unwrap(), "a.o");
        assert_eq!(check_line(f, 2, b"").unwrap_err().to_string(), "'lto/m.o.imports' line 2: empty line");
        assert!(check_line(f, 3, b"b\r").unwrap_err().to_string().contains("line 3: carriage return"));
    }
}
