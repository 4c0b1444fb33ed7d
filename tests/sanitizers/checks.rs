extern "C" {
    fn heap_read(n: i32, past: i32) -> i32;
}

/// Rust in the middle: C++ calls it, it calls C++.
#[no_mangle]
pub extern "C" fn checked_read(n: i32, past: i32) -> i32 {
    unsafe { heap_read(n, past) + 1 }
}
