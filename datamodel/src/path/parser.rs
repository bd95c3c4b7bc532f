//! The path-name parser: one pass over the characters, no recursion, every failure a
//! [`DmError`] of kind [`ErrorKind::PathSyntax`](crate::ErrorKind::PathSyntax).

use super::{Condition, Leaf, ListIndex, Op, PathExpr, Segment, is_valid_name};
use crate::error::{DmError, DmResult};

/// Longest path accepted (TR-369 sets no limit; this bounds work per request).
pub const MAX_PATH_LEN: usize = 8192;

/// Parses a path as a Controller writes it (instance numbers, `*`, searches, `+`).
pub fn parse(path: &str) -> DmResult<PathExpr> {
    Parser::new(path, false).run()
}

/// Parses a supported-data-model path, where `{i}` stands for "any instance".
pub fn parse_supported(path: &str) -> DmResult<PathExpr> {
    Parser::new(path, true).run()
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    supported: bool,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, supported: bool) -> Self {
        Parser {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            supported,
        }
    }

    fn err(&self, msg: impl Into<String>) -> DmError {
        DmError::syntax(
            self.src,
            format!("invalid path {:?}: {}", self.src, msg.into()),
        )
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn run(mut self) -> DmResult<PathExpr> {
        if self.src.len() > MAX_PATH_LEN {
            return Err(self.err(format!("longer than {MAX_PATH_LEN} bytes")));
        }
        if self.src == "Device" || !self.src.starts_with("Device.") {
            return Err(self.err("a path starts with \"Device.\""));
        }
        self.pos = "Device.".len();
        let mut segments = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Ok(PathExpr {
                    segments,
                    leaf: Leaf::Object,
                });
            };
            match c {
                b'[' => {
                    segments.push(Segment::Search(self.search()?));
                    self.expect_dot()?;
                }
                b'*' => {
                    self.pos += 1;
                    segments.push(Segment::Wildcard);
                    self.expect_dot()?;
                }
                b'{' if self.supported => {
                    if !self.src[self.pos..].starts_with("{i}") {
                        return Err(self.err("expected {i}"));
                    }
                    self.pos += 3;
                    segments.push(Segment::Wildcard);
                    self.expect_dot()?;
                }
                _ => {
                    if let Some(leaf) = self.named(&mut segments)? {
                        return Ok(PathExpr { segments, leaf });
                    }
                }
            }
        }
    }

    fn expect_dot(&mut self) -> DmResult<()> {
        match self.peek() {
            Some(b'.') => {
                self.pos += 1;
                Ok(())
            }
            Some(c) => Err(self.err(format!("unexpected {:?} at byte {}", c as char, self.pos))),
            None => Err(self.err("an instance selector must be followed by '.'")),
        }
    }

    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    /// A name or number segment; returns the leaf if the path ends here.
    fn named(&mut self, segments: &mut Vec<Segment>) -> DmResult<Option<Leaf>> {
        let word = self.word();
        if word.is_empty() {
            return Err(match self.peek() {
                Some(b'.') => self.err("empty path element"),
                Some(c) => self.err(format!("unexpected {:?} at byte {}", c as char, self.pos)),
                None => self.err("unexpected end"),
            });
        }
        if word.bytes().all(|b| b.is_ascii_digit()) {
            let n: u32 = word
                .parse()
                .map_err(|_| self.err(format!("instance number {word} is too large")))?;
            self.expect_dot()?;
            segments.push(Segment::Instance(n));
            return Ok(None);
        }
        if !is_valid_name(word) {
            return Err(self.err(format!("{word:?} is not a valid name")));
        }
        match self.peek() {
            Some(b'.') => {
                self.pos += 1;
                segments.push(Segment::Name(word.into()));
                Ok(None)
            }
            None => Ok(Some(Leaf::Param(word.into()))),
            Some(b'(') => {
                if &self.src[self.pos..] != "()" {
                    return Err(self.err("a command name ends with \"()\" and ends the path"));
                }
                Ok(Some(Leaf::Command(format!("{word}()").into())))
            }
            Some(b'!') => {
                if self.pos + 1 != self.src.len() {
                    return Err(self.err("an event name ends with '!' and ends the path"));
                }
                Ok(Some(Leaf::Event(format!("{word}!").into())))
            }
            Some(b'+' | b'#') => {
                let index = self.follow_suffix()?;
                self.expect_dot()?;
                segments.push(Segment::Follow {
                    param: word.into(),
                    index,
                });
                Ok(None)
            }
            Some(c) => Err(self.err(format!("unexpected {:?} after {word}", c as char))),
        }
    }

    /// `+` or `#n+` / `#*+` after a reference parameter's name.
    fn follow_suffix(&mut self) -> DmResult<Option<ListIndex>> {
        let index = if self.peek() == Some(b'#') {
            self.pos += 1;
            if self.peek() == Some(b'*') {
                self.pos += 1;
                Some(ListIndex::All)
            } else {
                let digits = self.word();
                let n: u32 = digits.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    self.err("'#' is followed by a list position (1, 2, ...) or '*'")
                })?;
                Some(ListIndex::Nth(n))
            }
        } else {
            None
        };
        if self.peek() != Some(b'+') {
            return Err(self.err("a reference to follow ends with '+'"));
        }
        self.pos += 1;
        Ok(index)
    }

    /// `[cond&&cond]`: finds the closing bracket outside quotes, then parses each
    /// condition.
    fn search(&mut self) -> DmResult<Vec<Condition>> {
        let start = self.pos + 1;
        let mut i = start;
        let mut in_quotes = false;
        let end = loop {
            match self.bytes.get(i) {
                None => return Err(self.err("unbalanced '[': no closing ']'")),
                Some(b'"') => in_quotes = !in_quotes,
                Some(b']') if !in_quotes => break i,
                Some(b'[') if !in_quotes => {
                    return Err(self.err("nested '[' in a search expression"));
                }
                _ => {}
            }
            i += 1;
        };
        self.pos = end + 1;
        let body = &self.src[start..end];
        if body.is_empty() {
            return Err(self.err("empty search expression"));
        }
        split_outside_quotes(body, "&&")
            .into_iter()
            .map(|c| self.condition(c))
            .collect()
    }

    fn condition(&self, text: &str) -> DmResult<Condition> {
        let (lhs, op, literal) = split_operator(text).ok_or_else(|| {
            self.err(format!(
                "{text:?} is not 'parameter operator value' (operators: == != < > <= >=)"
            ))
        })?;
        let literal = self.literal(literal)?;
        let mut via = Vec::new();
        let mut parts = lhs.split('.').peekable();
        let mut param = None;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                if !is_valid_name(part) {
                    return Err(self.err(format!("{part:?} is not a parameter name")));
                }
                param = Some(part);
                break;
            }
            via.push(self.condition_step(part)?);
        }
        let param = param.ok_or_else(|| self.err("missing parameter in search expression"))?;
        Ok(Condition {
            via,
            param: param.into(),
            op,
            literal,
        })
    }

    fn condition_step(&self, part: &str) -> DmResult<Segment> {
        if is_valid_name(part) {
            return Ok(Segment::Name(part.into()));
        }
        let mut sub = Parser::new(part, false);
        let name = sub.word();
        if !is_valid_name(name) || !matches!(sub.peek(), Some(b'+' | b'#')) {
            return Err(self.err(format!("{part:?} is not valid in a search expression")));
        }
        let index = sub
            .follow_suffix()
            .map_err(|_| self.err(format!("bad reference {part:?}")))?;
        if sub.pos != part.len() {
            return Err(self.err(format!("bad reference {part:?}")));
        }
        Ok(Segment::Follow {
            param: name.into(),
            index,
        })
    }

    fn literal(&self, raw: &str) -> DmResult<String> {
        let inner = if let Some(rest) = raw.strip_prefix('"') {
            let inner = rest
                .strip_suffix('"')
                .ok_or_else(|| self.err(format!("unbalanced quotes in {raw:?}")))?;
            if inner.contains('"') {
                return Err(self.err(format!("unbalanced quotes in {raw:?}")));
            }
            inner
        } else {
            if raw.is_empty() || raw.contains('"') {
                return Err(self.err(format!("missing or malformed value {raw:?}")));
            }
            raw
        };
        percent_decode(inner).ok_or_else(|| self.err(format!("bad percent-encoding in {raw:?}")))
    }
}

