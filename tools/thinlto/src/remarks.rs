//! LLVM's optimization remarks, as clang writes them with
//! `-fsave-optimization-record=yaml` (what `thinlto backend --remarks` asks
//! for): one YAML document per remark.
//!
//! ```text
//! --- !Passed
//! Pass:            inline
//! Name:            Inlined
//! DebugLoc:        { File: 'src/main.cc', Line: 12, Column: 10 }
//! Function:        main
//! Args:
//!   - String:          ''''
//!   - Callee:          cpp_square
//!     DebugLoc:        { File: 'src/geometry.cc', Line: 3, Column: 0 }
//!   - String:          ''' inlined into '''
//!   - Caller:          main
//!   - String:          ' with '
//!   - String:          '(cost='
//!   - Cost:            '-30'
//!   ...
//! ...
//! ```
//!
//! The documents are written by `llvm::yaml::Output` from one fixed schema
//! (`llvm/lib/Remarks/YAMLRemarkSerializer.cpp`): a tag, scalar fields, one
//! flow mapping (`DebugLoc`, which may wrap onto the next lines), and `Args`,
//! a sequence of one-key mappings. That is the subset read here, by hand
//! rather than with a YAML library: `serde_yaml` is deprecated, `serde_yml`
//! has an unsoundness advisory (RUSTSEC-2025-0068), and a general parser such
//! as `yaml-rust2` would need its event API to keep the `!Passed`/`!Missed`
//! tag, for records a line-oriented reader takes apart many times faster
//! (a program's remarks run to hundreds of MB). Quoting follows YAML (single
//! quotes doubling `'`, double quotes with backslash escapes). Anything else
//! is an error naming the line, never a panic (fuzzed: FUZZING.md).

/// Why a file is not a remarks file we can read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {reason}")]
pub struct RemarksError {
    pub line: usize,
    pub reason: String,
}

/// One remark.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Remark {
    /// The document's tag: `Passed`, `Missed`, `Analysis`, ...
    pub kind: String,
    pub pass: String,
    pub name: String,
    /// The function the remark is about (for the inliner: the caller).
    pub function: String,
    /// `file:line:column`, if the remark has a debug location.
    pub debug_loc: Option<String>,
    /// The arguments, in order: each a key and its value.
    pub args: Vec<(String, String)>,
}

impl Remark {
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The remark's message: its arguments' values, concatenated.
    pub fn message(&self) -> String {
        self.args.iter().map(|(_, v)| v.as_str()).collect()
    }
}

/// What the inliner decided at one call site, from one remark.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InlineDecision {
    pub caller: String,
    pub callee: String,
    pub inlined: bool,
    /// Why, in LLVM's words: `cost=-30, threshold=337`, `its definition is
    /// unavailable`, `too costly to inline (cost=400, threshold=337)`, ...
    pub reason: String,
}

/// The inliner's decision a remark records (pass `inline`, `Passed` or
/// `Missed`, with a callee), if it records one.
pub fn inline_decision(r: &Remark) -> Option<InlineDecision> {
    if r.pass != "inline" {
        return None;
    }
    let inlined = match r.kind.as_str() {
        "Passed" => true,
        "Missed" => false,
        _ => return None,
    };
    let callee = r.arg("Callee")?.to_string();
    let caller = r.arg("Caller").unwrap_or(&r.function).to_string();
    // The reason: what the message says after the caller, up to the call site's location.
    let after_caller = r.args.iter().position(|(k, _)| k == "Caller").map_or(r.args.len(), |i| i + 1);
    let mut reason = String::new();
    for (k, v) in &r.args[after_caller..] {
        if k == "String" && v.starts_with(" at callsite") {
            break;
        }
        reason.push_str(v);
    }
    let mut reason = reason.trim().trim_start_matches('\'').trim();
    for prefix in ["with ", "because "] {
        reason = reason.strip_prefix(prefix).unwrap_or(reason);
    }
    if reason.starts_with('(') && reason.ends_with(')') && reason[1..].find(')') == Some(reason.len() - 2) {
        reason = &reason[1..reason.len() - 1];
    }
    let reason = if reason.is_empty() { r.name.clone() } else { reason.to_string() };
    Some(InlineDecision { caller, callee, inlined, reason })
}

/// The lines a `{ ... }` may wrap onto (a `DebugLoc` has three entries).
const MAX_WRAPPED_LINES: usize = 8;

