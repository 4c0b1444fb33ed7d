//! Optimization remarks (src/remarks.rs), as `report` and `explain --why` read them from the
//! backends: any text gives remarks or an error naming a line of it, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match thinlto::remarks::parse(text) {
        Ok(remarks) => {
            for r in &remarks {
                if let Some(d) = thinlto::remarks::inline_decision(r) {
                    assert!(!d.reason.is_empty() || r.name.is_empty());
                }
                let _ = r.message();
            }
        }
        Err(e) => assert!(e.line >= 1 && e.line <= text.lines().count().max(1), "{e}"),
    }
});
