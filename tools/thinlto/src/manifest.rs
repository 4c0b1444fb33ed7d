//! The bitcode manifest: one link, described by the build system.
//!
//! Inputs keep their command-line order. Every path is exec-root relative.
//! Unknown fields and wrong types are errors, so a rule set and a helper of
//! different versions never half-understand each other.

use crate::execpath::{ExecDir, ExecPath};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Must be [`VERSION`].
    pub version: u32,
    /// The final linked output.
    pub output: ExecPath,
    pub linker: Linker,
    /// Where the thin link writes per-module files: a bitcode input
    /// `old/REST` gets `new/REST.thinlto.bc`, `new/REST.imports`, and its
    /// backend object `new/REST` (lld's `--thinlto-prefix-replace=old;new`).
    pub prefix_replace: PrefixReplace,
    /// The link's inputs, in command-line order.
    pub inputs: Vec<Input>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Linker {
    /// The compiler driver that links (for example `clang-22`), as a path or a
    /// name found on PATH. Toolchain paths may be absolute.
    pub driver: String,
    /// Flags before the inputs, for both the thin link and the final link
    /// (for example `-fuse-ld=lld`, `--target=...`).
    #[serde(default)]
    pub flags: Vec<String>,
    /// Flags after the inputs, for both links (for example `-lpthread`).
    #[serde(default)]
    pub post_flags: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixReplace {
    pub old: ExecDir,
    pub new: ExecDir,
}

/// One position on the link command line.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Input {
    /// A ThinLTO bitcode module: gets an index and a backend.
    Bitcode {
        path: ExecPath,
        /// Minimized bitcode for the thin link (`clang -fthin-link-bitcode=`),
        /// named `X.indexing.o` for `path` `X.o`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thin_link: Option<ExecPath>,
        /// The build target that produced it, for messages and reports.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
    },
    /// A native object: linked as it is.
    Object {
        path: ExecPath,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
    },
    /// A native archive (`.a`, or an rlib of native code such as Rust's std).
    /// Archives holding bitcode must first be split with `thinlto extract`.
    Archive {
        path: ExecPath,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
    },
    /// A library flag such as `-lpthread` or `-l:libfoo.a`.
    Library { flag: String },
    /// Archive semantics without an archive: members are loaded only when
    /// they resolve an undefined symbol (`--start-lib ... --end-lib`).
    StartLib { members: Vec<Member> },
}

/// A member of a `start_lib` group.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Member {
    Bitcode {
        path: ExecPath,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        thin_link: Option<ExecPath>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
    },
    Object {
        path: ExecPath,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
    },
}

/// The suffix pair of lld's `--thinlto-object-suffix-replace`.
pub const THIN_LINK_SUFFIX: &str = ".indexing.o";
pub const OBJECT_SUFFIX: &str = ".o";

/// A bitcode module of the link, wherever it stands on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitcodeModule<'a> {
    pub path: &'a ExecPath,
    pub thin_link: Option<&'a ExecPath>,
    pub owner: Option<&'a str>,
    /// True inside a `start_lib` group: the linker may leave it unloaded.
    pub lazy: bool,
}

impl Manifest {
    pub fn from_json(text: &str) -> Result<Manifest> {
        let m: Manifest = serde_json::from_str(text)?;
        m.validate()?;
        Ok(m)
    }

