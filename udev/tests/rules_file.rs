//! The udev rules file: every line's syntax, and the same ids (and kinds) as the dongle table
//! and `docs/DONGLES.md`. `udevadm verify` is not installed on these machines; this parser
//! checks what it would, for the subset of the rules language the file uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use usphub_udev::usbid::{DONGLES, Hint, Kind, known_ids};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rules_text() -> String {
    std::fs::read_to_string(crate_dir().join("rules/60-usphub.rules")).unwrap()
}

fn docs_text() -> String {
    std::fs::read_to_string(crate_dir().join("../docs/DONGLES.md")).unwrap()
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pair {
    key: String,
    attr: Option<String>,
    op: String,
    value: String,
}

/// Splits a rule line into `KEY[{attr}] OP "value"` pairs separated by commas.
fn parse_line(line: &str) -> Result<Vec<Pair>, String> {
    let mut pairs = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .ok_or("key without operator")?;
        let key = rest[..key_end].to_owned();
        if key.is_empty() {
            return Err(format!("expected a key at {rest:?}"));
        }
        rest = &rest[key_end..];
        let mut attr = None;
        if let Some(r) = rest.strip_prefix('{') {
            let close = r.find('}').ok_or("unclosed {")?;
            let a = &r[..close];
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '"') {
                return Err(format!("bad attribute name {a:?}"));
            }
            attr = Some(a.to_owned());
            rest = &r[close + 1..];
        }
        let op = ["==", "!=", "+=", "-=", ":=", "="]
            .into_iter()
            .find(|op| rest.starts_with(op))
            .ok_or_else(|| format!("no operator after {key}"))?;
        rest = rest[op.len()..]
            .strip_prefix('"')
            .ok_or("value not quoted")?;
        let close = rest.find('"').ok_or("unterminated value")?;
        let value = rest[..close].to_owned();
        rest = rest[close + 1..].trim_start();
        if let Some(r) = rest.strip_prefix(',') {
            rest = r.trim_start();
            if rest.is_empty() {
                return Err("trailing comma".into());
            }
        } else if !rest.is_empty() {
            return Err(format!("expected , at {rest:?}"));
        }
        pairs.push(Pair {
            key,
            attr,
            op: op.to_owned(),
            value,
        });
    }
    Ok(pairs)
}

fn rule_lines(text: &str) -> Vec<(usize, Vec<Pair>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(n, l)| match parse_line(l) {
            Ok(p) => (n + 1, p),
            Err(e) => panic!("line {}: {e}: {l}", n + 1),
        })
        .collect()
}

const MATCH_ONLY: &[&str] = &["ACTION", "SUBSYSTEM", "SUBSYSTEMS", "ATTRS", "KERNEL"];
const ASSIGN_ONLY: &[&str] = &["GOTO", "LABEL", "GROUP", "MODE", "SYMLINK", "IMPORT"];
const WITH_ATTR: &[&str] = &["ENV", "ATTRS", "IMPORT"];

#[test]
fn every_rule_line_is_well_formed() {
    let lines = rule_lines(&rules_text());
    assert!(lines.len() > 10);
    let mut labels = BTreeSet::new();
    let mut gotos = BTreeSet::new();
    for (n, pairs) in &lines {
        for p in pairs {
            let is_match = p.op == "==" || p.op == "!=";
            assert!(
                MATCH_ONLY.contains(&p.key.as_str())
                    || ASSIGN_ONLY.contains(&p.key.as_str())
                    || p.key == "ENV",
                "line {n}: unknown key {}",
                p.key
            );
            assert!(
                !MATCH_ONLY.contains(&p.key.as_str()) || is_match,
                "line {n}: {} can only be matched",
                p.key
            );
            assert!(
                !(ASSIGN_ONLY.contains(&p.key.as_str()) && is_match),
                "line {n}: {} can only be assigned",
                p.key
            );
            assert_eq!(
                p.attr.is_some(),
                WITH_ATTR.contains(&p.key.as_str()),
                "line {n}: {} attribute braces",
                p.key
            );
            match p.key.as_str() {
                "LABEL" => {
                    labels.insert(p.value.clone());
                }
                "GOTO" => {
                    gotos.insert(p.value.clone());
                }
                "MODE" => assert_eq!(p.value, "0660", "line {n}"),
                "GROUP" => assert_eq!(p.value, "usphub", "line {n}"),
                "SYMLINK" => {
                    assert_eq!(p.op, "+=", "line {n}: SYMLINK must add, not replace");
                    assert!(p.value.starts_with("usphub/"), "line {n}");
                }
                _ => {}
            }
        }
    }
    assert_eq!(gotos, labels, "every GOTO needs its LABEL");
}

#[test]
fn matched_sticks_get_group_mode_modemmanager_ignore_and_links() {
    let lines = rule_lines(&rules_text());
    let has = |key: &str, attr: Option<&str>, op: &str, value: &str| {
        lines.iter().any(|(_, ps)| {
            ps.iter().any(|p| {
                p.key == key && p.attr.as_deref() == attr && p.op == op && p.value == value
            })
        })
    };
    assert!(has("GROUP", None, "=", "usphub"));
    assert!(has("MODE", None, "=", "0660"));
    assert!(has("ENV", Some("ID_MM_DEVICE_IGNORE"), "=", "1"));
    assert!(has(
        "SYMLINK",
        None,
        "+=",
        "usphub/$env{USPHUB_KIND}-$env{ID_SERIAL_SHORT}"
    ));
    assert!(has("ACTION", None, "==", "remove"));
}

