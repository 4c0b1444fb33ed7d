#[no_mangle]
pub extern "C" fn r2_value(x: i32) -> i32 {
    x * x
}
