#[no_mangle]
pub extern "C" fn left_value(x: i32) -> i32 {
    base::twice(x) + 1
}
