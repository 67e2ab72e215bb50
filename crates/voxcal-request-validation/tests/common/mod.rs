//! Helpers shared by the external-suite tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `$BOOKING_SHARED_DIR/testdata/<sub>`, or `None` after one stderr line when
/// the variable is not set.
#[allow(clippy::print_stderr)]
pub(crate) fn testdata(test: &str, sub: &str) -> Option<PathBuf> {
    match std::env::var_os("BOOKING_SHARED_DIR") {
        Some(dir) => {
            let path = PathBuf::from(dir).join("testdata").join(sub);
            assert!(path.exists(), "{} is missing", path.display());
            Some(path)
        }
        None => {
            eprintln!("{test}: skipped, BOOKING_SHARED_DIR is not set");
            None
        }
    }
}

pub(crate) fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Decodes a quoted string literal of Python or JavaScript starting at
/// `src[0]` (`'` or `"`, optionally prefixed by `r`). Returns the value
/// (`None` when it holds a lone surrogate, which Rust strings cannot) and the
/// number of bytes consumed.
pub(crate) fn string_literal(src: &str) -> (Option<String>, usize) {
    let raw = src.starts_with('r') || src.starts_with('R');
    let start = usize::from(raw);
    let quote = src[start..].chars().next().expect("quote");
    let mut out = String::new();
    let mut valid = true;
    let mut chars = src[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return (valid.then_some(out), start + 1 + i + 1);
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let (_, e) = chars.next().expect("escape");
        if raw {
            out.push('\\');
            out.push(e);
            continue;
        }
        let hex = |n: usize, chars: &mut std::str::CharIndices<'_>| {
            let digits: String = (0..n).map(|_| chars.next().expect("hex").1).collect();
            u32::from_str_radix(&digits, 16).expect("hex digits")
        };
        match e {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            '0' => out.push('\0'),
            '\n' => {}
            'x' => out.push(char::from_u32(hex(2, &mut chars)).expect("\\x")),
            'u' => match char::from_u32(hex(4, &mut chars)) {
                Some(c) => out.push(c),
                None => valid = false,
            },
            'U' => match char::from_u32(hex(8, &mut chars)) {
                Some(c) => out.push(c),
                None => valid = false,
            },
            other => out.push(other),
        }
    }
    panic!("unterminated string literal");
}