/// Parses a remarks file. An empty file (a backend with nothing to say) has no remarks.
pub fn parse(text: &str) -> Result<Vec<Remark>, RemarksError> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).peekable();
    let err = |line: usize, reason: &str| RemarksError { line, reason: reason.to_string() };
    while let Some((n, line)) = lines.next() {
        if line.trim().is_empty() {
            continue;
        }
        let Some(tag) = line.strip_prefix("--- !") else {
            return Err(err(n, "expected a remark ('--- !Passed', '--- !Missed', ...)"));
        };
        let tag = tag.trim_end();
        if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(err(n, &format!("'{tag}' is not a remark kind")));
        }
        let mut r = Remark { kind: tag.to_string(), ..Remark::default() };
        let mut in_args = false;
        let mut ended = false;
        while let Some((n, line)) = lines.next() {
            if line == "..." {
                ended = true;
                break;
            }
            if line.trim().is_empty() {
                continue;
            }
            let (indent, item, body) = if let Some(rest) = line.strip_prefix("  - ") {
                (2, true, rest)
            } else if let Some(rest) = line.strip_prefix("    ") {
                (4, false, rest)
            } else if !line.starts_with(' ') {
                (0, false, line)
            } else {
                return Err(err(n, "unexpected indentation"));
            };
            let (key, raw) = split_key(body).ok_or_else(|| err(n, "expected 'Key: value'"))?;
            // A flow mapping may wrap onto the lines after it.
            let mut raw = raw.to_string();
            if raw.starts_with('{') {
                // LLVM wraps a flow mapping at column 70: a few lines at most.
                let mut wrapped = 0;
                while !flow_closed(&raw) {
                    wrapped += 1;
                    let more = lines.next().filter(|_| wrapped <= MAX_WRAPPED_LINES);
                    let Some((_, more)) = more else {
                        return Err(err(n, "unterminated '{'"));
                    };
                    raw.push(' ');
                    raw.push_str(more.trim());
                }
            }
            match (indent, item) {
                (0, _) => {
                    in_args = false;
                    match key {
                        "Args" if raw.is_empty() => in_args = true,
                        "DebugLoc" => r.debug_loc = Some(debug_loc(&raw).map_err(|e| err(n, &e))?),
                        _ => {
                            let value = scalar(&raw).map_err(|e| err(n, &e))?;
                            match key {
                                "Pass" => r.pass = value,
                                "Name" => r.name = value,
                                "Function" => r.function = value,
                                _ => {} // Hotness, and fields of later LLVMs
                            }
                        }
                    }
                }
                (2, true) if in_args => {
                    let value =
                        if raw.starts_with('{') { raw.clone() } else { scalar(&raw).map_err(|e| err(n, &e))? };
                    r.args.push((key.to_string(), value));
                }
                // An argument's debug location (or another field of it): not needed.
                (4, false) if in_args && !r.args.is_empty() => {
                    if !raw.starts_with('{') {
                        scalar(&raw).map_err(|e| err(n, &e))?;
                    }
                }
                _ => return Err(err(n, "an argument outside 'Args:'")),
            }
        }
        if !ended {
            return Err(err(text.lines().count(), "remark without its closing '...' (truncated file?)"));
        }
        out.push(r);
    }
    Ok(out)
}

/// `Key:   value` -> (`Key`, `value`); the key is a plain word.
fn split_key(body: &str) -> Option<(&str, &str)> {
    let colon = body.find(':')?;
    let key = &body[..colon];
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.') {
        return None;
    }
    let rest = &body[colon + 1..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim()))
}

/// Whether a flow mapping's text has its closing `}` (outside quotes).
fn flow_closed(s: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut depth = 0i32;
    for c in s.chars() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return true;
                    }
                }
                _ => {}
            },
        }
    }
    false
}

/// A scalar: plain, 'single quoted' or "double quoted".
fn scalar(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if let Some(body) = raw.strip_prefix('\'') {
        let body = body.strip_suffix('\'').ok_or("unterminated single-quoted string")?;
        let mut out = String::with_capacity(body.len());
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' && chars.next() != Some('\'') {
                return Err("a lone ' inside a single-quoted string".into());
            }
            out.push(c);
        }
        return Ok(out);
    }
    if let Some(body) = raw.strip_prefix('"') {
        let body = body.strip_suffix('"').filter(|b| !ends_escaped(b)).ok_or("unterminated double-quoted string")?;
        return unescape(body);
    }
    if raw.starts_with(['{', '[', '&', '*', '|', '>']) {
        return Err(format!("unsupported YAML value '{raw}'"));
    }
    Ok(raw.to_string())
}

