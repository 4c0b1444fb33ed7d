//! A read-only set of paths numbered by position, for checking millions of
//! lines against the manifest's modules.
//!
//! `plan` looks up every line of every `.imports` file, millions for a large
//! link, each in a random place of a 100,000-entry table: the cost is cache
//! misses, not hashing. A general hash map with string keys takes three
//! (control byte, bucket, the key's bytes elsewhere on the heap); here one
//! 64-byte slot holds the position, the length and the first 56 bytes of
//! the key, so a lookup of a path of up to 56 bytes touches one cache line
//! (a longer one, two). The price is memory: 128 to 256 bytes per key,
//! 16 MiB for 100,000.
//!
//! The hash is fast, not resistant to chosen collisions: the keys are the
//! build's own file names.

/// Bytes of a key stored in its slot; longer keys compare the rest out of line.
const INLINE: usize = 56;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    /// Position + 1; 0 for an empty slot.
    id: u32,
    len: u32,
    head: [u8; INLINE],
}

const EMPTY: Slot = Slot { id: 0, len: 0, head: [0; INLINE] };

pub struct PathIndex<'a> {
    /// Open addressing with linear probing, at most half full.
    slots: Vec<Slot>,
    mask: usize,
    keys: Vec<&'a [u8]>,
}

impl<'a> PathIndex<'a> {
    /// Numbers `keys` 0, 1, 2, … in order; a repeated key keeps its first number.
    ///
    /// # Panics
    ///
    /// With `u32::MAX` keys or more, or a key of 4 GiB or more.
    pub fn new<I: IntoIterator<Item = &'a str>>(keys: I) -> Self {
        let keys: Vec<&[u8]> = keys.into_iter().map(str::as_bytes).collect();
        assert!(keys.len() < u32::MAX as usize, "{} paths are too many to index", keys.len());
        let slots = (2 * keys.len()).next_power_of_two().max(8);
        let mut index = PathIndex { slots: vec![EMPTY; slots], mask: slots - 1, keys };
        for i in 0..index.keys.len() {
            let key = index.keys[i];
            let mut s = hash(key) as usize & index.mask;
            loop {
                if index.slots[s].id == 0 {
                    let n = key.len().min(INLINE);
                    let slot = &mut index.slots[s];
                    slot.id = i as u32 + 1;
                    slot.len = u32::try_from(key.len()).expect("a path shorter than 4 GiB");
                    slot.head[..n].copy_from_slice(&key[..n]);
                    break;
                }
                if index.matches(&index.slots[s], key) {
                    break;
                }
                s = (s + 1) & index.mask;
            }
        }
        index
    }

    /// The number of `key`, if it is one of the keys.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<u32> {
        self.probe(hash(key) as usize & self.mask, key)
    }

    /// [`PathIndex::get`] of each of `keys`, appended to `out` in order.
    ///
    /// Faster than one `get` after another: it looks at the first slot of up
    /// to 16 keys before comparing any of them, so that the processor
    /// fetches their cache lines from memory at the same time instead of
    /// waiting for each in turn.
    pub fn get_many(&self, keys: &[&[u8]], out: &mut Vec<Option<u32>>) {
        const BATCH: usize = 16;
        out.reserve(keys.len());
        for batch in keys.chunks(BATCH) {
            let mut first = [0usize; BATCH];
            let mut id = [0u32; BATCH];
            for (k, key) in batch.iter().enumerate() {
                first[k] = hash(key) as usize & self.mask;
            }
            // Independent loads, issued together.
            for k in 0..batch.len() {
                id[k] = self.slots[first[k]].id;
            }
            for (k, key) in batch.iter().enumerate() {
                out.push(if id[k] == 0 { None } else { self.probe(first[k], key) });
            }
        }
    }

    #[inline]
    fn probe(&self, mut s: usize, key: &[u8]) -> Option<u32> {
        loop {
            let slot = &self.slots[s];
            if slot.id == 0 {
                return None;
            }
            if self.matches(slot, key) {
                return Some(slot.id - 1);
            }
            s = (s + 1) & self.mask;
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    #[inline]
    fn matches(&self, slot: &Slot, key: &[u8]) -> bool {
        if slot.len as usize != key.len() {
            return false;
        }
        if key.len() <= INLINE {
            slot.head[..key.len()] == *key
        } else {
            slot.head[..] == key[..INLINE] && self.keys[slot.id as usize - 1][INLINE..] == key[INLINE..]
        }
    }
}

/// FxHash's mixing step (rustc's hasher), eight bytes at a time, and a final
/// avalanche so that the low bits, which pick the slot, depend on every byte.
#[inline]
fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = (h ^ u64::from_le_bytes(c.try_into().expect("8 bytes"))).wrapping_mul(K).rotate_left(26);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(K).rotate_left(26);
    }
    h = (h ^ (h >> 32)).wrapping_mul(K);
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_key_and_nothing_else() {
        let long = format!("{}/m.o", "d".repeat(70));
        let long2 = format!("{}/n.o", "d".repeat(70));
        let mut owned: Vec<String> = (0..1000).map(|i| format!("bazel-out/bin/pkg{i}/_objs/lib/m{i}.o")).collect();
        owned.extend([long.clone(), long2.clone(), "a".into(), "x".repeat(INLINE), "y".repeat(INLINE + 1)]);
        let index = PathIndex::new(owned.iter().map(String::as_str));
        assert_eq!(index.len(), owned.len());
        for (i, k) in owned.iter().enumerate() {
            assert_eq!(index.get(k.as_bytes()), Some(i as u32), "{k}");
        }
        let mut queries: Vec<&[u8]> = owned.iter().rev().map(|k| k.as_bytes()).collect();
        queries.insert(17, b"absent");
        let mut found = vec![Some(7)];
        index.get_many(&queries, &mut found);
        assert_eq!(found.remove(0), Some(7), "appends");
        assert_eq!(found, queries.iter().map(|q| index.get(q)).collect::<Vec<_>>());
        assert_eq!(found[17], None);
        for absent in ["", "b", "bazel-out/bin/pkg1/_objs/lib/m2.o", "bazel-out/bin/pkg1/_objs/lib/m1.o\r"] {
            assert_eq!(index.get(absent.as_bytes()), None, "{absent}");
        }
        // Same length and head as a long key, different tail.
        assert_eq!(index.get(format!("{}/x.o", "d".repeat(70)).as_bytes()), None);
        assert_eq!(index.get("x".repeat(INLINE - 1).as_bytes()), None);
        assert_eq!(index.get("y".repeat(INLINE).as_bytes()), None);
    }

    #[test]
    fn repeated_key_keeps_its_first_number() {
        let long = "z".repeat(100);
        let index = PathIndex::new(["a", "b", "a", &long, &long]);
        assert_eq!(index.get(b"a"), Some(0));
        assert_eq!(index.get(b"b"), Some(1));
        assert_eq!(index.get(long.as_bytes()), Some(3));
        assert!(PathIndex::new([]).get(b"a").is_none());
    }
}
