//! Paths relative to the exec root, the only kind of path the helper accepts
//! from a manifest, an `.imports` file or an index list.
//!
//! Backends run in directories that hold only their declared inputs, laid out
//! as in the exec root; an absolute path or a `..` would read outside that
//! layout, so it is rejected where it is read, naming the reason.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// A normalized, exec-root-relative path: no leading `/`, no `.` or `..`
/// components, no empty components, valid UTF-8, no NUL, CR or LF.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ExecPath(String);

/// Why a string is not an [`ExecPath`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExecPathError {
    #[error("empty path")]
    Empty,
    #[error("absolute path '{0}': paths must be relative to the exec root")]
    Absolute(String),
    #[error("path '{0}' escapes the exec root with '..'")]
    Escapes(String),
    #[error("path '{0}' is not normalized ('.' or empty component)")]
    NotNormalized(String),
    #[error("path {0:?} holds a control character (NUL, CR or LF)")]
    ControlCharacter(String),
}

impl ExecPath {
    pub fn new(s: &str) -> Result<Self, ExecPathError> {
        ExecPath::check(s)?;
        Ok(ExecPath(s.to_string()))
    }

    /// Whether `s` is a valid [`ExecPath`], with the error [`ExecPath::new`]
    /// would give, without allocating.
    pub fn check(s: &str) -> Result<(), ExecPathError> {
        if s.is_empty() {
            return Err(ExecPathError::Empty);
        }
        if s.contains(['\0', '\r', '\n']) {
            return Err(ExecPathError::ControlCharacter(s.to_string()));
        }
        if s.starts_with('/') {
            return Err(ExecPathError::Absolute(s.to_string()));
        }
        for part in s.split('/') {
            match part {
                ".." => return Err(ExecPathError::Escapes(s.to_string())),
                "" | "." => return Err(ExecPathError::NotNormalized(s.to_string())),
                _ => {}
            }
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn as_path(&self) -> &Path {
        Path::new(&self.0)
    }

    /// The path under `root` (a directory on disk standing for the exec root).
    pub fn under(&self, root: &Path) -> PathBuf {
        if root == Path::new(".") {
            PathBuf::from(&self.0)
        } else {
            root.join(&self.0)
        }
    }

    /// This path with `suffix` appended to its last component.
    pub fn with_suffix(&self, suffix: &str) -> ExecPath {
        ExecPath(format!("{}{}", self.0, suffix))
    }

    /// `dir/self`.
    pub fn prefixed(&self, dir: &ExecDir) -> ExecPath {
        match dir.as_str() {
            "" => self.clone(),
            d => ExecPath(format!("{d}/{}", self.0)),
        }
    }

    /// The rest of this path below `dir`, or `None` if it is not below it.
    pub fn strip_dir(&self, dir: &ExecDir) -> Option<ExecPath> {
        match dir.as_str() {
            "" => Some(self.clone()),
            d => self.0.strip_prefix(d).and_then(|rest| rest.strip_prefix('/')).map(|rest| ExecPath(rest.to_string())),
        }
    }

    pub fn parent(&self) -> ExecDir {
        match self.0.rsplit_once('/') {
            Some((dir, _)) => ExecDir(dir.to_string()),
            None => ExecDir(String::new()),
        }
    }
}

impl fmt::Display for ExecPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ExecPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ExecPath::check(&s).map_err(serde::de::Error::custom)?;
        Ok(ExecPath(s))
    }
}

impl TryFrom<&str> for ExecPath {
    type Error = ExecPathError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        ExecPath::new(s)
    }
}

/// An exec-root-relative directory; the empty string is the exec root itself.
/// A trailing `/` is accepted and dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ExecDir(String);

impl ExecDir {
    pub fn new(s: &str) -> Result<Self, ExecPathError> {
        let trimmed = s.strip_suffix('/').unwrap_or(s);
        if trimmed.is_empty() {
            return Ok(ExecDir(String::new()));
        }
        ExecPath::new(trimmed).map(|p| ExecDir(p.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form lld's `--thinlto-prefix-replace` wants: empty, or ending in `/`.
    pub fn as_prefix(&self) -> String {
        if self.0.is_empty() {
            String::new()
        } else {
            format!("{}/", self.0)
        }
    }

    pub fn under(&self, root: &Path) -> PathBuf {
        if self.0.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&self.0)
        }
    }
}

impl fmt::Display for ExecDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str(".")
        } else {
            f.write_str(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for ExecDir {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ExecDir::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_relative_paths() {
        let p = ExecPath::new("bazel-out/k8-opt/bin/a/b.o").unwrap();
        assert_eq!(p.as_str(), "bazel-out/k8-opt/bin/a/b.o");
        assert_eq!(p.parent().as_str(), "bazel-out/k8-opt/bin/a");
    }

    #[test]
    fn rejects_bad_paths() {
        assert_eq!(ExecPath::new(""), Err(ExecPathError::Empty));
        assert!(matches!(ExecPath::new("/abs/x.o"), Err(ExecPathError::Absolute(_))));
        assert!(matches!(ExecPath::new("a/../../x.o"), Err(ExecPathError::Escapes(_))));
        assert!(matches!(ExecPath::new(".."), Err(ExecPathError::Escapes(_))));
        assert!(matches!(ExecPath::new("./x.o"), Err(ExecPathError::NotNormalized(_))));
        assert!(matches!(ExecPath::new("a//x.o"), Err(ExecPathError::NotNormalized(_))));
        assert!(matches!(ExecPath::new("x.o\r"), Err(ExecPathError::ControlCharacter(_))));
    }

    #[test]
    fn strips_and_prefixes_dirs() {
        let p = ExecPath::new("out/bin/a/b.o").unwrap();
        let bin = ExecDir::new("out/bin/").unwrap();
        let lto = ExecDir::new("out/bin/prog.lto").unwrap();
        let rel = p.strip_dir(&bin).unwrap();
        assert_eq!(rel.as_str(), "a/b.o");
        assert_eq!(rel.prefixed(&lto).as_str(), "out/bin/prog.lto/a/b.o");
        assert_eq!(p.strip_dir(&ExecDir::new("out/bi").unwrap()), None);
        assert_eq!(p.strip_dir(&ExecDir::default()), Some(p.clone()));
        assert_eq!(ExecDir::default().as_prefix(), "");
        assert_eq!(bin.as_prefix(), "out/bin/");
    }
}
