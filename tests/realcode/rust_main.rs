//! A Rust main: the same report, and C++ called from Rust.

fn main() {
    match realcode::run() {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
    let mut acc = std::env::args().count() as u32;
    for i in 1..=1000u32 {
        acc = realcode::mix(acc, i).wrapping_add(realcode::label_len(i));
    }
    println!("rust: accumulated {acc}");
}
