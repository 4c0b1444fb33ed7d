//! The plan JSON (read by the Buck2 rules' dynamic actions and by `explain`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(plan) = serde_json::from_slice::<thinlto::plan::Plan>(data) {
        let _ = thinlto::explain::explain(&plan);
        let again: thinlto::plan::Plan = serde_json::from_slice(&plan.to_json()).unwrap();
        assert_eq!(again, plan);
    }
});
