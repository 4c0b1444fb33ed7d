//! The bitcode manifest: one link, described by the build system.
//!
//! Inputs keep their command-line order. Every path is exec-root relative.
//! Each bitcode module names the files the steps after the thin link write
//! for it (its index, imports list, backend object, and optionally its import
//! pack and its own plan): the build system declares them, the helper writes
//! them, and no one derives one path from another.
//!
//! Unknown fields and wrong types are errors, so a rule set and a helper of
//! different versions never half-understand each other.

use crate::execpath::{ExecDir, ExecPath};
use anyhow::{bail, Context, Result};
use rustc_hash::FxHashSet as HashSet;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const VERSION: u32 = 2;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Must be [`VERSION`].
    pub version: u32,
    /// The final linked output.
    pub output: ExecPath,
    pub linker: Linker,
    /// The link's inputs, in command-line order.
    pub inputs: Vec<Input>,
    /// The `outputs` directories of the extracted archives [`Manifest::load`]
    /// replaced: the thin link creates them even when nothing goes in them.
    #[serde(skip)]
    pub extracted_outputs: Vec<ExecDir>,
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

/// One position on the link command line.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    /// A ThinLTO bitcode module: gets an index and a backend.
    Bitcode(Module),
    /// A native object: linked as it is.
    Object(Native),
    /// A native archive (`.a`, or an rlib of native code such as Rust's std).
    /// Archives holding bitcode must first be split with `thinlto extract`.
    Archive(Native),
    /// A library flag such as `-lpthread` or `-l:libfoo.a`.
    Library(Library),
    /// Archive semantics without an archive: members (bitcode modules and
    /// native objects only) are loaded only when they resolve an undefined
    /// symbol (`--start-lib ... --end-lib`).
    StartLib(StartLib),
    /// An archive split by `thinlto extract` before the link, for a build
    /// system that cannot know its members when it plans the link (Bazel):
    /// [`Manifest::load`] replaces it by its members.
    Extracted(Extracted),
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Module {
    pub path: ExecPath,
    /// Minimized bitcode for the thin link (`clang -fthin-link-bitcode=`),
    /// named `X.indexing.o` for `path` `X.o`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thin_link: Option<ExecPath>,
    /// The build target that produced it, for messages and reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub outputs: ModuleOutputs,
}