/// Whether `s` ends in an odd number of backslashes (its last quote escaped).
fn ends_escaped(s: &str) -> bool {
    s.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

fn unescape(body: &str) -> Result<String, String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            return Err("an unescaped \" inside a double-quoted string".into());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or("a lone \\ at the end of a string")?;
        let hex = |chars: &mut std::str::Chars, n: usize| -> Result<char, String> {
            let digits: String = chars.by_ref().take(n).collect();
            u32::from_str_radix(&digits, 16)
                .ok()
                .filter(|_| digits.len() == n)
                .and_then(char::from_u32)
                .ok_or_else(|| format!("bad escape '\\{e}{digits}'"))
        };
        out.push(match e {
            '0' => '\0',
            'a' => '\x07',
            'b' => '\x08',
            't' | '\t' => '\t',
            'n' => '\n',
            'v' => '\x0b',
            'f' => '\x0c',
            'r' => '\r',
            'e' => '\x1b',
            ' ' => ' ',
            '"' => '"',
            '/' => '/',
            '\\' => '\\',
            'N' => '\u{85}',
            '_' => '\u{a0}',
            'L' => '\u{2028}',
            'P' => '\u{2029}',
            'x' => hex(&mut chars, 2)?,
            'u' => hex(&mut chars, 4)?,
            'U' => hex(&mut chars, 8)?,
            other => return Err(format!("unknown escape '\\{other}'")),
        });
    }
    Ok(out)
}

/// `{ File: 'a.cc', Line: 3, Column: 10 }` -> `a.cc:3:10`.
fn debug_loc(raw: &str) -> Result<String, String> {
    let inner = raw.trim().strip_prefix('{').and_then(|s| s.strip_suffix('}')).ok_or("expected '{ ... }'")?;
    let (mut file, mut line, mut column) = (String::new(), String::new(), String::new());
    for (key, value) in flow_entries(inner)? {
        match key.as_str() {
            "File" => file = value,
            "Line" => line = value,
            "Column" => column = value,
            _ => {}
        }
    }
    Ok(format!("{file}:{line}:{column}"))
}

/// The `key: value` entries of a flow mapping's inside, values unquoted.
fn flow_entries(inner: &str) -> Result<Vec<(String, String)>, String> {
    let mut entries = Vec::new();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let colon = rest.find(':').ok_or("expected 'Key: value' in '{ ... }'")?;
        let key = rest[..colon].trim().to_string();
        rest = rest[colon + 1..].trim_start();
        // The value runs to the next comma outside quotes.
        let mut end = rest.len();
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match quote {
                Some('"') if escaped => escaped = false,
                Some('"') if c == '\\' => escaped = true,
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '\'' || c == '"' => quote = Some(c),
                None if c == ',' => {
                    end = i;
                    break;
                }
                None => {}
            }
        }
        entries.push((key, scalar(&rest[..end])?));
        rest = rest.get(end + 1..).unwrap_or("").trim_start();
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "--- !Passed
Pass:            inline
Name:            Inlined
DebugLoc:        { File: 'src/main.cc', Line: 12, Column: 10 }
Function:        main
Args:
  - String:          ''''
  - Callee:          rust_square_plus_one
    DebugLoc:        { File: src/stats.rs, Line: 9, Column: 0 }
  - String:          ''' inlined into '''
  - Caller:          main
  - String:          ''''
  - String:          ' with '
  - String:          '(cost='
  - Cost:            '-25'
  - String:          ', threshold='
  - Threshold:       '337'
  - String:          ')'
  - String:          ' at callsite '
  - String:          main
  - String:          ':'
  - Line:            3
  - String:          ';'
...
--- !Missed
Pass:            inline
Name:            NoDefinition
DebugLoc:        { File: 'a very long path/that wraps onto the next line because it is longer than seventy.cc', 
                   Line: 1, Column: 2 }
Function:        main
Hotness:         12
Args:
  - Callee:          \"fancy\\x41 \\\"name\\\"\"
  - String:          ' will not be inlined into '
  - Caller:          main
  - String:          ' because its definition is unavailable'
