fn main() {
    let x = std::env::args().count() as i32 + 4;
    println!("rust_chain({x}) = {}", r3::value(x));
}
