//! The text `usphub dongles` prints: one line per port, aligned columns.

use std::fmt::Write;

use crate::identify::{Evidence, Identified};

const HEADERS: [&str; 7] = ["PORT", "KIND", "FIRMWARE", "STICK", "USB", "LINK", "HOW"];

fn row(id: &Identified) -> [String; 7] {
    let usb = id.usb.as_ref().map_or_else(
        || "-".to_owned(),
        |u| match &u.serial {
            Some(s) => format!("{} {s}", u.id_string()),
            None => u.id_string(),
        },
    );
    let link = id
        .by_id
        .as_ref()
        .map(|p| p.display().to_string())
        .or_else(|| id.usphub_link().map(|p| p.display().to_string()))
        .unwrap_or_else(|| "-".to_owned());
    let how = match &id.evidence {
        Evidence::UsbTable => "usb id".to_owned(),
        Evidence::Probe(d) => format!("probe: {d}"),
        Evidence::None(why) => why.clone(),
    };
    [
        id.path.clone(),
        id.kind.as_str().to_owned(),
        id.firmware.as_str().to_owned(),
        id.product.unwrap_or("-").to_owned(),
        usb,
        link,
        how,
    ]
}

/// Renders the ports as a table with a header line; "no serial ports" when empty.
pub fn render_table(ids: &[Identified]) -> String {
    if ids.is_empty() {
        return "no USB serial ports found\n".to_owned();
    }
    let rows: Vec<[String; 7]> = ids.iter().map(row).collect();
    let mut widths = HEADERS.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                let _ = write!(l, "{cell:<w$}  ");
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&HEADERS);
    for r in &rows {
        line(&r.each_ref().map(String::as_str));
    }
    out
}
