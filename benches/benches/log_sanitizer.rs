//! log-sanitizer throughput against two baselines in the same run: the helper
//! it replaces, one regex per kind applied one after another (e-mail, encoded e-mail, phone, IBAN, card,
//! Bearer/Basic, JWT, key prefixes, secret keys, name keys, salutations, IPv4,
//! date of birth), and the stronger one a user would otherwise write: the
//! same rules as one alternation regex with one `replace_all`.
//!
//! Groups: (a) log lines without PII, (b) lines with about one PII item each,
//! (c) JSON request bodies. Throughput is bytes of input per second.

use std::borrow::Cow;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use regex::Regex;
use voxcal_log_sanitizer::Sanitizer;

/// A small deterministic generator, so every run sees the same input.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() % items.len()]
    }
}

const FUNCTIONS: &[&str] = &[
    "check_availability",
    "collect_appointment",
    "book_appointment",
    "cancel_appointment",
    "reschedule_appointment",
];

fn clean_line(r: &mut Lcg) -> String {
    let ts = format!(
        "2025-10-{:02} {:02}:{:02}:{:02}.{:03}",
        1 + r.next() % 28,
        r.next() % 24,
        r.next() % 60,
        r.next() % 60,
        r.next() % 1000
    );
    let f = r.pick(FUNCTIONS);
    match r.next() % 8 {
        0 => format!(
            "{ts} INFO booking_service::retell: function call received function_name={f} call_id=call_{:x} eventTypeId={} tenant=praxis-{}",
            r.next(), 2_000_000 + r.next() % 900_000, r.next() % 40
        ),
        1 => format!(
            "{ts} DEBUG calcom_client: GET /v2/slots?eventTypeId={}&start=2025-10-{:02}&timeZone=Europe/Berlin status=200 took {}ms",
            2_000_000 + r.next() % 900_000, 1 + r.next() % 28, r.next() % 900
        ),
        2 => format!(
            "{ts} WARN circuit_breaker: breaker calcom half-open after {}s, failures={} window=60s version 7.0.{}",
            r.next() % 60, r.next() % 10, r.next() % 20
        ),
        3 => format!(
            "{ts} INFO appointment_finder: {} alternative slots found for Termin am {:02}.10.2025 um {:02}:00 (Dauer {} Minuten)",
            r.next() % 6, 1 + r.next() % 28, 8 + r.next() % 10, 15 * (1 + r.next() % 4)
        ),
        4 => format!(
            "{ts} INFO call_rate_limiter: allowed key=rl:{{call_{:x}}}:{f} remaining={} reset_after_ms={}",
            r.next(), r.next() % 30, r.next() % 60_000
        ),
        5 => format!(
            "{ts} ERROR booking_service: upstream error kind=timeout attempt={} of 3 after 5000ms trace_id={:016x}{:016x}",
            1 + r.next() % 3, r.next(), r.next()
        ),
        6 => format!(
            "{ts} INFO payments: invoice total 49,99 EUR paid ts={} order_id=ord_{} status=paid",
            1_727_773_403 + r.next() % 100_000, r.next() % 1_000_000
        ),
        _ => format!(
            "{ts} INFO tower_http::trace: finished processing request latency={} ms status=200 method=POST uri=/api/retell/{f}",
            r.next() % 400
        ),
    }
}

fn pii_item(r: &mut Lcg) -> String {
    let first = r.pick(&["max", "anna", "jürgen", "lena", "tobias", "sophie"]);
    let last = r.pick(&["mueller", "schmidt", "weiß", "becker", "hoffmann"]);
    match r.next() % 10 {
        0 => format!("attendee {first}.{last}@gmx.de"),
        1 => format!("from_number=+49 171 {}", 1_000_000 + r.next() % 8_999_999),
        2 => format!("Rückruf 030/{}", 1_000_000 + r.next() % 8_999_999),
        3 => "IBAN DE89 3704 0044 0532 0130 00".to_owned(),
        4 => "Authorization: Bearer cal_live_8f14e45fceea167a5a36dedd4bea2543".to_owned(),
        5 => "Kunde: Max Müller".to_owned(),
        6 => format!("client_ip=203.0.113.{}", r.next() % 250),
        7 => format!("attendeeEmail={first}%40web.de"),
        8 => "password=Sommer2025!".to_owned(),
        _ => "Karte 4111 1111 1111 1111".to_owned(),
    }
}

fn pii_line(r: &mut Lcg) -> String {
    let mut line = clean_line(r);
    line.push(' ');
    line.push_str(&pii_item(r));
    line
}

fn json_body(r: &mut Lcg) -> String {
    format!(
        concat!(
            r#"{{"call":{{"call_id":"call_{:x}","agent_id":"agent_{:x}","from_number":"+49171{}","#,
            r#""to_number":"+4930{}","direction":"inbound","start_timestamp":{}}},"#,
            r#""name":"{}","args":{{"customer_name":"Max Müller","email":"max.mueller@gmx.de","#,
            r#""date":"2025-10-{:02}","time":"{:02}:30","eventTypeId":{},"notes":"Bitte Rückruf unter 0171 {}","#,
            r#""guests":{},"language":"de-DE"}}}}"#
        ),
        r.next(),
        r.next(),
        1_000_000 + r.next() % 8_999_999,
        1_000_000 + r.next() % 8_999_999,
        1_727_773_403_000u64 + (r.next() % 1_000_000) as u64,
        r.pick(FUNCTIONS),
        1 + r.next() % 28,
        8 + r.next() % 10,
        2_000_000 + r.next() % 900_000,
        1_000_000 + r.next() % 8_999_999,
        r.next() % 4,
    )
}

