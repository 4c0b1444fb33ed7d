//! Rust calling C++: `cpp_square` comes from the C++ library `geometry`.

extern "C" {
    fn cpp_square(x: i32) -> i32;
}

/// A small function C++ calls: ThinLTO inlines it, and `cpp_square` into it.
#[no_mangle]
pub extern "C" fn rust_square_plus_one(x: i32) -> i32 {
    unsafe { cpp_square(x) + 1 }
}

/// Sum of the squares of 0..n, each computed by C++.
pub fn sum_of_squares(n: i32) -> i64 {
    (0..n).map(|i| i64::from(unsafe { cpp_square(i) })).sum()
}
