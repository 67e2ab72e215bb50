//! XSS payload lists (payloadbox, PayloadsAllTheThings, cure53 H5SC) put into
//! every free-text field: the output must hold no tag opener, no script URL,
//! no event-handler attribute, and must not change when cleaned again. A
//! payload may also be refused (markup only, script-like, too long); the
//! counts of each outcome are printed.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{TimeZone, Utc};
use serde_json::json;
use voxcal_request_validation::{clean_text, AppointmentRequest, ValidationContext};

/// `(field, key in the output)` of the structured string fields: their output
/// is a date, a time, an address or a number, and must be just as safe.
const STRUCTURED_FIELDS: &[(&str, &str)] = &[
    ("datum", "date"),
    ("uhrzeit", "time"),
    ("email", "email"),
    ("telefonnummer", "phone"),
];

/// `(field, key in the output)` of every free-text field.
const TEXT_FIELDS: &[(&str, &str)] = &[
    ("name", "name"),
    ("dienstleistung", "service"),
    ("mitarbeiter", "staff"),
    ("notiz", "notes"),
    ("call_id", "call_id"),
];

fn lines(path: &Path) -> Vec<String> {
    common::read(path)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// `'data' : '…'` strings of items.js with `%name%` placeholders from
/// payloads.js substituted.
fn h5sc_items(dir: &Path) -> Vec<String> {
    let payloads_src = common::read(&dir.join("payloads.js"));
    let mut payloads = BTreeMap::new();
    for line in payloads_src.lines() {
        let line = line.trim();
        if !line.starts_with('\'') {
            continue;
        }
        let (key, len) = common::string_literal(line);
        let rest = line[len..]
            .trim_start()
            .trim_start_matches(':')
            .trim_start();
        if rest.starts_with('\'') {
            payloads.insert(key.unwrap(), common::string_literal(rest).0.unwrap());
        }
    }
    let items = common::read(&dir.join("items.js"));
    let mut out = Vec::new();
    for (pos, _) in items.match_indices("'data'") {
        let rest = items[pos + 6..]
            .trim_start()
            .trim_start_matches(':')
            .trim_start();
        let mut data = common::string_literal(rest).0.unwrap();
        for (key, value) in &payloads {
            data = data.replace(&format!("%{key}%"), value);
        }
        out.push(data);
    }
    out
}

/// vectors.txt: the rendered set, one `<div id="N">…</div>` per vector.
fn h5sc_vectors(dir: &Path) -> Vec<String> {
    let src = common::read(&dir.join("vectors.txt"));
    src.split("<div id=\"")
        .skip(1)
        .map(|chunk| {
            let body = &chunk[chunk.find('>').unwrap() + 1..];
            body.rsplit_once("</div>")
                .map_or(body, |(b, _)| b)
                .to_owned()
        })
        .collect()
}

fn violations(out: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    let lower = out.to_lowercase();
    let bytes = lower.as_bytes();
    if bytes
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'/' | b'!' | b'?')))
    {
        found.push("tag opener");
    }
    for scheme in ["javascript:", "vbscript:", "data:text/html"] {
        if lower.contains(scheme) {
            found.push("script url");
        }
    }
    // `on<letters>=` not continuing a word, spaces allowed before `=`.
    for (i, _) in lower.match_indices("on") {
        if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let rest = &lower[i + 2..];
        let letters = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        if letters > 0 && rest[letters..].trim_start().starts_with('=') {
            found.push("event handler");
        }
    }
    found
}

