//! Tells file kinds apart by content, never by name: LLVM bitcode (raw or
//! wrapped), ELF, `ar` archives. The thin link treats them differently, and a
//! name like `.o` says nothing about which one a file is.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bitcode,
    Elf,
    Archive,
    Other,
}

pub fn sniff(bytes: &[u8]) -> Kind {
    if bytes.starts_with(b"BC\xC0\xDE") || bytes.starts_with(&[0xDE, 0xC0, 0x17, 0x0B]) {
        Kind::Bitcode
    } else if bytes.starts_with(b"\x7fELF") {
        Kind::Elf
    } else if bytes.starts_with(b"!<arch>\n") || bytes.starts_with(b"!<thin>\n") {
        Kind::Archive
    } else {
        Kind::Other
    }
}

/// Reads just enough of `path` to sniff it.
pub fn sniff_file(path: &std::path::Path) -> std::io::Result<Kind> {
    use std::io::Read;
    let mut head = [0u8; 8];
    let mut f = std::fs::File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(sniff(&head[..n]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs() {
        assert_eq!(sniff(b"BC\xC0\xDE\x35\x14"), Kind::Bitcode);
        assert_eq!(sniff(&[0xDE, 0xC0, 0x17, 0x0B, 0, 0]), Kind::Bitcode);
        assert_eq!(sniff(b"\x7fELF\x02\x01"), Kind::Elf);
        assert_eq!(sniff(b"!<arch>\nxx"), Kind::Archive);
        assert_eq!(sniff(b"rust\0\0\0"), Kind::Other);
        assert_eq!(sniff(b""), Kind::Other);
    }
}
