//! Import packs: any bytes give a pack or an error naming the reason; a pack that parses
//! has sorted, exec-root-relative members whose bytes account for the whole input, and
//! checking its members' digests gives a verdict, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(pack) = thinlto::pack::Pack::parse(Path::new("fuzz.pack"), data.to_vec()) {
        let paths: Vec<_> = pack.paths().cloned().collect();
        assert!(paths.windows(2).all(|w| w[0] < w[1]));
        let mut member_bytes = 0;
        for p in &paths {
            assert!(!p.as_str().starts_with('/') && !p.as_str().split('/').any(|c| c == ".." || c.is_empty()));
            assert!(pack.contains(p));
            member_bytes += pack.get(p).expect("a listed member").len();
        }
        let header: usize = data.len() - member_bytes;
        assert!(data[..header].ends_with(b"\n\n"));
        if let Some((module, _)) = pack.module() {
            assert!(!module.as_str().starts_with('/'));
        }
        let _ = pack.verify_members(Path::new("fuzz.pack"));
    }
});
