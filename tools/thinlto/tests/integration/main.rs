//! Integration tests: the `thinlto` binary driven as a build system would,
//! with the real clang-22, lld-22 and rustc.

mod bad_input;
mod extract;
mod pipeline;
mod support;
