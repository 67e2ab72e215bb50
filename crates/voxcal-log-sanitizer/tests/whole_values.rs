//! Generated values of each kind, in every grouping, inside each log-line
//! template: no run of four of the value's digits and no name part of three
//! letters survives, and the line's other tokens come back unchanged
//! (issue #19). 10,000 cases each (about a second in a debug build);
//! `PROPTEST_CASES` overrides.

use proptest::prelude::*;
use voxcal_log_sanitizer::Sanitizer;

/// Non-PII tokens around the value; each must survive unchanged.
const CONTEXT: &[&str] = &[
    "call_id=call_9f8e7d",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
    "took=577ms",
    "version=7.0.15",
    "amount=49,99",
    "2025-10-01T11:03:23Z",
    "id=8c1f0a52-7c1e-4b2a-9d3e-2f5b6c7d8e9f",
];

fn digit_string(len: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0u8..10, len)
}

/// Splits `d` into groups of the given sizes (the last takes the rest).
fn grouped(d: &[u8], sizes: &[usize], sep: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    for (k, &s) in sizes.iter().enumerate() {
        if i >= d.len() {
            break;
        }
        let end = if k + 1 == sizes.len() {
            d.len()
        } else {
            (i + s).min(d.len())
        };
        if !out.is_empty() {
            out.push_str(sep);
        }
        out.extend(d[i..end].iter().map(|x| char::from(b'0' + x)));
        i = end;
    }
    if i < d.len() {
        out.push_str(sep);
        out.extend(d[i..].iter().map(|x| char::from(b'0' + x)));
    }
    out
}

/// German and international phone numbers in the groupings people write.
fn phone() -> impl Strategy<Value = String> {
    let mobile = (
        prop::sample::select(&["151", "160", "170", "176"][..]),
        digit_string(7),
        prop::sample::select(&[" ", "-", "/", ""][..]),
        prop::sample::select(&["0", "+49 ", "+49 (0)", "0049 "][..]),
    )
        .prop_map(|(pre, rest, sep, lead)| {
            let rest = grouped(&rest, &[3, 4], if sep.is_empty() { "" } else { " " });
            format!("{lead}{pre}{sep}{rest}")
        });
    let landline = (
        prop::sample::select(&["30", "40", "89", "221", "6221", "3581"][..]),
        digit_string(6),
        prop::sample::select(&[" ", "/", "-"][..]),
        any::<bool>(),
    )
        .prop_map(|(area, rest, sep, pairs)| {
            let rest = if pairs {
                grouped(&rest, &[2, 2, 2], " ")
            } else {
                grouped(&rest, &[6], "")
            };
            format!("0{area}{sep}{rest}")
        });
    let us =
        (200u16..999, 200u16..999, 1000u16..9999).prop_map(|(a, b, c)| format!("+1 ({a}) {b}-{c}"));
    let at = digit_string(7).prop_map(|d| format!("+43 1 {}", grouped(&d, &[3, 4], " ")));
    let ch = digit_string(7).prop_map(|d| format!("+41 44 {}", grouped(&d, &[3, 2, 2], " ")));
    let uk = digit_string(8).prop_map(|d| format!("+44 20 {}", grouped(&d, &[4, 4], " ")));
    prop_oneof![mobile, landline, us, at, ch, uk]
}

fn luhn_complete(mut d: Vec<u8>) -> Vec<u8> {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 0 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    d.push(((10 - sum % 10) % 10) as u8);
    d
}

/// (prefix, length, grouping) of Visa, Mastercard, Amex, Diners, Maestro.
const BRANDS: &[(&str, usize, &[usize])] = &[
    ("4", 16, &[4, 4, 4, 4]),
    ("51", 16, &[4, 4, 4, 4]),
    ("37", 15, &[4, 6, 5]),
    ("36", 14, &[4, 6, 4]),
    ("6759", 19, &[4, 4, 4, 4, 3]),
];

/// Card numbers of several brands, Luhn-valid, in their usual groupings.
fn card() -> impl Strategy<Value = String> {
    let brand = prop::sample::select(BRANDS);
    (
        brand,
        digit_string(18),
        prop::sample::select(&[" ", "-", ""][..]),
    )
        .prop_map(|((prefix, len, groups), rest, sep)| {
            let mut d: Vec<u8> = prefix.bytes().map(|c| c - b'0').collect();
            d.extend(rest.iter().take(len - 1 - d.len()));
            let d = luhn_complete(d);
            grouped(&d, if sep.is_empty() { &[19] } else { groups }, sep)
        })
}

/// Names with particles, apostrophes and letters beyond Latin-1.
fn name() -> impl Strategy<Value = String> {
    let first = prop::sample::select(&["Max", "Anna-Lena", "Łukasz", "María", "Sean", "Jörg"][..]);
    let particle = prop::sample::select(&["", "von ", "van der ", "zu ", "de la "][..]);
    let last = prop::sample::select(&["Bülow", "Berg", "O'Brien", "Żółć", "Cruz", "Müller"][..]);
    (first, particle, last).prop_map(|(f, p, l)| format!("{f} {p}{l}"))
}