#[test]
fn xss_payloads_in_every_text_field() {
    let Some(root) = common::testdata("xss_payloads_in_every_text_field", "") else {
        return;
    };
    let mut lists: Vec<(&str, Vec<String>)> = Vec::new();
    lists.push((
        "xss-payloadbox",
        lines(&root.join("xss-payloadbox/xss-payload-list.txt")),
    ));
    let mut patt = Vec::new();
    for file in [
        "BRUTELOGIC-XSS-STRINGS.txt",
        "MarioXSSVectors.txt",
        "RSNAKE_XSS.txt",
        "XSS_Polyglots.txt",
    ] {
        patt.extend(lines(&root.join("xss-payloadsallthethings").join(file)));
    }
    lists.push(("xss-payloadsallthethings", patt));
    let mut h5sc = h5sc_items(&root.join("xss-h5sc"));
    assert_eq!(h5sc.len(), 149, "items.js has 149 vectors");
    h5sc.extend(h5sc_vectors(&root.join("xss-h5sc")));
    lists.push(("xss-h5sc", h5sc));

    let ctx = ValidationContext::new(
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap(),
        chrono_tz::Europe::Berlin,
    );
    let mut failures = Vec::new();
    for (list, payloads) in &lists {
        let mut outcomes: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut cleaned = 0;
        let (mut field_ok, mut field_refused) = (0, 0);
        for payload in payloads {
            // The pipeline on its own, without a length limit.
            match clean_text(payload) {
                Ok(out) => {
                    cleaned += 1;
                    let v = violations(&out);
                    if !v.is_empty() {
                        failures.push(format!("{list}: {payload:?} -> {out:?}: {v:?}"));
                    }
                    if clean_text(&out).as_deref() != Ok(out.as_str()) {
                        failures.push(format!("{list}: {payload:?} -> {out:?} is not stable"));
                    }
                }
                Err(e) => *outcomes.entry(e.code()).or_default() += 1,
            }
            // Through the request, in every free-text field.
            for (field, key) in TEXT_FIELDS {
                let args = json!({"datum": "morgen", *field: payload});
                match AppointmentRequest::parse(&args, &ctx) {
                    Ok(request) => {
                        field_ok += 1;
                        let value = serde_json::to_value(&request).unwrap();
                        let Some(out) = value[*key].as_str().map(str::to_owned) else {
                            // Blank after trimming: the field counts as absent.
                            assert!(payload.trim().is_empty(), "{field}: {payload:?} vanished");
                            continue;
                        };
                        let v = violations(&out);
                        if !v.is_empty() {
                            failures.push(format!("{list}/{field}: {payload:?} -> {out:?}: {v:?}"));
                        }
                        if clean_text(&out).as_deref() != Ok(out.as_str()) {
                            failures.push(format!("{list}/{field}: {out:?} is not stable"));
                        }
                    }
                    Err(errors) => {
                        field_refused += 1;
                        assert!(
                            errors.errors().iter().all(|e| e.field() == *field),
                            "{field}: {errors:?}"
                        );
                    }
                }
            }
        }
        // The structured fields: whatever they accept must be safe as well.
        let mut structured_ok = 0;
        for payload in payloads {
            for (field, key) in STRUCTURED_FIELDS {
                let args = if *field == "datum" {
                    json!({"datum": payload})
                } else {
                    json!({"datum": "morgen", *field: payload})
                };
                if let Ok(request) = AppointmentRequest::parse(&args, &ctx) {
                    let value = serde_json::to_value(&request).unwrap();
                    if let Some(out) = value[*key].as_str() {
                        structured_ok += 1;
                        let v = violations(out);
                        if !v.is_empty() {
                            failures.push(format!("{list}/{field}: {payload:?} -> {out:?}: {v:?}"));
                        }
                    }
                }
            }
        }
        println!(
            "{list}: in the {} structured fields (datum, uhrzeit, email, telefonnummer) {structured_ok} accepted, all checked",
            STRUCTURED_FIELDS.len()
        );
        println!(
            "{list}: {} payloads; clean_text: {cleaned} cleaned to safe, stable text, refused {outcomes:?}; \
             in {} text fields: {field_ok} accepted (all checked), {field_refused} refused",
            payloads.len(),
            TEXT_FIELDS.len()
        );
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
