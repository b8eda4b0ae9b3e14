//! The hostile corpora of `tests/corpus/`: tenant names and `Host` headers,
//! one entry per line, with the escapes the files document at their top.

use std::path::Path;

/// One corpus entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry, unescaped.
    pub text: String,
    /// Written `valid:NAME`: valid under the default rule.
    pub expect_valid: bool,
    /// Its line in the file.
    pub line: usize,
}

/// Reads `tests/corpus/{file}`.
///
/// # Panics
/// When the file is missing or an escape is malformed.
pub fn load(file: &str) -> Vec<Entry> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses a corpus.
///
/// # Errors
/// A malformed escape, with its line.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let (expect_valid, body) = match raw.strip_prefix("valid:") {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        let text = unescape(body).map_err(|e| format!("line {}: {e}", i + 1))?;
        out.push(Entry {
            text,
            expect_valid,
            line: i + 1,
        });
    }
    Ok(out)
}

/// `\\`, `\n`, `\r`, `\t`, `\0`, `\xNN` (ASCII), `\u{HEX}`, `\e` (nothing).
pub fn unescape(line: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('e') => {}
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = u8::from_str_radix(&hex, 16).map_err(|_| format!("bad \\x{hex}"))?;
                if !byte.is_ascii() {
                    return Err(format!("\\x{hex} is not ASCII: use \\u{{...}}"));
                }
                out.push(char::from(byte));
            }
            Some('u') => {
                if chars.next() != Some('{') {
                    return Err("\\u without {".to_owned());
                }
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let scalar = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad \\u{{{hex}}}"))?;
                out.push(scalar);
            }
            other => return Err(format!("unknown escape \\{other:?}")),
        }
    }
    Ok(out)
}
