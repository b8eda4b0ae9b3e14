//! The tokenizer: quoted identifiers, literals with each dialect's escapes,
//! comments, dollar-quoted bodies and placeholders, one token at a time.

use crate::dialect::Dialect;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    /// A bare word: keyword or unquoted identifier.
    Word(usize, usize),
    /// A quoted identifier, span including the quotes.
    Quoted(usize, usize),
    /// One of `( ) , . ;`
    Punct(u8),
    /// Anything else: literals, numbers, operators, placeholders.
    Other,
    End,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Scanner<'s> {
    pub(super) b: &'s [u8],
    pub(super) i: usize,
    dialect: Dialect,
    /// Inside a MySQL executable comment (`/*! ... */`), whose text the
    /// server runs: it is tokenized like the rest, its `*/` skipped.
    executable: bool,
}

fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

impl<'s> Scanner<'s> {
    pub(super) fn new(b: &'s [u8], dialect: Dialect) -> Self {
        Scanner {
            b,
            i: 0,
            dialect,
            executable: false,
        }
    }

    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// Index of the first byte after the closing `close`, honouring doubled
    /// closers and (when `backslash`) backslash escapes.
    fn skip_quoted(&self, mut i: usize, close: u8, backslash: bool) -> usize {
        loop {
            let rest = self.b.get(i..).unwrap_or_default();
            let found = if backslash {
                rest.iter().position(|&c| c == close || c == b'\\')
            } else {
                rest.iter().position(|&c| c == close)
            };
            let Some(offset) = found else {
                return self.b.len();
            };
            let at = i + offset;
            if self.b[at] == close && self.at(at + 1) != close {
                return at + 1;
            }
            i = at + 2;
        }
    }

    fn skip_line(&self, i: usize) -> usize {
        let rest = self.b.get(i..).unwrap_or_default();
        memchr::memchr(b'\n', rest).map_or(self.b.len(), |offset| i + offset)
    }

    fn skip_block_comment(&self, mut i: usize) -> usize {
        let nests = self.dialect == Dialect::Postgres;
        let mut depth = 1usize;
        while i < self.b.len() {
            if self.b[i] == b'*' && self.at(i + 1) == b'/' {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            } else if nests && self.b[i] == b'/' && self.at(i + 1) == b'*' {
                depth += 1;
                i += 2;
            } else {
                i += 1;
            }
        }
        self.b.len()
    }

    /// PostgreSQL `$tag$ ... $tag$` starting at `i` (on the first `$`), or
    /// `None` when this `$` does not open one.
    fn skip_dollar_quoted(&self, i: usize) -> Option<usize> {
        let mut j = i + 1;
        while j < self.b.len() && (self.b[j].is_ascii_alphanumeric() || self.b[j] == b'_') {
            j += 1;
        }
        if self.at(j) != b'$' || self.at(i + 1).is_ascii_digit() {
            return None;
        }
        let tag = &self.b[i..=j];
        let mut k = j + 1;
        while k + tag.len() <= self.b.len() {
            if self.b[k] == b'$' && &self.b[k..k + tag.len()] == tag {
                return Some(k + tag.len());
            }
            k += 1;
        }
        Some(self.b.len())
    }

    pub(super) fn next(&mut self) -> Tok {
        let mysql = self.dialect == Dialect::MySql;
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return Tok::End;
            };
            let start = self.i;
            // The common bytes first: a predictable branch beats the jump table.
            if c == b' ' {
                self.i += 1;
                continue;
            }
            match c {
                b'\t' | b'\n' | b'\r' | b'\x0c' => self.i += 1,
                b'-' if self.at(start + 1) == b'-' && (!mysql || self.at(start + 2) <= b' ') => {
                    self.i = self.skip_line(start);
                }
                b'#' if mysql => self.i = self.skip_line(start),
                // MySQL runs `/*!NNNNN ... */` (and MariaDB `/*M!NNNNN ... */`).
                b'/' if mysql
                    && self.at(start + 1) == b'*'
                    && (self.at(start + 2) == b'!'
                        || (self.at(start + 2) == b'M' && self.at(start + 3) == b'!')) =>
                {
                    let mut j = start + if self.at(start + 2) == b'!' { 3 } else { 4 };
                    while self.at(j).is_ascii_digit() {
                        j += 1;
                    }
                    self.i = j;
                    self.executable = true;
                }
                b'*' if self.executable && self.at(start + 1) == b'/' => {
                    self.i += 2;
                    self.executable = false;
                }
                b'/' if self.at(start + 1) == b'*' => {
                    self.i = self.skip_block_comment(start + 2);
                }
                b'\'' => {
                    self.i = self.skip_quoted(start + 1, b'\'', mysql);
                    return Tok::Other;
                }
                b'"' if mysql => {
                    self.i = self.skip_quoted(start + 1, b'"', true);
                    return Tok::Other;
                }
                b'"' => {
                    self.i = self.skip_quoted(start + 1, b'"', false);
                    return Tok::Quoted(start, self.i);
                }
                b'`' if self.dialect != Dialect::Postgres => {
                    self.i = self.skip_quoted(start + 1, b'`', false);
                    return Tok::Quoted(start, self.i);
                }
                b'[' if self.dialect == Dialect::Sqlite => {
                    let end = self.b[start..]
                        .iter()
                        .position(|&x| x == b']')
                        .map_or(self.b.len(), |p| start + p + 1);
                    self.i = end;
                    return Tok::Quoted(start, end);
                }
                b'$' if self.dialect == Dialect::Postgres => {
                    if let Some(end) = self.skip_dollar_quoted(start) {
                        self.i = end;
                    } else {
                        self.i += 1;
                        while self.at(self.i).is_ascii_digit() {
                            self.i += 1;
                        }
                    }
                    return Tok::Other;
                }
                b'(' | b')' | b',' | b'.' | b';' => {
                    self.i += 1;
                    return Tok::Punct(c);
                }
                c if is_word_start(c) => {
                    let rest = &self.b[start + 1..];
                    let j = start
                        + 1
                        + rest
                            .iter()
                            .position(|&c| !is_word_byte(c))
                            .unwrap_or(rest.len());
                    // PostgreSQL E'...' strings take backslash escapes.
                    if self.dialect == Dialect::Postgres
                        && j == start + 1
                        && (c == b'e' || c == b'E')
                        && self.at(j) == b'\''
                    {
                        self.i = self.skip_quoted(j + 1, b'\'', true);
                        return Tok::Other;
                    }
                    self.i = j;
                    return Tok::Word(start, j);
                }
                c if c.is_ascii_digit() => {
                    let mut j = start + 1;
                    while j < self.b.len()
                        && (self.b[j].is_ascii_alphanumeric() || self.b[j] == b'_')
                    {
                        j += 1;
                    }
                    self.i = j;
                    return Tok::Other;
                }
                _ => {
                    self.i += 1;
                    return Tok::Other;
                }
            }
        }
    }
}
