fn main() {
    let before = counting::allocations();
    let v: Vec<u64> = (0..100).collect();
    let boxed = Box::new(v.iter().sum::<u64>());
    let after = counting::allocations();
    println!("sum = {boxed}, the counting allocator saw allocations: {}", after > before);
}
