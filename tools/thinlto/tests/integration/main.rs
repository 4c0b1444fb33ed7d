//! Integration tests: the `thinlto` binary driven as a build system would,
//! with the real clang-22, lld-22 and rustc.

mod bad_input;
mod debuginfo;
mod extract;
mod pipeline;
mod report;
mod stale;
mod support;
mod worker;
