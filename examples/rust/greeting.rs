//! A library crate the binary uses; `shout` is small enough to inline.

pub fn shout(s: &str) -> String {
    s.to_uppercase()
}

pub fn count_vowels(s: &str) -> usize {
    s.chars().filter(|c| "aeiouAEIOU".contains(*c)).count()
}
