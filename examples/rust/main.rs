fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "thinlto".to_string());
    println!("hello, {}! ({} vowels)", greeting::shout(&name), greeting::count_vowels(&name));
}
