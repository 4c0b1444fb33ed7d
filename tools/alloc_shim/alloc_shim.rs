//! The Rust allocator shim: `__rust_alloc` and friends, forwarding to std's default
//! allocator (`__rdl_*`), as rustc generates it when it links a program without a
//! `#[global_allocator]`.
//!
//! Under distributed ThinLTO rustc never links: crates are emitted as bitcode objects
//! (`--emit=obj -Clinker-plugin-lto`) and linked by clang/lld, so nothing else defines these
//! functions, which std calls. Each carries the allocator attributes rustc gives its own
//! shim (`#[rustc_allocator]` and friends: `allockind`, `allocsize`,
//! `"alloc-family"="__rust_alloc"`) and no more (no `nounwind`: compiled with unwinding
//! panics): std's declarations carry them too, and when the thin link imports one of these
//! definitions into a module that still declares the others, LLVM's verifier requires the
//! family to match. Compiled with `-Zplt=yes`, so that calls to `__rdl_*` become direct
//! calls as in rustc's shim. `tests/e2e/test_shapes.py` checks the attributes against the
//! shim rustc itself generates.
//!
//! The link takes this crate lazily: a crate with a `#[global_allocator]` defines these
//! symbols itself (rustc 1.95 puts them in that crate's code unit), and then this crate is
//! not loaded. `alloc_shim_marker.rs` holds what every program needs.
//!
//! `rustc_std_internal_symbol` gives the toolchain-specific mangling std expects
//! (`__rustc::__rust_alloc`), so this needs `RUSTC_BOOTSTRAP=1`; it is compiled once per
//! toolchain, to bitcode like every other crate.
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

#[rustc_allocator]
#[rustc_std_internal_symbol]
pub unsafe fn __rust_alloc(size: usize, align: usize) -> *mut u8 {
    __rdl_alloc(size, align)
}

#[rustc_deallocator]
#[rustc_std_internal_symbol]
pub unsafe fn __rust_dealloc(ptr: *mut u8, size: usize, align: usize) {
    __rdl_dealloc(ptr, size, align)
}

#[rustc_reallocator]
#[rustc_std_internal_symbol]
pub unsafe fn __rust_realloc(ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    __rdl_realloc(ptr, old_size, align, new_size)
}

#[rustc_allocator_zeroed]
#[rustc_std_internal_symbol]
pub unsafe fn __rust_alloc_zeroed(size: usize, align: usize) -> *mut u8 {
    __rdl_alloc_zeroed(size, align)
}
