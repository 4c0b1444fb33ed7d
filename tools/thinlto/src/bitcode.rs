//! Just enough of LLVM's bitcode to read what the thin link decided, with no
//! LLVM library: a reader of the bitstream container, and two readers on top
//! of it.
//!
//! * [`read_index`]: a backend's index (`.thinlto.bc`): the modules it names
//!   (their paths and the LLVM module hash the thin link saw) and its
//!   summaries (which global, by GUID, from which module, imported as a
//!   definition or only as a declaration).
//! * [`read_module`]: a bitcode module's producer (`LLVM22.1.8`, or
//!   `LLVM22.1.2-rust-1.95.0-stable` from rustc), source file name, LLVM
//!   module hash and the globals it defines, with their GUIDs.
//!
//! Only the records these need are decoded; every other block is skipped by
//! its length. Any bytes give a result or an error, never a panic (fuzzed:
//! FUZZING.md). The format: <https://llvm.org/docs/BitCodeFormat.html>.

use std::collections::HashMap;

/// Why bytes are not the bitcode we expected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BitcodeError {
    #[error("not LLVM bitcode (no 'BC' 0xC0DE magic)")]
    NotBitcode,
    #[error("truncated bitcode (at bit {0})")]
    Truncated(usize),
    #[error("malformed bitcode at bit {bit}: {reason}")]
    Malformed { bit: usize, reason: String },
}

type Result<T> = std::result::Result<T, BitcodeError>;

// Block IDs (llvm/Bitcode/LLVMBitCodes.h).
const BLOCKINFO_BLOCK: u32 = 0;
const MODULE_BLOCK: u32 = 8;
const IDENTIFICATION_BLOCK: u32 = 13;
const MODULE_STRTAB_BLOCK: u32 = 19;
const GLOBALVAL_SUMMARY_BLOCK: u32 = 20;
const STRTAB_BLOCK: u32 = 23;

/// Nesting deeper than any real file, to bound recursion on hostile input.
const MAX_DEPTH: usize = 32;

/// A position in the bitstream, in bits from the start of the bitcode.
struct Cursor<'a> {
    data: &'a [u8],
    bit: usize,
}

impl<'a> Cursor<'a> {
    fn bits_left(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.bit)
    }

    fn malformed(&self, reason: impl Into<String>) -> BitcodeError {
        BitcodeError::Malformed { bit: self.bit, reason: reason.into() }
    }

    /// `n` (at most 64) bits, least significant first, as LLVM writes them.
    fn read(&mut self, n: u32) -> Result<u64> {
        debug_assert!(n <= 64);
        if n as usize > self.bits_left() {
            return Err(BitcodeError::Truncated(self.bit));
        }
        let mut v = 0u64;
        let mut got = 0u32;
        while got < n {
            let byte = self.data[self.bit / 8] as u64;
            let off = (self.bit % 8) as u32;
            let take = (8 - off).min(n - got);
            let bits = (byte >> off) & ((1u64 << take) - 1);
            v |= bits << got;
            got += take;
            self.bit += take as usize;
        }
        Ok(v)
    }

    fn vbr(&mut self, width: u32) -> Result<u64> {
        if !(2..=32).contains(&width) {
            return Err(self.malformed(format!("VBR width {width}")));
        }
        let hi = 1u64 << (width - 1);
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let chunk = self.read(width)?;
            let payload = chunk & (hi - 1);
            if shift >= 64 || (shift > 0 && payload >> (64 - shift) != 0) {
                return Err(self.malformed("VBR value wider than 64 bits"));
            }
            v |= payload << shift;
            if chunk & hi == 0 {
                return Ok(v);
            }
            shift += width - 1;
        }
    }

    fn align32(&mut self) -> Result<()> {
        let aligned = self.bit.div_ceil(32) * 32;
        if aligned > self.data.len() * 8 {
            return Err(BitcodeError::Truncated(self.bit));
        }
        self.bit = aligned;
        Ok(())
    }
}

#[derive(Debug, Clone)]
enum Op {
    Literal(u64),
    Fixed(u32),
    Vbr(u32),
    Array(Box<Op>),
    Char6,
    Blob,
}

