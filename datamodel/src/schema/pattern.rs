//! A small regular-expression matcher for TR-181 `pattern` facets (XML Schema regular
//! expressions, implicitly anchored at both ends).
//!
//! Supported: literals, `.`, escapes (`\d \w \s \. \\` ...), classes `[a-z0-9]` and
//! `[^...]`, groups `(...)`, alternation `|`, quantifiers `* + ? {n} {n,} {n,m}`.
//! Matching simulates all positions at once (no backtracking), so a hostile value
//! cannot make it run for long; an unparsable pattern matches nothing.

const MAX_REPEAT: u32 = 1_000;

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    source: String,
    node: Option<Node>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Char(char),
    Any,
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Seq(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

impl Pattern {
    /// Compiles `source`; an invalid pattern is kept but never matches.
    pub fn new(source: &str) -> Pattern {
        let chars: Vec<char> = source.chars().collect();
        let mut pos = 0;
        let node = parse_alt(&chars, &mut pos).filter(|_| pos == chars.len());
        Pattern {
            source: source.to_owned(),
            node,
        }
    }

    /// The pattern as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `s` matches.
    pub fn matches(&self, s: &str) -> bool {
        let Some(node) = &self.node else { return false };
        let chars: Vec<char> = s.chars().collect();
        let mut start = vec![false; chars.len() + 1];
        start[0] = true;
        ends(node, &chars, &start)[chars.len()]
    }
}

fn parse_alt(c: &[char], pos: &mut usize) -> Option<Node> {
    let mut alts = vec![parse_seq(c, pos)?];
    while c.get(*pos) == Some(&'|') {
        *pos += 1;
        alts.push(parse_seq(c, pos)?);
    }
    Some(if alts.len() == 1 {
        alts.remove(0)
    } else {
        Node::Alt(alts)
    })
}

fn parse_seq(c: &[char], pos: &mut usize) -> Option<Node> {
    let mut items = Vec::new();
    while let Some(&ch) = c.get(*pos) {
        if ch == '|' || ch == ')' {
            break;
        }
        let atom = parse_atom(c, pos)?;
        items.push(parse_quantifier(c, pos, atom)?);
    }
    Some(Node::Seq(items))
}

fn parse_atom(c: &[char], pos: &mut usize) -> Option<Node> {
    let ch = *c.get(*pos)?;
    *pos += 1;
    Some(match ch {
        '.' => Node::Any,
        '(' => {
            let inner = parse_alt(c, pos)?;
            if c.get(*pos) != Some(&')') {
                return None;
            }
            *pos += 1;
            inner
        }
        '[' => parse_class(c, pos)?,
        '\\' => escape(*c.get(*pos)?, pos)?,
        '*' | '+' | '?' | '{' | ')' | ']' => return None,
        other => Node::Char(other),
    })
}

fn escape(ch: char, pos: &mut usize) -> Option<Node> {
    *pos += 1;
    let class = |ranges: Vec<(char, char)>, negated| Node::Class { ranges, negated };
    Some(match ch {
        'd' => class(vec![('0', '9')], false),
        'D' => class(vec![('0', '9')], true),
        'w' => class(vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], false),
        'W' => class(vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')], true),
        's' => class(
            vec![(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r')],
            false,
        ),
        'S' => class(
            vec![(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r')],
            true,
        ),
        'n' => Node::Char('\n'),
        't' => Node::Char('\t'),
        'r' => Node::Char('\r'),
        other => Node::Char(other),
    })
}

fn parse_class(c: &[char], pos: &mut usize) -> Option<Node> {
    let negated = c.get(*pos) == Some(&'^');
    if negated {
        *pos += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let ch = *c.get(*pos)?;
        *pos += 1;
        if ch == ']' && !first {
            break;
        }
        first = false;
        let lo = if ch == '\\' {
            match escape(*c.get(*pos)?, pos)? {
                Node::Char(x) => x,
                Node::Class {
                    ranges: r,
                    negated: false,
                } => {
                    ranges.extend(r);
                    continue;
                }
                _ => return None,
            }
        } else {
            ch
        };
        if c.get(*pos) == Some(&'-') && c.get(*pos + 1).is_some_and(|n| *n != ']') {
            let hi = *c.get(*pos + 1)?;
            *pos += 2;
            if hi < lo {
                return None;
            }
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
    Some(Node::Class { ranges, negated })
}

fn parse_quantifier(c: &[char], pos: &mut usize, atom: Node) -> Option<Node> {
    let (min, max) = match c.get(*pos) {
        Some('*') => (0, None),
        Some('+') => (1, None),
        Some('?') => (0, Some(1)),
        Some('{') => {
            let close = c[*pos..].iter().position(|x| *x == '}')? + *pos;
            let body: String = c[*pos + 1..close].iter().collect();
            *pos = close;
            let (lo, hi) = match body.split_once(',') {
                Some((lo, "")) => (lo.parse().ok()?, None),
                Some((lo, hi)) => (lo.parse().ok()?, Some(hi.parse().ok()?)),
                None => {
                    let n = body.parse().ok()?;
                    (n, Some(n))
                }
            };
            if lo > MAX_REPEAT || hi.is_some_and(|h| h < lo || h > MAX_REPEAT) {
                return None;
            }
            (lo, hi)
        }
        _ => return Some(atom),
    };
    *pos += 1;
    Some(Node::Repeat {
        node: Box::new(atom),
        min,
        max,
    })
}

/// The set of positions where `node` can end when started at any position in `from`
/// (a position-set simulation: polynomial, no backtracking).
fn ends(node: &Node, s: &[char], from: &[bool]) -> Vec<bool> {
    let mut out = vec![false; s.len() + 1];
    match node {
        Node::Char(_) | Node::Any | Node::Class { .. } => {
            for (at, _) in from.iter().enumerate().filter(|(_, on)| **on) {
                if let Some(ch) = s.get(at)
                    && single_matches(node, *ch)
                {
                    out[at + 1] = true;
                }
            }
        }
        Node::Seq(items) => {
            let mut cur = from.to_vec();
            for item in items {
                cur = ends(item, s, &cur);
            }
            out = cur;
        }
        Node::Alt(alts) => {
            for alt in alts {
                for (o, e) in out.iter_mut().zip(ends(alt, s, from)) {
                    *o |= e;
                }
            }
        }
        Node::Repeat { node, min, max } => {
            let mut cur = from.to_vec();
            if *min == 0 {
                out.clone_from(&cur);
            }
            let mut count = 0;
            while max.is_none_or(|m| count < m) && cur.iter().any(|b| *b) {
                count += 1;
                cur = ends(node, s, &cur);
                let mut grew = false;
                if count >= *min {
                    for (o, e) in out.iter_mut().zip(&cur) {
                        grew |= *e && !*o;
                        *o |= *e;
                    }
                    if max.is_none() && !grew {
                        break;
                    }
                }
                if count > s.len() as u32 + *min {
                    break;
                }
            }
        }
    }
    out
}

fn single_matches(node: &Node, ch: char) -> bool {
    match node {
        Node::Char(c) => *c == ch,
        Node::Any => true,
        Node::Class { ranges, negated } => {
            ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&ch)) != *negated
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_address_pattern_matches_whole_value_only() {
        let p = Pattern::new(r"([0-9A-Fa-f][0-9A-Fa-f]:){5}([0-9A-Fa-f][0-9A-Fa-f])");
        assert!(p.matches("00:1a:2B:3c:4d:5e"));
        assert!(!p.matches("00:1a:2B:3c:4d:5e:"));
        assert!(!p.matches("00:1a:2B:3c:4d"));
        assert!(!p.matches("zz:1a:2B:3c:4d:5e"));
    }

    #[test]
    fn alternation_classes_and_counts() {
        let p = Pattern::new(r"cpe-\d+|[a-c]{2,3}x?");
        assert!(p.matches("cpe-12"));
        assert!(p.matches("abc"));
        assert!(p.matches("abx"));
        assert!(!p.matches("a"));
        assert!(!p.matches("cpe-"));
        assert!(Pattern::new("").matches(""));
        assert!(!Pattern::new("").matches("a"));
    }

    #[test]
    fn invalid_patterns_match_nothing() {
        for bad in ["(ab", "a{2", "[z-a]", "*a", "a{5,2}"] {
            assert!(!Pattern::new(bad).matches("a"), "{bad}");
        }
    }

    #[test]
    fn nested_quantifiers_on_long_input_finish() {
        let p = Pattern::new("(a*)*b");
        let s = "a".repeat(2000);
        assert!(!p.matches(&s));
    }
}
