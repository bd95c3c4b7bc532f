//! TR-369 path names (section 2.5 "Path Names" and its subsections on search paths,
//! reference following and unique-key addressing), parsed into a small AST.
//!
//! ```text
//! Device.LocalAgent.Controller.1.EndpointID          instance number
//! Device.LocalAgent.Controller.*.MTP.               wildcard, partial path
//! Device.LocalAgent.Controller.[EndpointID=="c1"].  unique-key addressing
//! Device.WiFi.AccessPoint.[Enable==true&&Stats.BytesSent>1000].SSIDReference+.SSID
//! Device.IP.Interface.1.LowerLayers#1+.Name          list reference, element 1
//! Device.Reboot()   Device.Boot!                     command, event
//! ```
//!
//! Parsing knows only the grammar; [`crate::DataModel::resolve`] checks the result
//! against the schema and the instance tree.

mod parser;

pub use parser::{parse, parse_supported};

/// A parsed path name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathExpr {
    /// The segments after `Device.` up to the leaf.
    pub segments: Vec<Segment>,
    /// What the path ends with.
    pub leaf: Leaf,
}

/// One dot-separated step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An object (or table) name.
    Name(Box<str>),
    /// An instance number.
    Instance(u32),
    /// `*` (or `{i}` in a supported path): every instance.
    Wildcard,
    /// `[cond&&cond...]`: the instances for which every condition holds.
    Search(Vec<Condition>),
    /// `Param+` or `Param#n+`: follow the reference held by the parameter.
    Follow {
        /// The reference parameter.
        param: Box<str>,
        /// For a list-valued reference, which item(s) to follow.
        index: Option<ListIndex>,
    },
}

/// Which items of a list-valued reference to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListIndex {
    /// `#n`: the n-th item (1-based).
    Nth(u32),
    /// `#*`: every item.
    All,
}

/// The last element of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leaf {
    /// The path ends with `.`: an object path (full or partial).
    Object,
    /// A parameter name.
    Param(Box<str>),
    /// A command name, including `()`.
    Command(Box<str>),
    /// An event name, including `!`.
    Event(Box<str>),
}

/// One comparison of a search expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Path from the instance to the object holding the parameter (names of
    /// single-instance sub-objects and reference following).
    pub via: Vec<Segment>,
    /// The parameter compared.
    pub param: Box<str>,
    /// The operator.
    pub op: Op,
    /// The literal, unquoted and percent-decoded.
    pub literal: String,
}

/// Search expression operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

impl Op {
    /// Whether the operator needs an ordered type.
    pub fn is_relational(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }

    /// Applies the operator to an ordering of `param` relative to `literal`.
    pub fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => ord == Equal,
            Op::Ne => ord != Equal,
            Op::Lt => ord == Less,
            Op::Gt => ord == Greater,
            Op::Le => ord != Greater,
            Op::Ge => ord != Less,
        }
    }
}

impl PathExpr {
    /// Whether the path may legitimately match nothing: it has wildcards, searches or
    /// reference following (an empty or dangling reference leads nowhere).
    pub fn is_search(&self) -> bool {
        self.segments.iter().any(|s| {
            matches!(
                s,
                Segment::Wildcard | Segment::Search(_) | Segment::Follow { .. }
            )
        })
    }
}

/// Whether `name` is a valid TR-106 name: a letter or `_` first, then letters, digits,
/// `_` or `-`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Splits a concrete object path (`Device.A.1.B.`) into its parent and last element:
/// `("Device.A.1.", "B")`; for an instance path the element is the number.
pub fn split_last(path: &str) -> Option<(&str, &str)> {
    let stem = path.strip_suffix('.')?;
    let (parent, last) = stem.rsplit_once('.')?;
    Some((&path[..parent.len() + 1], last))
}
