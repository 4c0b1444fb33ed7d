//! The bitcode manifest parser: any bytes give a manifest or an error, never a panic; a
//! manifest that parses renders its thin-link command line, and no two of its modules'
//! declared outputs share a path.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = thinlto::manifest::Manifest::from_json(text) {
        let _ = thinlto::final_link::thin_link_args(&m);
        let mut outputs = std::collections::HashSet::new();
        for b in m.bitcode() {
            let o = &b.module.outputs;
            for p in [&o.index, &o.imports, &o.object].into_iter().chain(&o.pack).chain(&o.plan) {
                assert!(outputs.insert(p.clone()), "validated manifest names output {p} twice");
            }
        }
    }
});
