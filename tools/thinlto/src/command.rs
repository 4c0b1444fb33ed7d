//! Running the toolchain: every child is run with its full command line kept
//! for the error message, and its stderr captured so that errors clang prints
//! while exiting 0 (llvm#75441) can be caught.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where `prog` is, found as `Command` finds it: a path if it has a slash, else the first
/// file of that name on PATH.
pub fn find_program(prog: &str) -> Option<PathBuf> {
    if prog.contains('/') {
        return Some(PathBuf::from(prog));
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(prog)).find(|c| c.is_file())
}

pub struct Ran {
    pub output: Output,
    pub stderr: String,
}

/// Runs `argv` in `cwd` and returns its output; a non-zero exit is an error
/// that shows the command and what it printed.
pub fn run(argv: &[String], cwd: Option<&Path>, what: &str) -> Result<Ran> {
    let (prog, args) = argv.split_first().context("empty command line")?;
    let mut cmd = Command::new(prog);
    cmd.args(args);
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let started = std::time::Instant::now();
    let output = cmd.output().with_context(|| format!("{what}: cannot run '{prog}'"))?;
    crate::timings::add_tool_time(started.elapsed());
    finish(argv, what, output)
}

/// The output of `argv`, however it ran ([`run`], or a clang server): an error,
/// showing the command and what it printed, if it did not exit 0.
pub fn finish(argv: &[String], what: &str, output: Output) -> Result<Ran> {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        bail!(
            "{what} failed ({}):\n  {}\n{}{}",
            output.status,
            display(argv),
            String::from_utf8_lossy(&output.stdout),
            stderr
        );
    }
    Ok(Ran { output, stderr })
}

/// A command line as a shell would need it, for messages.
pub fn display(argv: &[String]) -> String {
    argv.iter().map(|a| crate::paramfile::quote(a)).collect::<Vec<_>>().join(" ")
}