    pub fn read(path: &Path) -> Result<Manifest> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read manifest '{}'", path.display()))?;
        Manifest::from_json(&text).with_context(|| format!("invalid manifest '{}'", path.display()))
    }

    /// Every bitcode module, in command-line order.
    pub fn bitcode(&self) -> Vec<BitcodeModule<'_>> {
        let mut out = Vec::new();
        for input in &self.inputs {
            match input {
                Input::Bitcode { path, thin_link, owner } => out.push(BitcodeModule {
                    path,
                    thin_link: thin_link.as_ref(),
                    owner: owner.as_deref(),
                    lazy: false,
                }),
                Input::StartLib { members } => {
                    for m in members {
                        if let Member::Bitcode { path, thin_link, owner } = m {
                            out.push(BitcodeModule {
                                path,
                                thin_link: thin_link.as_ref(),
                                owner: owner.as_deref(),
                                lazy: true,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Whether any bitcode module has a minimized thin-link file.
    pub fn uses_thin_link_files(&self) -> bool {
        self.bitcode().iter().any(|m| m.thin_link.is_some())
    }

    fn validate(&self) -> Result<()> {
        if self.version != VERSION {
            bail!("manifest version {} is not supported (this helper reads version {VERSION})", self.version);
        }
        if self.linker.driver.is_empty() {
            bail!("linker.driver is empty");
        }
        let mut seen = HashSet::new();
        for m in self.bitcode() {
            if !seen.insert(m.path) {
                bail!("bitcode module '{}' is listed twice", m.path);
            }
            if m.path.strip_dir(&self.prefix_replace.old).is_none() {
                bail!("bitcode module '{}' is not under prefix_replace.old '{}'", m.path, self.prefix_replace.old);
            }
            if let Some(t) = m.thin_link {
                let expected =
                    m.path.as_str().strip_suffix(OBJECT_SUFFIX).map(|stem| format!("{stem}{THIN_LINK_SUFFIX}"));
                if expected.as_deref() != Some(t.as_str()) {
                    bail!(
                        "thin_link '{t}' of bitcode module '{}' must be named like it with '{OBJECT_SUFFIX}' \
                         replaced by '{THIN_LINK_SUFFIX}'",
                        m.path
                    );
                }
            }
        }
        if self.prefix_replace.old == self.prefix_replace.new {
            bail!(
                "prefix_replace.old and prefix_replace.new are both '{}': backend objects would overwrite the bitcode",
                self.prefix_replace.old
            );
        }
        for input in &self.inputs {
            if let Input::Library { flag } = input {
                if !flag.starts_with("-l") || flag.len() < 3 {
                    bail!("library flag '{flag}' must look like '-lNAME' or '-l:FILE'");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        r#"{
          "version": 1,
          "output": "bin/prog",
          "linker": {"driver": "clang-22", "flags": ["-fuse-ld=lld"]},
          "prefix_replace": {"old": "obj/", "new": "lto/"},
          "inputs": [
            {"kind": "bitcode", "path": "obj/main.o", "thin_link": "obj/main.indexing.o", "owner": "//:main"},
            {"kind": "object", "path": "obj/native.o"},
            {"kind": "start_lib", "members": [
              {"kind": "bitcode", "path": "obj/lib/used.o"},
              {"kind": "object", "path": "obj/lib/native_member.o"}
            ]},
            {"kind": "archive", "path": "sysroot/libstd.rlib"},
            {"kind": "library", "flag": "-lpthread"}
          ]
        }"#
        .to_string()
    }

    #[test]
    fn parses_and_lists_bitcode_in_order() {
        let m = Manifest::from_json(&sample()).unwrap();
        let bc: Vec<_> = m.bitcode().iter().map(|b| (b.path.as_str().to_string(), b.lazy)).collect();
        assert_eq!(bc, vec![("obj/main.o".to_string(), false), ("obj/lib/used.o".to_string(), true)]);
        assert!(m.uses_thin_link_files());
    }

    fn err(text: &str) -> String {
        format!("{:#}", Manifest::from_json(text).unwrap_err())
    }

    #[test]
    fn rejects_unknown_fields_and_wrong_types() {
        let s = sample().replace("\"version\": 1,", "\"version\": 1, \"extra\": true,");
        assert!(err(&s).contains("unknown field `extra`"), "{}", err(&s));
        let s = sample().replace(
            "\"kind\": \"object\", \"path\": \"obj/native.o\"",
            "\"kind\": \"object\", \"path\": \"obj/native.o\", \"lazy\": 1",
        );
        assert!(err(&s).contains("unknown field `lazy`"), "{}", err(&s));
        let s = sample().replace("\"version\": 1", "\"version\": \"1\"");
        assert!(err(&s).contains("invalid type"), "{}", err(&s));
        let s = sample().replace("\"kind\": \"archive\"", "\"kind\": \"shared\"");
        assert!(err(&s).contains("unknown variant `shared`"), "{}", err(&s));
    }

    #[test]
    fn rejects_bad_paths_and_shapes() {
        let s = sample().replace("obj/native.o", "/abs/native.o");
        assert!(err(&s).contains("absolute path '/abs/native.o'"), "{}", err(&s));
        let s = sample().replace("obj/native.o", "obj/../../native.o");
        assert!(err(&s).contains("escapes the exec root"), "{}", err(&s));
        let s = sample().replace("\"version\": 1", "\"version\": 7");
        assert!(err(&s).contains("version 7 is not supported"), "{}", err(&s));
        let s = sample().replace("obj/main.indexing.o", "obj/main.min.o");
        assert!(err(&s).contains("must be named like it"), "{}", err(&s));
        let s = sample().replace("obj/lib/used.o", "obj/main.o");
        assert!(err(&s).contains("listed twice"), "{}", err(&s));
        let s = sample().replace("\"old\": \"obj/\"", "\"old\": \"elsewhere/\"");
        assert!(err(&s).contains("is not under prefix_replace.old"), "{}", err(&s));
        let s = sample().replace("-lpthread", "pthread");
        assert!(err(&s).contains("must look like '-lNAME'"), "{}", err(&s));
    }
}