/// What the steps after the thin link write for one module, where the build
/// system declared it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ModuleOutputs {
    /// The thin link's index for the backend (`.thinlto.bc`).
    pub index: ExecPath,
    /// The thin link's imports list (`.imports`).
    pub imports: ExecPath,
    /// The backend's native object, which replaces the module in the final link.
    pub object: ExecPath,
    /// The bitcode of every module the imports list names, in one file
    /// (see [`crate::pack`]), for build systems that cannot discover inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<ExecPath>,
    /// This module's own plan (see [`crate::plan::Plan::module_json`]), for
    /// build systems that read a backend's inputs from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<ExecPath>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Native {
    pub path: ExecPath,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Library {
    pub flag: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StartLib {
    pub members: Vec<Input>,
}

/// An archive's members, as `thinlto extract` wrote them (its fragment lists
/// which are bitcode), in place of the archive: a `start_lib` group, or every
/// member with `whole`. Each bitcode member `M` is a module whose index,
/// imports list and pack the thin link writes to `outputs/M.thinlto.bc`,
/// `outputs/M.imports` and `outputs/M.pack`, and whose backend object goes to
/// `objects/M`: directories the build system declared.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Extracted {
    pub archive: ExecPath,
    /// The fragment `thinlto extract` wrote for it.
    pub fragment: ExecPath,
    /// Where `thinlto extract` wrote the members.
    pub members: ExecDir,
    /// Link every member, as `--whole-archive` would.
    #[serde(default)]
    pub whole: bool,
    pub outputs: ExecDir,
    pub objects: ExecDir,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl Extracted {
    /// The manifest inputs that stand for the archive: its members, each
    /// bitcode member with its outputs in `outputs` and `objects`.
    pub fn members(&self, exec_root: &Path) -> Result<Vec<Input>> {
        let fragment = crate::extract::Fragment::read(&self.fragment.under(exec_root))
            .with_context(|| format!("archive '{}'", self.archive))?;
        if fragment.archive != self.archive {
            bail!("fragment '{}' describes archive '{}', not '{}'", self.fragment, fragment.archive, self.archive);
        }
        let mut members = Vec::with_capacity(fragment.members.len());
        for m in fragment.members {
            let Some(name) = m.path.strip_dir(&self.members).filter(|rest| !rest.as_str().contains('/')) else {
                bail!(
                    "fragment '{}' lists member '{}', which is not a file of '{}'",
                    self.fragment,
                    m.path,
                    self.members
                );
            };
            let owner = self.owner.clone();
            members.push(if m.bitcode {
                Input::Bitcode(Module {
                    outputs: ModuleOutputs {
                        index: name.with_suffix(".thinlto.bc").prefixed(&self.outputs),
                        imports: name.with_suffix(".imports").prefixed(&self.outputs),
                        pack: Some(name.with_suffix(".pack").prefixed(&self.outputs)),
                        object: name.prefixed(&self.objects),
                        plan: None,
                    },
                    path: m.path,
                    thin_link: None,
                    owner,
                })
            } else {
                Input::Object(Native { path: m.path, owner })
            });
        }
        Ok(members)
    }
}

/// The suffix pair of lld's `--thinlto-object-suffix-replace`.
pub const THIN_LINK_SUFFIX: &str = ".indexing.o";
pub const OBJECT_SUFFIX: &str = ".o";

/// A bitcode module of the link, wherever it stands on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BitcodeModule<'a> {
    pub module: &'a Module,
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

    /// Reads the manifest at `path` and replaces each extracted archive by its
    /// members, as its fragment (relative to `exec_root`) lists them.
    pub fn load(path: &Path, exec_root: &Path) -> Result<Manifest> {
        let mut m = Manifest::read(path)?;
        if !m.inputs.iter().any(|i| matches!(i, Input::Extracted(_))) {
            return Ok(m);
        }
        let mut inputs = Vec::with_capacity(m.inputs.len());
        for input in m.inputs {
            match input {
                Input::Extracted(x) => {
                    let members = x.members(exec_root).with_context(|| format!("manifest '{}'", path.display()))?;
                    m.extracted_outputs.push(x.outputs.clone());
                    if x.whole {
                        inputs.extend(members);
                    } else if !members.is_empty() {
                        inputs.push(Input::StartLib(StartLib { members }));
                    }
                }
                other => inputs.push(other),
            }
        }
        m.inputs = inputs;
        m.validate().with_context(|| format!("invalid manifest '{}'", path.display()))?;
        Ok(m)
    }

    /// Every bitcode module, in command-line order.
    pub fn bitcode(&self) -> Vec<BitcodeModule<'_>> {
        let mut out = Vec::new();
        for input in &self.inputs {
            match input {
                Input::Bitcode(module) => out.push(BitcodeModule { module, lazy: false }),
                Input::StartLib(group) => out.extend(group.members.iter().filter_map(|m| match m {
                    Input::Bitcode(module) => Some(BitcodeModule { module, lazy: true }),
                    _ => None,
                })),
                _ => {}
            }
        }
        out
    }

    /// Whether `path` is a native object of the link (outside or inside a start_lib group).
    pub fn is_native_object(&self, path: &str) -> bool {
        let object = |i: &Input| matches!(i, Input::Object(n) if n.path.as_str() == path);
        self.inputs.iter().any(|i| match i {
            Input::StartLib(group) => group.members.iter().any(object),
            other => object(other),
        })
    }

    /// Whether any bitcode module has a minimized thin-link file.
    pub fn uses_thin_link_files(&self) -> bool {
        self.bitcode().iter().any(|m| m.module.thin_link.is_some())
    }

    fn validate(&self) -> Result<()> {
        if self.version != VERSION {
            bail!("manifest version {} is not supported (this helper reads version {VERSION})", self.version);
        }
        if self.linker.driver.is_empty() {
            bail!("linker.driver is empty");
        }
        let mut flat: Vec<&Input> = Vec::new();
        for input in &self.inputs {
            flat.push(input);
            if let Input::StartLib(group) = input {
                for member in &group.members {
                    if !matches!(member, Input::Bitcode(_) | Input::Object(_)) {
                        bail!("a start_lib group holds only bitcode modules and objects, not {}", member.describe());
                    }
                    flat.push(member);
                }
            }
        }
        let mut inputs = HashSet::default();
        for input in flat {
            match input {
                Input::Bitcode(m) => {
                    if !inputs.insert(&m.path) {
                        bail!("bitcode module '{}' is listed twice", m.path);
                    }
                }
                Input::Object(n) | Input::Archive(n) => {
                    inputs.insert(&n.path);
                }
                Input::Extracted(x) => {
                    inputs.insert(&x.archive);
                }
                Input::Library(Library { flag }) => {
                    if !flag.starts_with("-l") || flag.len() < 3 {
                        bail!("library flag '{flag}' must look like '-lNAME' or '-l:FILE'");
                    }
                }
                Input::StartLib(_) => {}
            }
        }
        let mut outputs = HashSet::default();
        outputs.insert(&self.output);
        for b in self.bitcode() {
            let m = b.module;
            if let Some(t) = &m.thin_link {
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
            let o = &m.outputs;
            for p in [&o.index, &o.imports, &o.object].into_iter().chain(&o.pack).chain(&o.plan) {
                if inputs.contains(p) {
                    bail!("output '{p}' of bitcode module '{}' is also an input of the link", m.path);
                }
                if !outputs.insert(p) {
                    bail!("output '{p}' of bitcode module '{}' is named twice", m.path);
                }
            }
        }
        Ok(())
    }
}