type Abbrev = std::rc::Rc<[Op]>;

/// One record: its code, operands, and blob (for an abbreviation ending in one).
#[derive(Debug)]
pub struct Record<'a> {
    pub code: u32,
    pub ops: Vec<u64>,
    pub blob: Option<&'a [u8]>,
}

impl Record<'_> {
    /// Operands `from..` as a string of byte-sized characters, if they are.
    fn string(&self, from: usize) -> Option<String> {
        let bytes: Option<Vec<u8>> = self.ops.get(from..)?.iter().map(|&c| u8::try_from(c).ok()).collect();
        Some(String::from_utf8_lossy(&bytes?).into_owned())
    }
}

/// What [`walk`] calls back: the blocks to enter, and each record of them.
trait Visitor<'a> {
    /// Whether to read block `id` below `stack` (the IDs of the enclosing
    /// blocks, outermost first); one not entered is skipped by its length.
    fn enter(&mut self, stack: &[u32], id: u32) -> bool;
    fn record(&mut self, stack: &[u32], record: Record<'a>) -> Result<()>;
}

/// The bitcode inside `bytes`: after the wrapper header, if any, and the magic.
fn bitstream(bytes: &[u8]) -> Result<&[u8]> {
    let word = |at: usize| -> Option<u32> { Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?)) };
    let inner = if word(0) == Some(0x0B17_C0DE) {
        // The wrapper: magic, version, offset, size, CPU type.
        let (offset, size) = (word(8).ok_or(BitcodeError::NotBitcode)?, word(12).ok_or(BitcodeError::NotBitcode)?);
        let end = (offset as usize).checked_add(size as usize).ok_or(BitcodeError::NotBitcode)?;
        bytes.get(offset as usize..end).ok_or(BitcodeError::NotBitcode)?
    } else {
        bytes
    };
    match inner.strip_prefix(b"BC\xC0\xDE") {
        Some(rest) => Ok(rest),
        None => Err(BitcodeError::NotBitcode),
    }
}

/// Reads every top-level block of `bytes`, descending where `v` asks.
fn walk<'a>(bytes: &'a [u8], v: &mut dyn Visitor<'a>) -> Result<()> {
    let data = bitstream(bytes)?;
    let mut c = Cursor { data, bit: 0 };
    let mut blockinfo: HashMap<u32, Vec<Abbrev>> = HashMap::new();
    let mut stack = Vec::new();
    // Past the last non-zero byte there is nothing but padding.
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    loop {
        if c.bit / 8 >= end {
            return Ok(());
        }
        // Top level: abbreviation IDs are 2 bits wide and only blocks may appear.
        match c.read(2)? {
            1 => block(&mut c, &mut stack, &mut blockinfo, v)?,
            other => {
                return Err(c.malformed(format!("abbreviation {other} at the top level, where only blocks may be")))
            }
        }
    }
}

