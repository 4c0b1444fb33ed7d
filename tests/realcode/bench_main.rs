//! A CPU-bound run of the same libraries, for benchmarks (tools/bench/pgo_bench.py): each round
//! serializes 2,000 records with serde_json, parses them back, compresses the JSON with zstd
//! (C), decompresses it, and checksums it with crc32fast. `bench_main ROUNDS` prints one
//! checksum, the same in every build.

use realcode::{Record, Shape};

fn records() -> Vec<Record> {
    (0..2000u32)
        .map(|i| Record {
            name: format!("record {i} of the benchmark"),
            id: u64::from(i) * 7_919,
            tags: (0..i % 5).map(|t| format!("tag{t}")).collect(),
            parent: (i % 3 == 0).then_some(i / 3),
            shapes: vec![
                Shape::Circle { radius: f64::from(i) / 8.0 },
                Shape::Rect { width: i % 97, height: i % 89 },
                Shape::Unit,
            ],
        })
        .collect()
}

fn main() {
    let rounds: u32 = std::env::args().nth(1).map_or(20, |s| s.parse().expect("ROUNDS is a number"));
    let records = records();
    let mut checksum = 0u32;
    for round in 0..rounds {
        let json = serde_json::to_vec(&records).expect("serializes");
        let back: Vec<Record> = serde_json::from_slice(&json).expect("parses");
        assert_eq!(back.len(), records.len());
        let compressed = zstd::bulk::compress(&json, 3).expect("compresses");
        let plain = zstd::bulk::decompress(&compressed, json.len()).expect("decompresses");
        checksum = checksum.rotate_left(5) ^ crc32fast::hash(&plain) ^ (compressed.len() as u32) ^ round;
    }
    println!("bench: {rounds} rounds, checksum {checksum:08x}");
}
