#[test]
fn value_goes_through_cpp_and_rust() {
    assert_eq!(r3::value(5), 65);
}

#[test]
fn value_of_zero() {
    assert_eq!(r3::value(0), 50);
}
