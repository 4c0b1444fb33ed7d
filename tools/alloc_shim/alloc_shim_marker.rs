//! What every Rust program links whatever its allocator: std calls
//! `__rust_no_alloc_shim_is_unstable_v2` to prove that an allocator shim is linked (since
//! Rust 1.9x a function, not a static). rustc's own shim for a program with a
//! `#[global_allocator]` is exactly that function; without one it also has the forwarders of
//! `alloc_shim.rs`.
//!
//! Linked whole, before std, it also holds a reference into std, so that a linker that reads
//! archives in one pass (gold, bfd) loads std's object when it reaches std's rlib: core and
//! alloc, after it, call back into std (`rust_begin_unwind`), and a program whose crates are
//! compiled with `-Cpanic=abort` may reference nothing else of std before them. rustc's own
//! links never meet this: a binary's `main` crate always references std.
#![no_std]
#![feature(rustc_attrs)]
#![allow(internal_features)]

extern "Rust" {
    #[rustc_std_internal_symbol]
    fn __rdl_alloc(size: usize, align: usize) -> *mut u8;
}

#[used]
static LOAD_STD: unsafe fn(usize, usize) -> *mut u8 = __rdl_alloc;

#[rustc_std_internal_symbol]
pub fn __rust_no_alloc_shim_is_unstable_v2() {}