fn split_outside_quotes<'s>(s: &'s str, sep: &str) -> Vec<&'s str> {
    let mut out = Vec::new();
    let mut in_quotes = false;
    let mut start = 0;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && bytes[i..].starts_with(sep.as_bytes()) {
            out.push(&s[start..i]);
            i += sep.len();
            start = i;
            continue;
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// Finds the first comparison operator outside quotes.
fn split_operator(text: &str) -> Option<(&str, Op, &str)> {
    let bytes = text.as_bytes();
    let quote = text.find('"').unwrap_or(text.len());
    let i = bytes[..quote]
        .iter()
        .position(|b| matches!(b, b'=' | b'!' | b'<' | b'>'))?;
    let two = text.get(i..i + 2);
    let (op, len) = match (bytes[i], two) {
        (_, Some("==")) => (Op::Eq, 2),
        (_, Some("!=")) => (Op::Ne, 2),
        (_, Some("<=")) => (Op::Le, 2),
        (_, Some(">=")) => (Op::Ge, 2),
        (b'<', _) => (Op::Lt, 1),
        (b'>', _) => (Op::Gt, 1),
        _ => return None,
    };
    let rest = &text[i + len..];
    if rest.starts_with(['=', '<', '>', '!']) {
        return None;
    }
    Some((&text[..i], op, rest))
}

fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
