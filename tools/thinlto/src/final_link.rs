//! The final native link: the manifest's command line with every loaded
//! bitcode module replaced by its backend object, in its original place.
//!
//! Backend objects are always plain objects, never inside `--start-lib`:
//! once calls are inlined a member may no longer be referenced, and its
//! static constructors would silently vanish. Unloaded lazy modules are
//! dropped; native inputs stay where they were.

use crate::manifest::{Input, Manifest};
use crate::plan::Plan;
use crate::{atomic, command};
use anyhow::{Context, Result};
use std::collections::HashMap;

pub const START_LIB: &str = "-Wl,--start-lib";
pub const END_LIB: &str = "-Wl,--end-lib";

/// The thin link's driver arguments (everything after the driver, before the
/// index-only flags): inputs as the manifest orders them, minimized bitcode
/// where given.
pub fn thin_link_args(manifest: &Manifest) -> Vec<String> {
    let mut args = manifest.linker.flags.clone();
    let arg = |input: &Input| match input {
        Input::Bitcode(m) => m.thin_link.as_ref().unwrap_or(&m.path).to_string(),
        other => native_arg(other),
    };
    for input in &manifest.inputs {
        match input {
            Input::StartLib(group) => {
                args.push(START_LIB.to_string());
                args.extend(group.members.iter().map(arg));
                args.push(END_LIB.to_string());
            }
            other => args.push(arg(other)),
        }
    }
    args.extend(manifest.linker.post_flags.iter().cloned());
    args
}

/// The argument of an input that is not bitcode: the same in both links.
fn native_arg(input: &Input) -> String {
    match input {
        Input::Object(n) | Input::Archive(n) => n.path.to_string(),
        Input::Library(l) => l.flag.clone(),
        // What it stands for until Manifest::load replaces it by its members.
        Input::Extracted(x) => x.archive.to_string(),
        Input::Bitcode(_) | Input::StartLib(_) => {
            unreachable!("validated: bitcode is handled apart, groups do not nest")
        }
    }
}

/// The final link's driver arguments, without `-o`.
pub fn final_link_args(manifest: &Manifest, plan: &Plan) -> Vec<String> {
    let objects: HashMap<&str, Option<&str>> =
        plan.modules.iter().map(|m| (m.module.as_str(), m.loaded.then_some(m.object.as_str()))).collect();
    let backend_object =
        |m: &crate::manifest::Module| objects.get(m.path.as_str()).copied().flatten().map(str::to_string);

    let mut args = manifest.linker.flags.clone();
    for input in &manifest.inputs {
        match input {
            Input::Bitcode(m) => args.extend(backend_object(m)),
            Input::Object(_) | Input::Archive(_) | Input::Library(_) | Input::Extracted(_) => {
                args.push(native_arg(input))
            }
            Input::StartLib(group) => {
                let mut open = false;
                for member in &group.members {
                    match member {
                        Input::Bitcode(m) => {
                            if let Some(obj) = backend_object(m) {
                                if open {
                                    args.push(END_LIB.to_string());
                                    open = false;
                                }
                                args.push(obj);
                            }
                        }
                        other => {
                            if !open {
                                args.push(START_LIB.to_string());
                                open = true;
                            }
                            args.push(native_arg(other));
                        }
                    }
                }
                if open {
                    args.push(END_LIB.to_string());
                }
            }
        }
    }
    args.extend(manifest.linker.post_flags.iter().cloned());
    args
}

