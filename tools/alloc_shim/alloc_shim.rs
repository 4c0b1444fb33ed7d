//! The Rust allocator shim, as a crate of its own.
//!
//! When rustc links a Rust program it generates this shim itself. Under
//! distributed ThinLTO rustc never links: crates are emitted as bitcode
//! objects (`--emit=obj -Clinker-plugin-lto`) and linked by clang/lld, so
//! nothing defines `__rust_alloc` and friends, which std calls. These
//! definitions forward to std's default allocator (`__rdl_*`), exactly as
//! rustc's generated shim does for a program without `#[global_allocator]`.
//!
//! `rustc_std_internal_symbol` gives the toolchain-specific mangling std
//! expects (`__rustc::__rust_alloc`), so this needs `RUSTC_BOOTSTRAP=1`; it is
//! compiled once per toolchain, to bitcode like every other crate.
#![no_std]
#![feature(rustc_attrs)]
#![allow(internal_features)]

extern "Rust" {
    #[rustc_std_internal_symbol]
    fn __rdl_alloc(size: usize, align: usize) -> *mut u8;
    #[rustc_std_internal_symbol]
    fn __rdl_dealloc(ptr: *mut u8, size: usize, align: usize);
    #[rustc_std_internal_symbol]
    fn __rdl_realloc(ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8;
    #[rustc_std_internal_symbol]
    fn __rdl_alloc_zeroed(size: usize, align: usize) -> *mut u8;
}

#[rustc_std_internal_symbol]
pub unsafe fn __rust_alloc(size: usize, align: usize) -> *mut u8 {
    __rdl_alloc(size, align)
}

#[rustc_std_internal_symbol]
pub unsafe fn __rust_dealloc(ptr: *mut u8, size: usize, align: usize) {
    __rdl_dealloc(ptr, size, align)
}

#[rustc_std_internal_symbol]
pub unsafe fn __rust_realloc(ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    __rdl_realloc(ptr, old_size, align, new_size)
}

#[rustc_std_internal_symbol]
pub unsafe fn __rust_alloc_zeroed(size: usize, align: usize) -> *mut u8 {
    __rdl_alloc_zeroed(size, align)
}

/// std calls this to prove a shim is linked; since Rust 1.9x it is a function, not a static.
#[rustc_std_internal_symbol]
pub fn __rust_no_alloc_shim_is_unstable_v2() {}
