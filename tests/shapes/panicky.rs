//! Small Rust functions a C++ caller with exception handling calls; each may panic.

extern "C" {
    fn cpp_with_cleanup(x: u32) -> u32;
}

/// Indexes a slice (may panic: out of bounds).
#[no_mangle]
pub extern "C" fn rs_digit(value: u32, position: usize) -> u32 {
    let digits = [value % 10, value / 10 % 10, value / 100 % 10];
    digits[position]
}

/// Divides (may panic: by zero).
#[no_mangle]
pub extern "C" fn rs_ratio(a: u32, b: u32) -> u32 {
    a / b
}

/// Calls C++ that runs a destructor, then may panic.
#[no_mangle]
pub extern "C" fn rs_checked(x: u32) -> u32 {
    let y = unsafe { cpp_with_cleanup(x) };
    assert!(y != u32::MAX, "overflow");
    y + 1
}