/// Runs the final link into a temporary file next to the output, then moves it into place.
pub fn link(m: &Manifest, exec_root: &std::path::Path, params: &std::path::Path) -> Result<()> {
    let out_disk = m.output.under(exec_root);
    let tmp = m.output.with_suffix(".thinlto-tmp");
    let out_dir = m.output.parent().under(exec_root);
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create directory '{}'", out_dir.display()))?;
    let argv = vec![m.linker.driver.clone(), format!("@{}", params.display()), "-o".to_string(), tmp.to_string()];
    let result = command::run(&argv, Some(exec_root), "final link").and_then(|ran| {
        eprint!("{}", ran.stderr);
        let meta = std::fs::metadata(tmp.under(exec_root)).context("final link wrote no output")?;
        anyhow::ensure!(meta.len() > 0, "final link wrote an empty '{}'", m.output);
        atomic::rename(&tmp.under(exec_root), &out_disk)
    });
    if result.is_err() {
        std::fs::remove_file(tmp.under(exec_root)).ok();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execpath::ExecPath;
    use crate::plan::ModulePlan;

    fn bitcode(path: &str, rest: &str) -> String {
        format!(
            r#"{{"kind": "bitcode", "path": "{path}", "outputs": {{"index": "lto/{rest}.thinlto.bc", "imports": "lto/{rest}.imports", "object": "lto/{rest}"}}"#
        )
    }

    fn manifest() -> Manifest {
        Manifest::from_json(&format!(
            r#"{{"version": 2, "output": "bin/prog",
                "linker": {{"driver": "clang-22", "flags": ["-fuse-ld=lld"], "post_flags": ["-lm"]}},
                "inputs": [
                  {main}, "thin_link": "obj/main.indexing.o"}},
                  {{"kind": "object", "path": "obj/native.o"}},
                  {{"kind": "start_lib", "members": [
                    {{"kind": "object", "path": "obj/lib/n1.o"}},
                    {used}}},
                    {unused}}},
                    {{"kind": "object", "path": "obj/lib/n2.o"}}
                  ]}},
                  {{"kind": "archive", "path": "sys/libstd.rlib"}},
                  {{"kind": "library", "flag": "-lpthread"}}
                ]}}"#,
            main = bitcode("obj/main.o", "main.o"),
            used = bitcode("obj/lib/used.o", "lib/used.o"),
            unused = bitcode("obj/lib/unused.o", "lib/unused.o"),
        ))
        .unwrap()
    }

    fn module(path: &str, loaded: bool) -> ModulePlan {
        let rest = path.strip_prefix("obj/").unwrap();
        ModulePlan {
            module: ExecPath::new(path).unwrap(),
            owner: None,
            loaded,
            index: ExecPath::new(&format!("lto/{rest}.thinlto.bc")).unwrap(),
            imports_file: ExecPath::new(&format!("lto/{rest}.imports")).unwrap(),
            object: ExecPath::new(&format!("lto/{rest}")).unwrap(),
            imports: vec![],
        }
    }

    #[test]
    fn thin_link_uses_minimized_files_and_keeps_groups() {
        assert_eq!(
            thin_link_args(&manifest()),
            [
                "-fuse-ld=lld",
                "obj/main.indexing.o",
                "obj/native.o",
                START_LIB,
                "obj/lib/n1.o",
                "obj/lib/used.o",
                "obj/lib/unused.o",
                "obj/lib/n2.o",
                END_LIB,
                "sys/libstd.rlib",
                "-lpthread",
                "-lm"
            ]
        );
    }

    #[test]
    fn final_link_replaces_loaded_drops_unloaded_and_unwraps_backends() {
        let plan = Plan {
            version: crate::plan::VERSION,
            output: ExecPath::new("bin/prog").unwrap(),
            modules: vec![
                module("obj/main.o", true),
                module("obj/lib/used.o", true),
                module("obj/lib/unused.o", false),
            ],
        };
        assert_eq!(
            final_link_args(&manifest(), &plan),
            [
                "-fuse-ld=lld",
                "lto/main.o",
                "obj/native.o",
                START_LIB,
                "obj/lib/n1.o",
                END_LIB,
                "lto/lib/used.o",
                START_LIB,
                "obj/lib/n2.o",
                END_LIB,
                "sys/libstd.rlib",
                "-lpthread",
                "-lm"
            ]
        );
    }
}