/// udev's glob: `*`, `?`, `[...]` and `|` between alternatives.
fn glob(pattern: &str, s: &str) -> bool {
    pattern
        .split('|')
        .any(|alt| glob_one(alt.as_bytes(), s.as_bytes()))
}

fn glob_one(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| glob_one(&p[1..], &s[i..])),
        Some(b'?') => !s.is_empty() && glob_one(&p[1..], &s[1..]),
        Some(b'[') => {
            let Some(close) = p.iter().position(|&c| c == b']') else {
                return false;
            };
            !s.is_empty() && p[1..close].contains(&s[0]) && glob_one(&p[close + 1..], &s[1..])
        }
        Some(&c) => s.first() == Some(&c) && glob_one(&p[1..], &s[1..]),
    }
}

/// The kind the rules give a port with these ids and strings (None = no rule matches).
fn rules_kind(
    lines: &[(usize, Vec<Pair>)],
    vid: u16,
    pid: u16,
    attrs: &BTreeMap<&str, String>,
) -> Option<String> {
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    env.insert("ID_VENDOR_ID".into(), format!("{vid:04x}"));
    env.insert("ID_MODEL_ID".into(), format!("{pid:04x}"));
    for (_, pairs) in lines {
        let sets_kind = pairs
            .iter()
            .find(|p| p.key == "ENV" && p.attr.as_deref() == Some("USPHUB_KIND") && p.op == "=");
        let Some(set) = sets_kind else { continue };
        let all_match = pairs
            .iter()
            .filter(|p| p.op == "==" || p.op == "!=")
            .all(|p| {
                let have = match p.key.as_str() {
                    "ENV" => env
                        .get(p.attr.as_deref().unwrap_or_default())
                        .cloned()
                        .unwrap_or_default(),
                    "ATTRS" => attrs
                        .get(p.attr.as_deref().unwrap_or_default())
                        .cloned()
                        .unwrap_or_default(),
                    _ => return true,
                };
                glob(&p.value, &have) == (p.op == "==")
            });
        if all_match {
            env.insert("USPHUB_KIND".into(), set.value.clone());
        }
    }
    env.get("USPHUB_KIND").cloned()
}

#[test]
fn glob_matcher_follows_udev_syntax() {
    assert!(glob(
        "*Dongle Plus*",
        "SONOFF Zigbee 3.0 USB Dongle Plus V2"
    ));
    assert!(glob("*[Tt]ubes[Zz][Bb]*|*x*", "my tubeszb"));
    assert!(glob("?*", "a"));
    assert!(!glob("?*", ""));
    assert!(!glob("*ZWA-2*", "ZBT-2"));
}

#[test]
fn rules_give_every_table_entry_its_kind() {
    let lines = rule_lines(&rules_text());
    for e in DONGLES {
        let mut attrs = BTreeMap::new();
        for h in e.hints {
            match *h {
                Hint::Manufacturer(s) => attrs.insert("manufacturer", s.to_owned()),
                Hint::Product(s) => attrs.insert("product", s.to_owned()),
                Hint::Interface(s) => attrs.insert("interface", s.to_owned()),
            };
        }
        let kind = rules_kind(&lines, e.vid, e.pid, &attrs);
        assert_eq!(
            kind.as_deref(),
            Some(e.kind().as_str()),
            "{:04x}:{:04x} {}",
            e.vid,
            e.pid,
            e.name
        );
    }
    // Shared ids that need strings do not grab other devices.
    let none = BTreeMap::new();
    assert_eq!(rules_kind(&lines, 0x303a, 0x4001, &none), None);
    assert_eq!(rules_kind(&lines, 0x0403, 0x6015, &none), None);
    assert_eq!(rules_kind(&lines, 0x1234, 0x5678, &none), None);
    assert_eq!(
        rules_kind(&lines, 0x10c4, 0xea60, &none).as_deref(),
        Some(Kind::Radio.as_str())
    );
}

fn rules_ids(text: &str) -> BTreeSet<(u16, u16)> {
    rule_lines(text)
        .into_iter()
        .filter_map(|(_, pairs)| {
            let get = |name: &str| {
                pairs
                    .iter()
                    .find(|p| p.key == "ENV" && p.attr.as_deref() == Some(name) && p.op == "==")
                    .and_then(|p| u16::from_str_radix(&p.value, 16).ok())
            };
            Some((get("ID_VENDOR_ID")?, get("ID_MODEL_ID")?))
        })
        .collect()
}

/// The `vid:pid` of a docs table row (first cell in backticks), if it is a dongle row.
fn row_id(line: &str) -> Option<(u16, u16)> {
    let (id, _) = line.strip_prefix("| `")?.split_once('`')?;
    let (v, p) = id.split_once(':')?;
    if v.len() != 4 || p.len() != 4 {
        return None;
    }
    Some((
        u16::from_str_radix(v, 16).ok()?,
        u16::from_str_radix(p, 16).ok()?,
    ))
}

fn docs_ids(text: &str) -> BTreeSet<(u16, u16)> {
    text.lines().filter_map(row_id).collect()
}

#[test]
fn rules_docs_and_table_list_the_same_ids() {
    let table: BTreeSet<(u16, u16)> = known_ids().into_iter().collect();
    let rules = rules_ids(&rules_text());
    let docs = docs_ids(&docs_text());
    assert!(table.len() >= 12, "{table:?}");
    assert_eq!(rules, table, "rules vs usbid table");
    assert_eq!(docs, table, "docs/DONGLES.md vs usbid table");
}

#[test]
fn docs_table_rows_cite_a_source() {
    for line in docs_text().lines().filter(|l| row_id(l).is_some()) {
        let last = line
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .unwrap_or_default();
        assert!(last.contains("[S"), "row without a source: {line}");
    }
}
