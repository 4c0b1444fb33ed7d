//! The bitcode manifest parser: any bytes give a manifest or an error, never a panic; a
//! manifest that parses lays out its link without panicking either.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = thinlto::manifest::Manifest::from_json(text) {
        let _ = thinlto::final_link::thin_link_args(&m);
        for b in m.bitcode() {
            let files = thinlto::layout::module_files(&m.prefix_replace, &m.prefix_replace.new, b.path);
            assert!(files.is_some(), "validated manifest has a module outside prefix_replace.old");
        }
    }
});
