//! The archive reader behind `thinlto extract`: any bytes give members or an error; every
//! member range lies inside the input and every file name is plain and unique.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let archive = thinlto::execpath::ExecPath::new("fuzz.a").unwrap();
    if let Ok((code, _skipped)) = thinlto::extract::read_members(data, &archive) {
        let mut names = std::collections::BTreeSet::new();
        for m in &code {
            assert!(m.range.end <= data.len());
            assert!(!m.file_name.contains('/') && m.file_name != ".." && m.file_name != ".");
            assert!(names.insert(m.file_name.clone()), "duplicate file name {}", m.file_name);
        }
    }
});