impl Input {
    /// The input's kind and path, for messages.
    pub fn describe(&self) -> String {
        match self {
            Input::Bitcode(m) => format!("bitcode '{}'", m.path),
            Input::Object(n) => format!("object '{}'", n.path),
            Input::Archive(n) => format!("archive '{}'", n.path),
            Input::Library(l) => format!("library '{}'", l.flag),
            Input::StartLib(_) => "a start_lib group".to_string(),
            Input::Extracted(x) => format!("extracted archive '{}'", x.archive),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        r#"{
          "version": 2,
          "output": "bin/prog",
          "linker": {"driver": "clang-22", "flags": ["-fuse-ld=lld"]},
          "inputs": [
            {"kind": "bitcode", "path": "obj/main.o", "thin_link": "obj/main.indexing.o", "owner": "//:main",
             "outputs": {"index": "lto/main.o.thinlto.bc", "imports": "lto/main.o.imports", "object": "lto/main.o",
                         "pack": "lto/main.o.pack"}},
            {"kind": "object", "path": "obj/native.o"},
            {"kind": "start_lib", "members": [
              {"kind": "bitcode", "path": "obj/lib/used.o",
               "outputs": {"index": "lto/used.bc", "imports": "lto/used.imports", "object": "lto/used.o",
                           "plan": "lto/used.plan.json"}},
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
        let bc: Vec<_> = m.bitcode().iter().map(|b| (b.module.path.as_str().to_string(), b.lazy)).collect();
        assert_eq!(bc, vec![("obj/main.o".to_string(), false), ("obj/lib/used.o".to_string(), true)]);
        assert!(m.uses_thin_link_files());
        let again = Manifest::from_json(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(again.inputs, m.inputs);
    }

    fn err(text: &str) -> String {
        format!("{:#}", Manifest::from_json(text).unwrap_err())
    }

    #[test]
    fn rejects_unknown_fields_and_wrong_types() {
        let s = sample().replace("\"version\": 2,", "\"version\": 2, \"extra\": true,");
        assert!(err(&s).contains("unknown field `extra`"), "{}", err(&s));
        let s = sample().replace(
            "\"kind\": \"object\", \"path\": \"obj/native.o\"",
            "\"kind\": \"object\", \"path\": \"obj/native.o\", \"lazy\": 1",
        );
        assert!(err(&s).contains("unknown field `lazy`"), "{}", err(&s));
        let s = sample().replace("\"pack\": \"lto/main.o.pack\"", "\"pack\": \"lto/main.o.pack\", \"bundle\": \"x\"");
        assert!(err(&s).contains("unknown field `bundle`"), "{}", err(&s));
        let s = sample().replace("\"version\": 2", "\"version\": \"2\"");
        assert!(err(&s).contains("invalid type"), "{}", err(&s));
        let s = sample().replace("\"kind\": \"archive\"", "\"kind\": \"shared\"");
        assert!(err(&s).contains("unknown variant `shared`"), "{}", err(&s));
        let s =
            sample().replace("\"outputs\": {\"index\": \"lto/main.o.thinlto.bc\"", "\"outputz\": {\"index\": \"x\"");
        assert!(err(&s).contains("unknown field `outputz`"), "{}", err(&s));
    }

    #[test]
    fn rejects_bad_paths_and_shapes() {
        let s = sample().replace("obj/native.o", "/abs/native.o");
        assert!(err(&s).contains("absolute path '/abs/native.o'"), "{}", err(&s));
        let s = sample().replace("obj/native.o", "obj/../../native.o");
        assert!(err(&s).contains("escapes the exec root"), "{}", err(&s));
        let s = sample().replace("lto/main.o.pack", "../main.o.pack");
        assert!(err(&s).contains("escapes the exec root"), "{}", err(&s));
        let s = sample().replace("\"version\": 2", "\"version\": 1");
        assert!(err(&s).contains("version 1 is not supported"), "{}", err(&s));
        let s = sample().replace("obj/main.indexing.o", "obj/main.min.o");
        assert!(err(&s).contains("must be named like it"), "{}", err(&s));
        let s = sample().replace("obj/lib/used.o", "obj/main.o");
        assert!(err(&s).contains("listed twice"), "{}", err(&s));
        let s = sample().replace("-lpthread", "pthread");
        assert!(err(&s).contains("must look like '-lNAME'"), "{}", err(&s));
        let s = sample().replace("lto/used.o\"", "lto/main.o\"");
        assert!(
            err(&s).contains("output 'lto/main.o' of bitcode module 'obj/lib/used.o' is named twice"),
            "{}",
            err(&s)
        );
        let s = sample().replace("lto/used.imports", "obj/native.o");
        assert!(err(&s).contains("is also an input of the link"), "{}", err(&s));
        let s = sample().replace("lto/used.plan.json", "bin/prog");
        assert!(err(&s).contains("'bin/prog' of bitcode module 'obj/lib/used.o' is named twice"), "{}", err(&s));
        let s = sample().replace(
            "{\"kind\": \"object\", \"path\": \"obj/lib/native_member.o\"}",
            "{\"kind\": \"library\", \"flag\": \"-lm\"}",
        );
        assert!(err(&s).contains("holds only bitcode modules and objects, not library '-lm'"), "{}", err(&s));
    }
}
