//! A Rust crate using another Rust crate, called from C++.

/// Prints a line about 0..n and returns the sum of squares.
#[no_mangle]
pub extern "C" fn rust_report(n: i32) -> i64 {
    let values: Vec<i64> = (1..=n).map(stats::sum_of_squares).collect();
    let total = values.last().copied().unwrap_or(0);
    println!("rust: sums of squares up to {n}: {values:?}");
    total
}
