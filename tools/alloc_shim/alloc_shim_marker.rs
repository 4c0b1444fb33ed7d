//! What every Rust program links whatever its allocator: std calls this function to prove
//! that an allocator shim is linked (since Rust 1.9x a function, not a static). rustc's own
//! shim for a program with a `#[global_allocator]` is exactly this; without one it also has
//! the forwarders of `alloc_shim.rs`.
#![no_std]
#![feature(rustc_attrs)]
#![allow(internal_features)]

#[rustc_std_internal_symbol]
pub fn __rust_no_alloc_shim_is_unstable_v2() {}
