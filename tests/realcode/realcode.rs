//! The program's Rust: serde (derive) and serde_json, zstd (C, via zstd-safe and zstd-sys),
//! crc32fast, and C++ (cpp_util). Everything it prints is deterministic.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

extern "C" {
    fn cpp_mix(a: u32, b: u32) -> u32;
    fn cpp_label_len(id: u32) -> u32;
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
pub enum Shape {
    Circle { radius: f64 },
    Rect { width: u32, height: u32 },
    Unit,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
pub struct Record {
    pub name: String,
    pub id: u64,
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u32>,
    pub shapes: Vec<Shape>,
}

fn sample() -> Record {
    Record {
        name: "thinlto \"real code\"".to_string(),
        id: 18_446_744_073_709_551_557,
        tags: vec!["rust".into(), "c".into(), "c++".into()],
        parent: None,
        shapes: vec![Shape::Circle { radius: 1.5 }, Shape::Rect { width: 3, height: 4 }, Shape::Unit],
    }
}

/// Runs every library and returns the report, one line per fact.
pub fn run() -> Result<String, String> {
    let mut out = String::new();
    let rec = sample();
    let json = serde_json::to_string(&rec).map_err(|e| e.to_string())?;
    let back: Record = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    if back != rec {
        return Err(format!("serde round trip differs: {back:?}"));
    }
    let value: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    writeln!(out, "json: {json}").unwrap();
    writeln!(out, "json.shapes[1].rect.height = {}", value["shapes"][1]["rect"]["height"]).unwrap();

    let mut payload = Vec::new();
    for i in 0..2000u32 {
        payload.extend_from_slice(format!("{i:05} {json} {}\n", (i * 7919) % 257).as_bytes());
    }
    let compressed = zstd::bulk::compress(&payload, 3).map_err(|e| e.to_string())?;
    let decompressed = zstd::bulk::decompress(&compressed, payload.len()).map_err(|e| e.to_string())?;
    let streamed = zstd::stream::decode_all(&compressed[..]).map_err(|e| e.to_string())?;
    if decompressed != payload || streamed != payload {
        return Err("zstd round trip differs".into());
    }
    writeln!(
        out,
        "zstd {}: {} -> {} bytes, round trip ok",
        zstd::zstd_safe::version_string(),
        payload.len(),
        compressed.len()
    )
    .unwrap();

    let crc = crc32fast::hash(&payload);
    writeln!(out, "crc32(payload) = {crc:08x}, crc32(\"123456789\") = {:08x}", checksum(b"123456789")).unwrap();
    writeln!(out, "mixed = {:08x}, label length = {}", mix(crc, 7), label_len(42)).unwrap();
    Ok(out)
}

/// CRC-32 of `data`: small, and it cannot panic.
pub fn checksum(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Calls C++ that has no exceptions or destructors.
pub fn mix(a: u32, b: u32) -> u32 {
    unsafe { cpp_mix(a, b) }
}

/// Calls C++ with a destructor in it.
pub fn label_len(id: u32) -> u32 {
    unsafe { cpp_label_len(id) }
}

/// For C++: the whole report into `buf` (NUL-terminated, truncated to `cap`); 0 on success.
///
/// # Safety
/// `buf` must point to `cap` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn realcode_report(buf: *mut u8, cap: usize) -> i32 {
    let (code, text) = match run() {
        Ok(s) => (0, s),
        Err(e) => (1, e),
    };
    if !buf.is_null() && cap > 0 {
        let n = text.len().min(cap - 1);
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf, n);
            *buf.add(n) = 0;
        }
    }
    code
}

/// For C++: small functions a C++ caller with exception handling calls in a loop.
#[no_mangle]
pub extern "C" fn realcode_mix(a: u32, b: u32) -> u32 {
    mix(a, b).rotate_left(3)
}

/// May panic (division by zero): carries Rust's personality under panic=unwind.
#[no_mangle]
pub extern "C" fn realcode_ratio(a: u32, b: u32) -> u32 {
    a / b
}

/// May panic (a slice index out of bounds).
#[no_mangle]
pub extern "C" fn realcode_digit(value: u32, position: usize) -> u32 {
    let digits = [value % 10, value / 10 % 10, value / 100 % 10, value / 1000 % 10];
    digits[position]
}
