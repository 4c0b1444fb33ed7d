extern "C" {
    fn c4_value(x: i32) -> i32;
}

#[no_mangle]
pub extern "C" fn r4_value(x: i32) -> i32 {
    unsafe { c4_value(x) + 7 }
}
