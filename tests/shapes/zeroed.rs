//! Allocates zeroed memory in code that is used, and plain memory only in code that is not.

#[no_mangle]
pub extern "C" fn zeroed_sum(n: usize) -> usize {
    let v = vec![0u8; n];
    std::hint::black_box(&v);
    v.iter().map(|&b| b as usize).sum::<usize>() + v.len()
}

#[no_mangle]
pub extern "C" fn never_called(n: usize) -> usize {
    let mut v: Vec<u8> = Vec::with_capacity(n);
    v.push(1);
    std::hint::black_box(&mut v);
    v.len()
}
