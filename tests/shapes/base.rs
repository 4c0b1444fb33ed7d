pub fn twice(x: i32) -> i32 {
    2 * x
}

#[no_mangle]
pub extern "C" fn base_square(x: i32) -> i32 {
    x * x
}
