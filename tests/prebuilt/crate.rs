//! A crate as rules_rust would build it, with C ABI entry points for C++. Its modules give
//! rustc several code units to make (up to codegen_units).

pub mod parts {
    #[inline(never)]
    pub fn weight(x: u32) -> u32 {
        x.wrapping_mul(2654435761) >> 16
    }
}

pub mod totals {
    #[inline(never)]
    pub fn sum(n: u32) -> u64 {
        (0..n).map(|i| u64::from(crate::parts::weight(i))).sum()
    }
}

pub mod tables {
    #[inline(never)]
    pub fn lookup(i: usize) -> u32 {
        const TABLE: [u32; 8] = [3, 1, 4, 1, 5, 9, 2, 6];
        TABLE[i % TABLE.len()]
    }
}

#[no_mangle]
pub extern "C" fn standin_weight(x: u32) -> u32 {
    parts::weight(x) % 1000 + tables::lookup(x as usize) - tables::lookup(x as usize)
}

#[no_mangle]
pub extern "C" fn standin_sum(n: u32) -> u64 {
    totals::sum(n)
}
