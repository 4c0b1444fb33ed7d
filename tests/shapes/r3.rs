extern "C" {
    fn c3_value(x: i32) -> i32;
}

pub fn value(x: i32) -> i32 {
    unsafe { c3_value(x) - 1 }
}
