extern "C" {
    fn c2_value(x: i32) -> i32;
}

#[no_mangle]
pub extern "C" fn r1_value(x: i32) -> i32 {
    unsafe { c2_value(x) * 2 }
}