/// Reads one block whose ENTER_SUBBLOCK abbreviation ID was just read.
fn block<'a>(
    c: &mut Cursor<'a>,
    stack: &mut Vec<u32>,
    blockinfo: &mut HashMap<u32, Vec<Abbrev>>,
    v: &mut dyn Visitor<'a>,
) -> Result<()> {
    let id = u32::try_from(c.vbr(8)?).map_err(|_| c.malformed("block ID too large"))?;
    let width = c.vbr(4)?;
    if !(1..=32).contains(&width) {
        return Err(c.malformed(format!("abbreviation width {width}")));
    }
    c.align32()?;
    let words = c.read(32)? as usize;
    let start = c.bit;
    let end = words.checked_mul(32).and_then(|b| b.checked_add(start)).filter(|&e| e <= c.data.len() * 8);
    let Some(end) = end else {
        return Err(c.malformed(format!("block {id} of {words} words runs past the end of the file")));
    };
    if stack.len() >= MAX_DEPTH {
        return Err(c.malformed("blocks nested too deeply"));
    }
    let is_blockinfo = id == BLOCKINFO_BLOCK;
    if !is_blockinfo && !v.enter(stack, id) {
        c.bit = end;
        return Ok(());
    }
    let width = width as u32;
    // The block's abbreviations: those BLOCKINFO defined for its ID when it
    // began (BLOCKINFO only ever appends), then its own.
    let inherited = if is_blockinfo { 0 } else { blockinfo.get(&id).map_or(0, Vec::len) };
    let mut abbrevs: Vec<Abbrev> = Vec::new();
    // In a BLOCKINFO block: the block whose abbreviations are being defined.
    let mut info_target: Option<u32> = None;
    stack.push(id);
    loop {
        if c.bit >= end {
            return Err(c.malformed(format!("block {id} ends without END_BLOCK")));
        }
        let abbrev = c.read(width)?;
        match abbrev {
            0 => {
                // END_BLOCK
                c.align32()?;
                if c.bit != end {
                    return Err(c.malformed(format!("block {id} ends before its stated length")));
                }
                stack.pop();
                return Ok(());
            }
            1 => block(c, stack, blockinfo, v)?,
            2 => {
                let a: Abbrev = define_abbrev(c)?.into();
                if is_blockinfo {
                    let target = info_target.ok_or_else(|| c.malformed("abbreviation in BLOCKINFO before SETBID"))?;
                    blockinfo.entry(target).or_default().push(a);
                } else {
                    abbrevs.push(a);
                }
            }
            3 => {
                let code = c.vbr(6)?;
                let n = c.vbr(6)? as usize;
                if n > c.bits_left() {
                    return Err(BitcodeError::Truncated(c.bit));
                }
                let mut ops = Vec::with_capacity(n);
                for _ in 0..n {
                    ops.push(c.vbr(6)?);
                }
                let code = u32::try_from(code).map_err(|_| c.malformed("record code too large"))?;
                if is_blockinfo {
                    if code == 1 {
                        // SETBID
                        let target = ops.first().and_then(|&b| u32::try_from(b).ok());
                        info_target = Some(target.ok_or_else(|| c.malformed("SETBID without a block ID"))?);
                    }
                } else {
                    v.record(stack, Record { code, ops, blob: None })?;
                }
            }
            n => {
                let k = (n - 4) as usize;
                let a =
                    if k < inherited { blockinfo.get(&id).and_then(|v| v.get(k)) } else { abbrevs.get(k - inherited) };
                let a =
                    a.cloned().ok_or_else(|| c.malformed(format!("abbreviation {n} is not defined in block {id}")))?;
                let record = abbreviated(c, &a)?;
                if !is_blockinfo {
                    v.record(stack, record)?;
                }
            }
        }
    }
}

fn define_abbrev(c: &mut Cursor) -> Result<Vec<Op>> {
    let n = c.vbr(5)? as usize;
    if n == 0 || n > c.bits_left() {
        return Err(c.malformed(format!("abbreviation with {n} operands")));
    }
    let mut ops: Vec<Op> = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        i += 1;
        if c.read(1)? == 1 {
            ops.push(Op::Literal(c.vbr(8)?));
            continue;
        }
        let op = match c.read(3)? {
            1 => {
                let w = c.vbr(5)?;
                if w > 64 {
                    return Err(c.malformed(format!("fixed field of {w} bits")));
                }
                Op::Fixed(w as u32)
            }
            2 => {
                let w = c.vbr(5)?;
                if !(2..=32).contains(&w) {
                    return Err(c.malformed(format!("VBR field of width {w}")));
                }
                Op::Vbr(w as u32)
            }
            3 => {
                // An array is the last but one operand; the last is its element type.
                if i != n - 1 {
                    return Err(c.malformed("array not followed by exactly one element type"));
                }
                i += 1;
                let element = if c.read(1)? == 1 {
                    Op::Literal(c.vbr(8)?)
                } else {
                    match c.read(3)? {
                        1 => Op::Fixed(c.vbr(5)?.min(65) as u32),
                        2 => Op::Vbr(c.vbr(5)?.min(33) as u32),
                        4 => Op::Char6,
                        e => return Err(c.malformed(format!("array of encoding {e}"))),
                    }
                };
                match element {
                    Op::Fixed(w) if w > 64 => return Err(c.malformed("fixed field wider than 64 bits")),
                    Op::Vbr(w) if !(2..=32).contains(&w) => return Err(c.malformed("bad VBR width")),
                    _ => {}
                }
                Op::Array(Box::new(element))
            }
            4 => Op::Char6,
            5 => {
                if i != n {
                    return Err(c.malformed("blob is not the last operand"));
                }
                Op::Blob
            }
            e => return Err(c.malformed(format!("operand encoding {e}"))),
        };
        ops.push(op);
    }
    Ok(ops)
}

