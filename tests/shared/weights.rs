extern "C" {
    fn geom_area(w: i32, h: i32) -> i32;
}

#[no_mangle]
pub extern "C" fn weight(x: i32) -> i32 {
    unsafe { geom_area(x, x + 1) + 7 }
}
