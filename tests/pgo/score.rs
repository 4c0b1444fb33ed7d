//! Two functions small enough that ThinLTO imports and inlines both into their C++ caller
//! without a profile (tests/e2e/test_pgo.py). Trained on even inputs only, the profile says
//! pgo_cold's call site never runs: LLVM then neither imports nor inlines it.

/// Scores an even input: the hot path.
#[no_mangle]
pub extern "C" fn pgo_hot(x: u64) -> u64 {
    let mut h = x;
    h = (h ^ (h >> 11)).wrapping_mul(695425567).wrapping_add(414003);
    h = (h ^ (h >> 5)).wrapping_mul(1397871147).wrapping_add(75955);
    h = (h ^ (h >> 5)).wrapping_mul(1763673109).wrapping_add(98703);
    h = (h ^ (h >> 8)).wrapping_mul(785310975).wrapping_add(60817);
    h = (h ^ (h >> 3)).wrapping_mul(1953574605).wrapping_add(225128);
    h = (h ^ (h >> 7)).wrapping_mul(80521327).wrapping_add(454711);
    h
}

/// Scores an odd input: the path training never takes.
#[no_mangle]
pub extern "C" fn pgo_cold(x: u64) -> u64 {
    let mut h = !x;
    h = (h ^ (h >> 6)).wrapping_mul(898017873).wrapping_add(252354);
    h = (h ^ (h >> 6)).wrapping_mul(194804719).wrapping_add(445141);
    h = (h ^ (h >> 23)).wrapping_mul(126938847).wrapping_add(592922);
    h = (h ^ (h >> 16)).wrapping_mul(265862677).wrapping_add(661260);
    h = (h ^ (h >> 8)).wrapping_mul(1347402589).wrapping_add(993745);
    h = (h ^ (h >> 7)).wrapping_mul(132847739).wrapping_add(613985);
    h
}
