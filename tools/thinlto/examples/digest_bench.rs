//! What the thin link's module digests cost (src/digest.rs, `thin_link::digest_modules`):
//! SHA-256 of every module, on all cores, as the thin link takes them.
//!
//! ```text
//! cargo run --release --example digest_bench -- [--modules 1000] [--bytes 33000000] [--rounds 5]
//! ```
//!
//! Writes `--modules` files holding `--bytes` in all (sizes spread 0.2x to 1.8x the mean,
//! content from a splitmix64 generator) into a temporary directory, then hashes them all
//! `--rounds` times and prints each round's time. The files are in the page cache, as the
//! thin link's inputs are when it hashes them (lld has just read them).

use clap::Parser;
use rayon::prelude::*;
use std::time::Instant;
use thinlto::digest::Digest;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1000)]
    modules: usize,
    #[arg(long, default_value_t = 33_000_000)]
    bytes: usize,
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let mut state = 1u64;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mean = args.bytes / args.modules.max(1);
    let mut files = Vec::new();
    let mut total = 0usize;
    for i in 0..args.modules {
        let size = mean / 5 + (next() as usize % (mean * 8 / 5 + 1));
        let bytes: Vec<u8> = (0..size.div_ceil(8)).flat_map(|_| next().to_le_bytes()).take(size).collect();
        let path = dir.path().join(format!("m{i:05}.o"));
        std::fs::write(&path, &bytes)?;
        total += size;
        files.push(path);
    }
    println!("{} files, {:.1} MB, {} threads", files.len(), total as f64 / 1e6, rayon::current_num_threads());
    for round in 1..=args.rounds {
        let started = Instant::now();
        let digests: Vec<Digest> = files.par_iter().map(|f| Digest::of_file(f)).collect::<std::io::Result<_>>()?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        println!("round {round}: {ms:.1} ms ({:.0} MB/s), {} digests", total as f64 / 1e3 / ms, digests.len());
    }
    Ok(())
}