/// The original helper's approach, extended to every kind: one regex per kind,
/// applied one after another.
struct SequentialRegex {
    rules: Vec<(Regex, &'static str)>,
}

/// The rules both regex baselines use: (pattern, marker).
fn baseline_rules() -> [(&'static str, &'static str); 13] {
    [
        (
            r"[A-Za-z0-9._%+-]+@[\w.-]+\.[A-Za-z]{2,}",
            "[EMAIL_REDACTED]",
        ),
        (
            r"[A-Za-z0-9._%+-]+%40[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
            "[EMAIL_REDACTED]",
        ),
        (
            r"(?:\+|\b00)[1-9][\d \-/()]{6,}\d|\(?\b0[1-9]\d{1,4}\)?[ \-/]?\d[\d \-]{4,}\d\b",
            "[PHONE_REDACTED]",
        ),
        (
            r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b",
            "[IBAN_REDACTED]",
        ),
        (
            r"\b[2-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{1,7}\b",
            "[CARD_REDACTED]",
        ),
        (
            r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}",
            "[REDACTED]",
        ),
        (
            r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
            "[REDACTED]",
        ),
        (
            r"\b(?:cal_live_|sk_live_|rk_live_|ghp_|github_pat_|key_)[A-Za-z0-9_]{8,}|\bAKIA[A-Z0-9]{16}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAIza[A-Za-z0-9_-]{35}",
            "[REDACTED]",
        ),
        (
            r#"(?i)\b(?:password|passwd|secret|token|api_key|apikey|x-api-key|access_token|refresh_token|client_secret|cvv|authorization)["']?\s*[:=]\s*["']?[^\s"'&,;]+"#,
            "[REDACTED]",
        ),
        (
            r#"(?i)\b(?:name|customer_name|first_name|last_name|vorname|nachname|kunde)["']?\s*[:=]\s*["']?[^"&,;\n]+"#,
            "[NAME_REDACTED]",
        ),
        (
            r"\b(?:Herr|Frau|Dr\.)\s+\p{Lu}\p{Ll}+(?:\s+\p{Lu}\p{Ll}+)?",
            "[NAME_REDACTED]",
        ),
        (r"\b(?:\d{1,3}\.){3}\d{1,3}\b", "[IP_REDACTED]"),
        (
            r"(?i)\b(?:geb\.|geburtsdatum|dob|birthdate)\s*:?\s*\d{1,2}\.\d{1,2}\.\d{2,4}",
            "[DOB_REDACTED]",
        ),
    ]
}

impl SequentialRegex {
    fn new() -> Self {
        SequentialRegex {
            rules: baseline_rules()
                .into_iter()
                .map(|(re, marker)| (Regex::new(re).expect("baseline regex"), marker))
                .collect(),
        }
    }

    fn sanitize<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (re, marker) in &self.rules {
            if let Cow::Owned(s) = re.replace_all(&out, *marker) {
                out = Cow::Owned(s);
            }
        }
        out
    }
}

/// The stronger baseline a user would write: every rule as one alternation
/// (each rule its own capture group), one `replace_all` pass, the marker
/// chosen by the group that matched.
struct AlternationRegex {
    re: Regex,
    markers: Vec<&'static str>,
}

impl AlternationRegex {
    fn new() -> Self {
        let rules = baseline_rules();
        let pattern = rules
            .iter()
            .map(|(re, _)| format!("({re})"))
            .collect::<Vec<_>>()
            .join("|");
        AlternationRegex {
            re: Regex::new(&pattern).expect("alternation baseline regex"),
            markers: rules.iter().map(|(_, m)| *m).collect(),
        }
    }

    fn sanitize<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.re.replace_all(text, |caps: &regex::Captures<'_>| {
            let group = caps.iter().skip(1).position(|m| m.is_some()).unwrap_or(0);
            self.markers[group]
        })
    }
}

fn run_group(c: &mut Criterion, name: &str, inputs: &[String]) {
    let sanitizer = Sanitizer::default();
    let baseline = SequentialRegex::new();
    let alternation = AlternationRegex::new();
    let bytes: usize = inputs.iter().map(String::len).sum();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes as u64));
    group.measurement_time(Duration::from_secs(4));
    group.bench_function("log_sanitizer", |b| {
        b.iter(|| {
            for line in inputs {
                black_box(sanitizer.sanitize(black_box(line)));
            }
        });
    });
    group.bench_function("sequential_regex", |b| {
        b.iter(|| {
            for line in inputs {
                black_box(baseline.sanitize(black_box(line)));
            }
        });
    });
    group.bench_function("alternation_regex", |b| {
        b.iter(|| {
            for line in inputs {
                black_box(alternation.sanitize(black_box(line)));
            }
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let mut r = Lcg(0x5eed);
    let clean: Vec<String> = (0..1000).map(|_| clean_line(&mut r)).collect();
    let pii: Vec<String> = (0..1000).map(|_| pii_line(&mut r)).collect();
    let json: Vec<String> = (0..300).map(|_| json_body(&mut r)).collect();
    // The inputs really are what the group names say.
    let s = Sanitizer::default();
    assert!(clean
        .iter()
        .all(|l| matches!(s.sanitize(l), Cow::Borrowed(_))));
    assert!(pii.iter().all(|l| matches!(s.sanitize(l), Cow::Owned(_))));
    run_group(c, "log_sanitizer/a_no_pii_lines", &clean);
    run_group(c, "log_sanitizer/b_one_pii_per_line", &pii);
    run_group(c, "log_sanitizer/c_json_bodies", &json);
}

criterion_group!(log_sanitizer_benches, benches);
criterion_main!(log_sanitizer_benches);
