//! Where the thin link puts each module's files, the one naming rule every
//! step shares (lld's `--thinlto-prefix-replace=old;new`):
//!
//! | file | path for bitcode module `old/REST` |
//! |---|---|
//! | index | `new/REST.thinlto.bc` |
//! | imports list | `new/REST.imports` |
//! | backend object | `new/REST` |
//! | bundle (imports linked into a directory) | `new/REST.bundle/` |
//! | pack (imports' bitcode in one file) | `new/REST.pack` |

use crate::execpath::{ExecDir, ExecPath};
use crate::manifest::PrefixReplace;

pub const INDEX_SUFFIX: &str = ".thinlto.bc";
pub const IMPORTS_SUFFIX: &str = ".imports";
pub const BUNDLE_SUFFIX: &str = ".bundle";
pub const PACK_SUFFIX: &str = ".pack";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleFiles {
    pub index: ExecPath,
    pub imports: ExecPath,
    pub object: ExecPath,
    pub bundle: ExecPath,
    pub pack: ExecPath,
}

/// The files of `module` when the thin link writes below `new` (which may be
/// a staging directory rather than `prefix.new`).
pub fn module_files(prefix: &PrefixReplace, new: &ExecDir, module: &ExecPath) -> Option<ModuleFiles> {
    let object = module.strip_dir(&prefix.old)?.prefixed(new);
    Some(ModuleFiles {
        index: object.with_suffix(INDEX_SUFFIX),
        imports: object.with_suffix(IMPORTS_SUFFIX),
        bundle: object.with_suffix(BUNDLE_SUFFIX),
        pack: object.with_suffix(PACK_SUFFIX),
        object,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_module_files() {
        let prefix =
            PrefixReplace { old: ExecDir::new("out/bin").unwrap(), new: ExecDir::new("out/bin/p.lto").unwrap() };
        let f = module_files(&prefix, &prefix.new, &ExecPath::new("out/bin/a/m.o").unwrap()).unwrap();
        assert_eq!(f.index.as_str(), "out/bin/p.lto/a/m.o.thinlto.bc");
        assert_eq!(f.imports.as_str(), "out/bin/p.lto/a/m.o.imports");
        assert_eq!(f.object.as_str(), "out/bin/p.lto/a/m.o");
        assert_eq!(f.bundle.as_str(), "out/bin/p.lto/a/m.o.bundle");
        assert_eq!(f.pack.as_str(), "out/bin/p.lto/a/m.o.pack");
        assert_eq!(module_files(&prefix, &prefix.new, &ExecPath::new("src/m.o").unwrap()), None);
    }
}
