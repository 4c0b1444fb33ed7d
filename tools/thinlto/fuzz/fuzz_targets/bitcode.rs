//! The bitcode reader (src/bitcode.rs): a backend's index, which every backend now reads
//! before clang runs, and modules, which `report` reads. Any bytes give a result or an
//! error, never a panic; GUIDs the module reader computes are LLVM's for its names.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = thinlto::bitcode::read_index(data) {
        for s in &index.summaries {
            let _ = index.module_by_id(s.module);
        }
    }
    if let Ok(module) = thinlto::bitcode::read_module(data) {
        for d in &module.definitions {
            assert!(!d.name.is_empty());
            assert_eq!(d.guid, thinlto::bitcode::guid(&d.name, d.local, &module.source_filename));
        }
    }
});
