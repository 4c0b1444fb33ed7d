//! Response ("param") files in the GNU syntax clang and lld read with `@file`:
//! one argument per line, quoted only when it must be.

pub fn quote(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=+/.,:%@^~#".contains(&b));
    if plain {
        return arg.to_string();
    }
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('\'');
    for c in arg.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// The bytes of a response file holding `args`.
pub fn render<S: AsRef<str>>(args: &[S]) -> Vec<u8> {
    let mut out = String::new();
    for a in args {
        out.push_str(&quote(a.as_ref()));
        out.push('\n');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("-Wl,--start-lib"), "-Wl,--start-lib");
        assert_eq!(quote("bazel-out/k8-opt/bin/a.o"), "bazel-out/k8-opt/bin/a.o");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("x;y"), "'x;y'");
        assert_eq!(quote(""), "''");
        assert_eq!(render(&["a", "b c"]), b"a\n'b c'\n");
    }
}