#[derive(Debug, Clone, Copy)]
enum Template {
    KeyEquals,
    KeyColon,
    Json,
    Header,
    Query,
}

fn line(t: Template, key: &str, value: &str, ctx: &[&str]) -> String {
    let (before, after) = (ctx[0], ctx[1]);
    match t {
        Template::KeyEquals => format!("INFO {before} {key}={value} {after}"),
        Template::KeyColon => format!("INFO {before} {key}: {value}\n{after}"),
        Template::Json => format!("{{\"a\":\"{before}\",\"{key}\":\"{value}\",\"b\":\"{after}\"}}"),
        Template::Header => format!("{before}\r\nX-{key}: {value}\r\n{after}"),
        Template::Query => format!(
            "GET /api/x?{before}&{key}={}&{after}",
            value.replace(' ', "%20").replace('+', "%2B")
        ),
    }
}

fn template() -> impl Strategy<Value = Template> {
    prop::sample::select(
        &[
            Template::KeyEquals,
            Template::KeyColon,
            Template::Json,
            Template::Header,
            Template::Query,
        ][..],
    )
}

fn context() -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(CONTEXT, 2).prop_shuffle()
}

/// The output with every context token taken out (each must be there).
fn without_context(out: &str, ctx: &[&str]) -> Result<String, TestCaseError> {
    let mut rest = out.to_owned();
    for c in ctx {
        prop_assert!(rest.contains(c), "context token {c:?} lost: {out:?}");
        rest = rest.replacen(c, "", 1);
    }
    Ok(rest)
}

fn digit_runs_of(value: &str, rest: &str) -> Vec<String> {
    let value_digits: String = value.chars().filter(char::is_ascii_digit).collect();
    // A query's encoded blank and plus are separators, not digits.
    let rest = rest.replace("%20", " ").replace("%2B", "+");
    // Digits that survive, read across separators, as runs.
    let mut runs = Vec::new();
    let mut cur = String::new();
    for c in rest.chars() {
        if c.is_ascii_digit() {
            cur.push(c);
        } else if !matches!(c, ' ' | '-' | '/' | '(' | ')' | '.') {
            if cur.len() >= 4 {
                runs.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    if cur.len() >= 4 {
        runs.push(cur);
    }
    runs.into_iter()
        .filter(|r| {
            r.as_bytes()
                .windows(4)
                .any(|w| value_digits.contains(std::str::from_utf8(w).unwrap()))
        })
        .collect()
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn phones_leave_no_digits(
        value in phone(),
        t in template(),
        key in prop::sample::select(&["phone", "telefonnummer", "tel", "caller_phone"][..]),
        ctx in context(),
    ) {
        let s = Sanitizer::default();
        let input = line(t, key, &value, &ctx);
        let out = s.sanitize(&input);
        let rest = without_context(&out, &ctx)?;
        let leaked = digit_runs_of(&value, &rest);
        prop_assert!(leaked.is_empty(), "{input:?}\n -> {out:?}\n leaked {leaked:?}");
        prop_assert_eq!(s.sanitize(&out), out.clone(), "not idempotent");
    }

    #[test]
    fn cards_leave_no_digits(
        value in card(),
        t in template(),
        key in prop::sample::select(&["card_number", "kreditkarte", "creditCard", "kartennummer"][..]),
        ctx in context(),
    ) {
        let s = Sanitizer::default();
        let input = line(t, key, &value, &ctx);
        let out = s.sanitize(&input);
        let rest = without_context(&out, &ctx)?;
        let leaked = digit_runs_of(&value, &rest);
        prop_assert!(leaked.is_empty(), "{input:?}\n -> {out:?}\n leaked {leaked:?}");
        prop_assert_eq!(s.sanitize(&out), out.clone(), "not idempotent");
    }

    #[test]
    fn names_leave_no_parts(
        value in name(),
        t in template(),
        key in prop::sample::select(&["name", "customer_name", "Kunde", "attendee_name"][..]),
        ctx in context(),
    ) {
        let s = Sanitizer::default();
        let input = line(t, key, &value, &ctx);
        let out = s.sanitize(&input);
        let rest = without_context(&out, &ctx)?;
        for part in value.split([' ', '-']).filter(|p| p.chars().count() >= 3) {
            if matches!(part, "von" | "van" | "der") {
                continue;
            }
            let encoded = part.replace('\'', "%27");
            prop_assert!(
                !rest.contains(part) && !rest.contains(&encoded),
                "{input:?}\n -> {out:?}\n name part {part:?} left"
            );
        }
        prop_assert_eq!(s.sanitize(&out), out.clone(), "not idempotent");
    }
}