...
";

    #[test]
    fn parses_remarks_and_inline_decisions() {
        let remarks = parse(SAMPLE).unwrap();
        assert_eq!(remarks.len(), 2);
        let r = &remarks[0];
        assert_eq!(
            (r.kind.as_str(), r.pass.as_str(), r.name.as_str(), r.function.as_str()),
            ("Passed", "inline", "Inlined", "main")
        );
        assert_eq!(r.debug_loc.as_deref(), Some("src/main.cc:12:10"));
        assert_eq!(
            r.message(),
            "'rust_square_plus_one' inlined into 'main' with (cost=-25, threshold=337) at callsite main:3;"
        );
        assert_eq!(
            inline_decision(r),
            Some(InlineDecision {
                caller: "main".into(),
                callee: "rust_square_plus_one".into(),
                inlined: true,
                reason: "cost=-25, threshold=337".into()
            })
        );
        let r = &remarks[1];
        assert_eq!(
            r.debug_loc.as_deref(),
            Some("a very long path/that wraps onto the next line because it is longer than seventy.cc:1:2")
        );
        assert_eq!(
            inline_decision(r),
            Some(InlineDecision {
                caller: "main".into(),
                callee: "fancyA \"name\"".into(),
                inlined: false,
                reason: "its definition is unavailable".into()
            })
        );
        assert_eq!(parse("").unwrap(), []);
    }

    #[test]
    fn reasons_in_llvms_words() {
        let missed = |args: &[(&str, &str)]| Remark {
            kind: "Missed".into(),
            pass: "inline".into(),
            name: "TooCostly".into(),
            function: "f".into(),
            debug_loc: None,
            args: args.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        let r = missed(&[
            ("Callee", "g"),
            ("String", " not inlined into "),
            ("Caller", "f"),
            ("String", " because too costly to inline "),
            ("String", "(cost="),
            ("Cost", "400"),
            ("String", ", threshold="),
            ("Threshold", "337"),
            ("String", ")"),
        ]);
        assert_eq!(inline_decision(&r).unwrap().reason, "too costly to inline (cost=400, threshold=337)");
        let r = missed(&[("Callee", "g"), ("String", " not inlined into "), ("Caller", "f")]);
        assert_eq!(inline_decision(&r).unwrap().reason, "TooCostly");
        let mut other = r.clone();
        other.pass = "gvn".into();
        assert_eq!(inline_decision(&other), None);
        other = r.clone();
        other.kind = "Analysis".into();
        assert_eq!(inline_decision(&other), None);
    }

    #[test]
    fn errors_name_the_line() {
        let e = |t: &str| parse(t).unwrap_err().to_string();
        assert_eq!(e("Pass: inline\n"), "line 1: expected a remark ('--- !Passed', '--- !Missed', ...)");
        assert_eq!(e("--- !Passed\nPass: inline\n"), "line 2: remark without its closing '...' (truncated file?)");
        assert_eq!(e("--- !Passed\nPass: 'inline\n...\n"), "line 2: unterminated single-quoted string");
        assert_eq!(e("--- !Passed\nPass: \"a\\qb\"\n...\n"), "line 2: unknown escape '\\q'");
        assert_eq!(e("--- !Passed\n  - Callee: f\n...\n"), "line 2: an argument outside 'Args:'");
        assert_eq!(e("--- !Passed\n   Pass: x\n...\n"), "line 2: unexpected indentation");
        assert_eq!(e("--- !Passed\nDebugLoc: { File: a\n"), "line 2: unterminated '{'");
        assert_eq!(
            e(&format!("--- !Passed\nDebugLoc: {{ File: a{}\n...\n", ",\n x: 1".repeat(20))),
            "line 2: unterminated '{'"
        );
        assert_eq!(e("--- !Pass ed\n...\n"), "line 1: 'Pass ed' is not a remark kind");
        assert_eq!(e("--- !Passed\nnot a key\n...\n"), "line 2: expected 'Key: value'");
        assert_eq!(e("--- !Passed\nPass: 'it's'\n...\n"), "line 2: a lone ' inside a single-quoted string");
        assert_eq!(e("--- !Passed\nPass: \"\\x4\"\n...\n"), "line 2: bad escape '\\x4'");
        for n in 0..SAMPLE.len() {
            if SAMPLE.is_char_boundary(n) {
                let _ = parse(&SAMPLE[..n]);
            }
        }
    }
}
