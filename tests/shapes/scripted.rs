//! A crate that reads what a build script would have made.

include!(concat!(env!("OUT_DIR"), "/generated.rs"));

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(fast_path)]
pub const PATH: &str = "fast";
#[cfg(not(fast_path))]
pub const PATH: &str = "slow";