fn scalar(c: &mut Cursor, op: &Op) -> Result<u64> {
    match op {
        Op::Literal(v) => Ok(*v),
        Op::Fixed(w) => c.read(*w),
        Op::Vbr(w) => c.vbr(*w),
        Op::Char6 => {
            const CHARS: &[u8; 64] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._";
            Ok(CHARS[c.read(6)? as usize] as u64)
        }
        Op::Array(_) | Op::Blob => Err(c.malformed("array or blob inside an array")),
    }
}

fn abbreviated<'a>(c: &mut Cursor<'a>, abbrev: &[Op]) -> Result<Record<'a>> {
    let mut values = Vec::new();
    let mut blob = None;
    for op in abbrev {
        match op {
            Op::Array(element) => {
                let n = c.vbr(6)? as usize;
                if n > c.bits_left() {
                    return Err(BitcodeError::Truncated(c.bit));
                }
                values.reserve(n);
                for _ in 0..n {
                    values.push(scalar(c, element)?);
                }
            }
            Op::Blob => {
                let n = c.vbr(6)? as usize;
                c.align32()?;
                let start = c.bit / 8;
                let bytes =
                    start.checked_add(n).and_then(|e| c.data.get(start..e)).ok_or(BitcodeError::Truncated(c.bit))?;
                c.bit += n * 8;
                c.align32()?;
                blob = Some(bytes);
            }
            other => values.push(scalar(c, other)?),
        }
    }
    if values.is_empty() {
        return Err(c.malformed("abbreviated record without a code"));
    }
    let code = u32::try_from(values.remove(0)).map_err(|_| c.malformed("record code too large"))?;
    Ok(Record { code, ops: values, blob })
}

/// A module as a ThinLTO index names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexModule {
    /// Its ID in the index's summaries.
    pub id: u64,
    /// Its path as the thin link was given it (exec-root relative here).
    pub path: String,
    /// Its LLVM module hash (`MODULE_CODE_HASH`) when the thin link read it;
    /// zero if it had none.
    pub hash: [u32; 5],
}

/// One summary of an index: a global of one of its modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSummary {
    pub guid: u64,
    /// The ID of the module defining it ([`IndexModule::id`]).
    pub module: u64,
    /// Imported as a declaration only (`-import-declaration`), not as a definition.
    pub declaration: bool,
    pub kind: SummaryKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryKind {
    Function,
    Variable,
    Alias,
}

/// What a backend's index (`.thinlto.bc`) holds: the modules it names, the
/// summaries of what comes from each.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Index {
    pub modules: Vec<IndexModule>,
    pub summaries: Vec<IndexSummary>,
}

impl Index {
    pub fn module_by_id(&self, id: u64) -> Option<&IndexModule> {
        self.modules.iter().find(|m| m.id == id)
    }
}

#[derive(Default)]
struct IndexVisitor {
    index: Index,
    /// Summary value ID -> GUID (FS_VALUE_GUID).
    guids: HashMap<u64, u64>,
    /// (value ID, module ID, flags, kind), in file order.
    raw: Vec<(u64, u64, u64, SummaryKind)>,
}

impl<'a> Visitor<'a> for IndexVisitor {
    fn enter(&mut self, stack: &[u32], id: u32) -> bool {
        match stack {
            [] => id == MODULE_BLOCK,
            [MODULE_BLOCK] => id == MODULE_STRTAB_BLOCK || id == GLOBALVAL_SUMMARY_BLOCK,
            _ => false,
        }
    }

