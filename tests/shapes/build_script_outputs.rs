fn main() {
    println!("generated {} version {} path {}", scripted::GENERATED, scripted::VERSION, scripted::PATH);
}
