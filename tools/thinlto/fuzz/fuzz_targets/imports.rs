//! `.imports` and index-list parsing: any bytes give paths or an error naming the line;
//! every path that parses is exec-root relative and renders back to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(paths) = thinlto::linelist::parse(Path::new("fuzz.imports"), data) {
        for p in &paths {
            assert!(!p.as_str().starts_with('/') && !p.as_str().split('/').any(|c| c == ".." || c.is_empty()));
        }
        assert_eq!(thinlto::linelist::render(&paths), data);
    }
});