    fn record(&mut self, stack: &[u32], r: Record<'a>) -> Result<()> {
        let bad = |what: &str| BitcodeError::Malformed { bit: 0, reason: format!("{what} record too short") };
        match stack.last() {
            Some(&MODULE_STRTAB_BLOCK) => match r.code {
                // MST_CODE_ENTRY: [modid, namechar x N]
                1 => {
                    let id = *r.ops.first().ok_or_else(|| bad("module path"))?;
                    let path = r.string(1).ok_or_else(|| bad("module path"))?;
                    self.index.modules.push(IndexModule { id, path, hash: [0; 5] });
                }
                // MST_CODE_HASH: [5 x i32], of the entry before it
                2 => {
                    if let (Some(m), true) = (self.index.modules.last_mut(), r.ops.len() == 5) {
                        for (h, &op) in m.hash.iter_mut().zip(&r.ops) {
                            *h = op as u32;
                        }
                    }
                }
                _ => {}
            },
            Some(&GLOBALVAL_SUMMARY_BLOCK) => {
                let kind = match r.code {
                    // FS_COMBINED, FS_COMBINED_PROFILE: [valueid, modid, flags, ...]
                    4 | 5 => Some(SummaryKind::Function),
                    // FS_COMBINED_GLOBALVAR_INIT_REFS: [valueid, modid, flags, ...]
                    6 => Some(SummaryKind::Variable),
                    // FS_COMBINED_ALIAS: [valueid, modid, flags, aliasee]
                    8 => Some(SummaryKind::Alias),
                    // FS_VALUE_GUID: [valueid, guid] or [valueid, guid >> 32, guid & 0xffffffff]
                    16 => {
                        let guid = match r.ops[..] {
                            [_, hi, lo] => (hi << 32) | (lo & 0xffff_ffff),
                            [_, g] => g,
                            _ => return Err(bad("VALUE_GUID")),
                        };
                        self.guids.insert(r.ops[0], guid);
                        None
                    }
                    _ => None,
                };
                if let Some(kind) = kind {
                    match r.ops[..] {
                        [value, module, flags, ..] => self.raw.push((value, module, flags, kind)),
                        _ => return Err(bad("summary")),
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Reads a ThinLTO index (what `-fthinlto-index=` names).
pub fn read_index(bytes: &[u8]) -> std::result::Result<Index, BitcodeError> {
    let mut v = IndexVisitor::default();
    walk(bytes, &mut v)?;
    let IndexVisitor { mut index, guids, raw } = v;
    for (value, module, flags, kind) in raw {
        // Summary flags: bit 10 is the import type (0 definition, 1 declaration).
        let declaration = flags & (1 << 10) != 0;
        let guid = guids.get(&value).copied().unwrap_or(0);
        index.summaries.push(IndexSummary { guid, module, declaration, kind });
    }
    Ok(index)
}

/// A global a module defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    pub kind: SummaryKind,
    /// Internal or private linkage: its GUID includes the source file name.
    pub local: bool,
    pub guid: u64,
}

/// What [`read_module`] reads of a bitcode module.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// The IDENTIFICATION block's producer, e.g. `LLVM22.1.8` (clang) or
    /// `LLVM22.1.2-rust-1.95.0-stable` (rustc).
    pub producer: String,
    pub source_filename: String,
    /// `MODULE_CODE_HASH`, zero if it has none.
    pub hash: [u32; 5],
    /// The globals it defines (functions, variables, aliases), in file order.
    pub definitions: Vec<Definition>,
}

impl ModuleInfo {
    /// Whether rustc produced it (its producer string names Rust).
    pub fn is_rust(&self) -> bool {
        self.producer.contains("rust")
    }
}

#[derive(Default)]
struct ModuleVisitor<'a> {
    info: ModuleInfo,
    /// (strtab offset, size, kind, linkage) of each definition.
    globals: Vec<(u64, u64, SummaryKind, u64)>,
    strtab: Option<&'a [u8]>,
    /// Names live in the string table only from module version 2 on.
    version: u64,
}

impl<'a> Visitor<'a> for ModuleVisitor<'a> {
    fn enter(&mut self, stack: &[u32], id: u32) -> bool {
        stack.is_empty() && matches!(id, IDENTIFICATION_BLOCK | MODULE_BLOCK | STRTAB_BLOCK)
    }

    fn record(&mut self, stack: &[u32], r: Record<'a>) -> Result<()> {
        match (stack.last(), r.code) {
            // IDENTIFICATION_CODE_STRING
            (Some(&IDENTIFICATION_BLOCK), 1) if self.info.producer.is_empty() => {
                self.info.producer = r.string(0).unwrap_or_default();
            }
            (Some(&MODULE_BLOCK), code) => match (code, &r.ops[..]) {
                (1, [v, ..]) => self.version = *v,
                // SOURCE_FILENAME: [namechar x N]
                (16, _) => self.info.source_filename = r.string(0).unwrap_or_default(),
                // HASH: [5 x i32]
                (17, ops) if ops.len() == 5 => {
                    for (h, &op) in self.info.hash.iter_mut().zip(ops) {
                        *h = op as u32;
                    }
                }
                // FUNCTION: [strtab offset, size, type, cc, isproto, linkage, ...]
                (8, [off, size, _, _, isproto, linkage, ..]) if *isproto == 0 => {
                    self.globals.push((*off, *size, SummaryKind::Function, *linkage))
                }
                // GLOBALVAR: [strtab offset, size, type, isconst, initid, linkage, ...]
                (7, [off, size, _, _, initid, linkage, ..]) if *initid != 0 => {
                    self.globals.push((*off, *size, SummaryKind::Variable, *linkage))
                }
                // ALIAS: [strtab offset, size, type, addrspace, aliasee, linkage, ...]
                (14, [off, size, _, _, _, linkage, ..]) => {
                    self.globals.push((*off, *size, SummaryKind::Alias, *linkage))
                }
                _ => {}
            },
            // STRTAB_BLOB
            (Some(&STRTAB_BLOCK), 1) => self.strtab = self.strtab.or(r.blob),
            _ => {}
        }
        Ok(())
    }
}

/// The encoded linkage of a copy of a definition from elsewhere.
const AVAILABLE_EXTERNALLY: u64 = 12;

/// Whether an encoded linkage (`getDecodedLinkage`) is internal or private.
fn is_local_linkage(encoded: u64) -> bool {
    matches!(encoded, 3 | 9 | 13 | 14)
}

/// Reads what a bitcode module defines, and who produced it.
pub fn read_module(bytes: &[u8]) -> std::result::Result<ModuleInfo, BitcodeError> {
    let mut v = ModuleVisitor::default();
    walk(bytes, &mut v)?;
    let ModuleVisitor { mut info, globals, strtab, version } = v;
    if version >= 2 {
        let strtab = strtab.unwrap_or_default();
        for (off, size, kind, linkage) in globals {
            let name = usize::try_from(off)
                .ok()
                .zip(usize::try_from(size).ok())
                .and_then(|(o, s)| strtab.get(o..o.checked_add(s)?))
                .map(|b| String::from_utf8_lossy(b).into_owned());
            let Some(name) = name.filter(|n| !n.is_empty()) else { continue };
            if linkage == AVAILABLE_EXTERNALLY {
                continue; // a copy of another module's definition
            }
            let local = is_local_linkage(linkage);
            let guid = guid(&name, local, &info.source_filename);
            info.definitions.push(Definition { name, kind, local, guid });
        }
    }
    Ok(info)
}

/// LLVM's GUID of a global (`GlobalValue::getGUIDAssumingExternalLinkage` of
/// its global identifier): the low 64 bits of the MD5 of its name, prefixed
/// by `<source file>;` for a local one; a leading `\1` (no mangling) dropped.
pub fn guid(name: &str, local: bool, source_filename: &str) -> u64 {
    use md5::Digest as _;
    let name = name.strip_prefix('\u{1}').unwrap_or(name);
    let mut h = md5::Md5::new();
    if local {
        h.update(if source_filename.is_empty() { "<unknown>" } else { source_filename }.as_bytes());
        h.update(b";");
    }
    h.update(name.as_bytes());
    let d = h.finalize();
    u64::from_le_bytes(d[..8].try_into().expect("MD5 has 16 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes bitstreams for the tests, as LLVM's BitstreamWriter does.
    #[derive(Default)]
    struct Writer {
        bits: Vec<bool>,
    }

    impl Writer {
        fn emit(&mut self, v: u64, n: u32) {
            for i in 0..n {
                self.bits.push(v >> i & 1 == 1);
            }
        }
        fn vbr(&mut self, mut v: u64, w: u32) {
            let hi = 1 << (w - 1);
            while v >= hi {
                self.emit(v & (hi - 1) | hi, w);
                v >>= w - 1;
            }
            self.emit(v, w);
        }
        fn align(&mut self) {
            while self.bits.len() % 32 != 0 {
                self.bits.push(false);
            }
        }
        /// Enters a block; returns where its length word goes.
        fn enter(&mut self, width: u32, id: u64, new_width: u32) -> usize {
            self.emit(1, width);
            self.vbr(id, 8);
            self.vbr(new_width as u64, 4);
            self.align();
            let at = self.bits.len();
            self.emit(0, 32);
            at
        }
        fn exit(&mut self, width: u32, at: usize) {
            self.emit(0, width);
            self.align();
            let words = (self.bits.len() - at - 32) / 32;
            for i in 0..32 {
                self.bits[at + i] = words >> i & 1 == 1;
            }
        }
        fn unabbrev(&mut self, width: u32, code: u64, ops: &[u64]) {
            self.emit(3, width);
            self.vbr(code, 6);
            self.vbr(ops.len() as u64, 6);
            for &o in ops {
                self.vbr(o, 6);
            }
        }
        fn bytes(&self) -> Vec<u8> {
            let mut out = b"BC\xC0\xDE".to_vec();
            for chunk in self.bits.chunks(8) {
                out.push(chunk.iter().enumerate().fold(0, |b, (i, &bit)| b | (bit as u8) << i));
            }
            out
        }
    }

    fn chars(s: &str) -> Vec<u64> {
        s.bytes().map(u64::from).collect()
    }

    /// An index as lld writes one: a module string table and combined summaries,
    /// the paths in an abbreviation with a char6 array, as LLVM writes them.
    fn sample_index() -> Vec<u8> {
        let mut w = Writer::default();
        let module = w.enter(2, MODULE_BLOCK as u64, 3);
        w.unabbrev(3, 1, &[2]);
        let strtab = w.enter(3, MODULE_STRTAB_BLOCK as u64, 3);
        // DEFINE_ABBREV [literal 1 (ENTRY), vbr8 (module ID), array of char6]
        w.emit(2, 3);
        w.vbr(4, 5);
        w.emit(1, 1);
        w.vbr(1, 8);
        w.emit(0, 1);
        w.emit(2, 3);
        w.vbr(8, 5);
        w.emit(0, 1);
        w.emit(3, 3);
        w.emit(0, 1);
        w.emit(4, 3);
        // ENTRY 0 "obj/a.o" is not char6 ('/'): unabbreviated; ENTRY 1 "b.o" abbreviated.
        w.unabbrev(3, 1, &[[0].as_slice(), &chars("obj/a.o")].concat());
        w.unabbrev(3, 2, &[1, 2, 3, 4, 5]);
        w.emit(4, 3);
        w.vbr(1, 8);
        w.vbr(3, 6);
        for c in [1u64, 62, 14] {
            // char6: 'b' = 1, '.' = 62, 'o' = 14
            w.emit(c, 6);
        }
        w.exit(3, strtab);
        let summary = w.enter(3, GLOBALVAL_SUMMARY_BLOCK as u64, 4);
        w.unabbrev(4, 16, &[7, 0x1234, 0x5678_9abc]);
        w.unabbrev(4, 16, &[8, 0xffff_ffff, 1]);
        w.unabbrev(4, 5, &[7, 0, 96, 1]);
        w.unabbrev(4, 4, &[8, 1, 1120, 1]);
        w.exit(4, summary);
        w.exit(3, module);
        w.bytes()
    }

    #[test]
    fn reads_an_index() {
        let index = read_index(&sample_index()).unwrap();
        assert_eq!(
            index.modules,
            [
                IndexModule { id: 0, path: "obj/a.o".into(), hash: [1, 2, 3, 4, 5] },
                IndexModule { id: 1, path: "b.o".into(), hash: [0; 5] }
            ]
        );
        assert_eq!(
            index.summaries,
            [
                IndexSummary { guid: 0x1234_5678_9abc, module: 0, declaration: false, kind: SummaryKind::Function },
                IndexSummary { guid: 0xffff_ffff_0000_0001, module: 1, declaration: true, kind: SummaryKind::Function },
            ]
        );
    }

    #[test]
    fn every_prefix_of_an_index_is_an_error_not_a_panic() {
        let bytes = sample_index();
        for n in 0..bytes.len() {
            let _ = read_index(&bytes[..n]);
            let _ = read_module(&bytes[..n]);
        }
        assert_eq!(read_index(b"!<arch>\n"), Err(BitcodeError::NotBitcode));
        assert!(matches!(read_index(&bytes[..bytes.len() - 4]), Err(BitcodeError::Malformed { .. })));
        let mut wrapped = vec![0xDE, 0xC0, 0x17, 0x0B, 0, 0, 0, 0, 20, 0, 0, 0];
        wrapped.extend((bytes.len() as u32).to_le_bytes());
        wrapped.extend([0; 4]);
        wrapped.extend(&bytes);
        assert_eq!(read_index(&wrapped).unwrap(), read_index(&bytes).unwrap());
    }

    #[test]
    fn reads_a_module_with_names_from_its_string_table() {
        let mut w = Writer::default();
        let ident = w.enter(2, IDENTIFICATION_BLOCK as u64, 5);
        w.unabbrev(5, 1, &chars("LLVM22.1.2-rust-1.95.0-stable"));
        w.exit(5, ident);
        let module = w.enter(2, MODULE_BLOCK as u64, 3);
        w.unabbrev(3, 1, &[2]);
        w.unabbrev(3, 16, &chars("src/x.rs"));
        // a defined external function, a declaration, a local function, a variable declaration
        w.unabbrev(3, 8, &[0, 3, 0, 0, 0, 0]);
        w.unabbrev(3, 8, &[3, 4, 0, 0, 1, 0]);
        w.unabbrev(3, 8, &[7, 5, 0, 0, 0, 3]);
        w.unabbrev(3, 7, &[0, 3, 0, 0, 0, 0]);
        // a function body block, skipped
        let body = w.enter(3, 12, 4);
        w.unabbrev(4, 1, &[1]);
        w.exit(4, body);
        w.unabbrev(3, 17, &[9, 8, 7, 6, 5]);
        w.exit(3, module);
        let strtab = w.enter(2, STRTAB_BLOCK as u64, 3);
        // DEFINE_ABBREV [literal 1, blob]
        w.emit(2, 3);
        w.vbr(2, 5);
        w.emit(1, 1);
        w.vbr(1, 8);
        w.emit(0, 1);
        w.emit(5, 3);
        w.emit(4, 3);
        let blob = b"fooputslocal";
        w.vbr(blob.len() as u64, 6);
        w.align();
        for &b in blob {
            w.emit(b as u64, 8);
        }
        w.align();
        w.exit(3, strtab);
        let info = read_module(&w.bytes()).unwrap();
        assert!(info.is_rust());
        assert_eq!(info.source_filename, "src/x.rs");
        assert_eq!(info.hash, [9, 8, 7, 6, 5]);
        let names: Vec<(&str, bool)> = info.definitions.iter().map(|d| (d.name.as_str(), d.local)).collect();
        assert_eq!(names, [("foo", false), ("local", true)]);
        assert_eq!(info.definitions[1].guid, guid("local", true, "src/x.rs"));
    }

    #[test]
    fn guids_are_llvms() {
        // From a real index (clang-22): cpp_square's VALUE_GUID record is [_, 4216337162, 4288697669].
        assert_eq!(guid("cpp_square", false, "src/geometry.cc"), 4216337162u64 << 32 | 4288697669);
        assert_eq!(guid("\u{1}cpp_square", false, ""), guid("cpp_square", false, "x"));
    }
}
