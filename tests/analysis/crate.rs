extern "C" {
    fn scale(x: i32) -> i32;
}

#[no_mangle]
pub extern "C" fn offset(x: i32) -> i32 {
    unsafe { scale(x) + 1 }
}
