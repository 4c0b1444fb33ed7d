//! Opt-in timings for benchmarks: with `THINLTO_TIMINGS=<file>` in its
//! environment, each run appends one JSON line to that file, e.g.
//! `{"command":"backend","total_s":0.052,"tools_s":0.049,"module":"obj/m.o"}`:
//! its whole wall time and the part spent waiting for the toolchain (clang,
//! lld). The difference is the helper's own overhead. A backend's line names
//! its module, a thin link's or final link's the program it links
//! (`"output"`), so that `thinlto report --timings` can tell them apart.
//! Nothing is written otherwise, and the file is never an action output, so
//! outputs stay deterministic.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The variable naming the file to append to.
pub const ENV: &str = "THINLTO_TIMINGS";

static TOOLS_NANOS: AtomicU64 = AtomicU64::new(0);

/// What this run is about (`module`, `output`), for its line.
static SUBJECT: std::sync::Mutex<Vec<(&str, String)>> = std::sync::Mutex::new(Vec::new());

/// Names what this run is about in its line: `key` is `module` or `output`.
pub fn note(key: &'static str, value: &str) {
    if let Ok(mut s) = SUBJECT.lock() {
        s.push((key, value.to_string()));
    }
}

/// Adds the time a child process ran.
pub fn add_tool_time(d: Duration) {
    TOOLS_NANOS.fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
}

/// Appends this run's line if `THINLTO_TIMINGS` is set. Failure to write is
/// reported but does not fail the run: the timings are not an output.
pub fn record(command: &str, started: Instant) {
    let Some(path) = std::env::var_os(ENV) else { return };
    let mut subject = String::new();
    for (key, value) in SUBJECT.lock().map(|s| s.clone()).unwrap_or_default() {
        let value = serde_json::to_string(&value).expect("a string serializes");
        subject.push_str(&format!(",\"{key}\":{value}"));
    }
    let line = format!(
        "{{\"command\":\"{command}\",\"total_s\":{:.6},\"tools_s\":{:.6}{subject}}}\n",
        started.elapsed().as_secs_f64(),
        TOOLS_NANOS.load(Ordering::Relaxed) as f64 / 1e9
    );
    // One write of a short line with O_APPEND: concurrent runs do not interleave.
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!("thinlto: warning: cannot append timings to '{}': {e}", path.to_string_lossy());
    }
}
