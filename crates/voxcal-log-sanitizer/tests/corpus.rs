//! A corpus of realistic log lines of the booking backend: generated lines
//! with labelled PII spans plus hand-written tricky negatives. Asserts recall
//! of at least 99% per run and that at least 99% of the non-PII tokens survive
//! in order, and prints the per-kind figures.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;

use voxcal_log_sanitizer::Sanitizer;

/// One piece of a line: literal text that must survive, or a labelled value.
enum Piece {
    Text(String),
    Pii(&'static str, String),
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
    fn below(&mut self, n: usize) -> usize {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

const FIRST: &[&str] = &[
    "Max",
    "Anna",
    "Jürgen",
    "Lena",
    "Tobias",
    "Sophie",
    "Özlem",
    "Hans-Peter",
    "Marie",
    "Lukas",
    "Zoë",
    "Björn",
    "Fatma",
    "Emil",
    "Charlotte",
];
const LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Weiß",
    "Becker",
    "Hoffmann",
    "Schäfer",
    "Yılmaz",
    "Krause-Lehmann",
    "von Bergen",
    "Nguyen",
    "Wagner",
    "Groß",
    "Fischer",
    "Kowalski",
];
const DOMAINS: &[&str] = &[
    "gmx.de",
    "web.de",
    "t-online.de",
    "gmail.com",
    "praxis-sonnenschein.de",
    "bäckerei-schmidt.de",
    "outlook.com",
    "mail.example.co.uk",
    "müller-bau.de",
];
const FUNCTIONS: &[&str] = &[
    "check_availability",
    "collect_appointment",
    "book_appointment",
    "cancel_appointment",
    "reschedule_appointment",
    "get_business_hours",
];

fn ascii_fold(s: &str) -> String {
    s.to_lowercase()
        .replace('ü', "ue")
        .replace('ö', "oe")
        .replace('ä', "ae")
        .replace('ß', "ss")
        .replace(['ı', 'ë'], "i")
        .replace(' ', "")
}

fn email(r: &mut Rng) -> String {
    let f = ascii_fold(r.pick(FIRST));
    let l = ascii_fold(r.pick(LAST));
    let d = r.pick(DOMAINS);
    match r.below(5) {
        0 => format!("{f}.{l}@{d}"),
        1 => format!("{f}+termin@{d}"),
        2 => format!("{}@{}", f.to_uppercase(), d.to_uppercase()),
        3 => format!("{f}_{l}{}@{d}", r.below(100)),
        _ => format!("{}{l}@{d}", &f[..1]),
    }
}

fn phone(r: &mut Rng) -> String {
    let sub = r.digits(7);
    let a = 1 + r.below(9);
    match r.below(12) {
        0 => format!("+49 30 {sub}"),
        1 => format!("+49 (0)30 {} {}", &sub[..4], r.digits(4)),
        2 => format!("0049 17{a} {sub}"),
        3 => format!("030/{sub}"),
        4 => format!("017{a}-{sub}"),
        5 => format!("(0{a}{}) {sub}", r.below(10)),
        6 => format!(
            "0 30 {} {} {} {}",
            r.digits(2),
            r.digits(2),
            r.digits(2),
            r.digits(2)
        ),
        7 => format!("+4917{a}{sub}"),
        8 => format!("+43 1 {sub}"),
        9 => format!("+41 44 {} {} {}", r.digits(3), r.digits(2), r.digits(2)),
        10 => format!("+1 415 555 {}", r.digits(4)),
        _ => format!("0{a}{}{sub}", r.below(10)),
    }
}

fn iban(r: &mut Rng) -> String {
    let (cc, bban) = match r.below(3) {
        0 => ("DE", r.digits(18)),
        1 => ("AT", r.digits(16)),
        _ => ("NL", format!("ABNA{}", r.digits(10))),
    };
    let mut rem = 0u32;
    let tail = format!("{bban}{cc}00");
    for c in tail.bytes() {
        rem = if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c - b'A') + 10) % 97
        };
    }
    let compact = format!("{cc}{:02}{bban}", 98 - rem);
    if r.below(2) == 0 {
        compact
    } else {
        compact
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn card(r: &mut Rng) -> String {
    let (prefix, len) = match r.below(3) {
        0 => ("4", 16),
        1 => ("5", 16),
        _ => ("37", 15),
    };
    let mut d: Vec<u8> = prefix.bytes().map(|c| c - b'0').collect();
    if prefix == "5" {
        d.push(1 + r.below(5) as u8);
    }
    while d.len() < len - 1 {
        d.push(r.below(10) as u8);
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let v = u32::from(x) * if i % 2 == 0 { 2 } else { 1 };
            if v > 9 {
                v - 9
            } else {
                v
            }
        })
        .sum();
    d.push(((10 - sum % 10) % 10) as u8);
    let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
    match r.below(3) {
        0 => s,
        1 if len == 16 => s
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" "),
        _ if len == 16 => s
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("-"),
        _ => s,
    }
}

fn b64(r: &mut Rng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n).map(|_| char::from(A[r.below(A.len())])).collect()
}

fn hex(r: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b"0123456789abcdef"[r.below(16)]))
        .collect()
}

fn token(r: &mut Rng) -> String {
    match r.below(9) {
        0 => format!(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}",
            b64(r, 40),
            b64(r, 43)
        ),
        1 => format!("cal_live_{}", hex(r, 32)),
        2 => format!("sk_live_{}", b64(r, 24)),
        3 => format!("AKIA{}", b64(r, 16).to_uppercase()),
        4 => format!("ghp_{}", b64(r, 36)),
        5 => format!("xoxb-{}-{}", r.digits(12), b64(r, 24)),
        6 => format!("AIza{}", b64(r, 35)),
        7 => format!("key_{}{}", r.digits(2), hex(r, 22)),
        _ => format!("github_pat_{}_{}", b64(r, 22), b64(r, 30)),
    }
}

fn ipv4(r: &mut Rng) -> String {
    match r.below(4) {
        0 => format!("2001:db8:{:x}::{:x}", r.below(65535), 1 + r.below(65534)),
        _ => format!(
            "{}.{}.{}.{}",
            1 + r.below(223),
            r.below(256),
            r.below(256),
            1 + r.below(254)
        ),
    }
}

fn dob(r: &mut Rng) -> String {
    let (d, m, y) = (1 + r.below(28), 1 + r.below(12), 1940 + r.below(66));
    if r.below(2) == 0 {
        format!("{d:02}.{m:02}.{y}")
    } else {
        format!("{y}-{m:02}-{d:02}")
    }
}

fn name(r: &mut Rng) -> String {
    format!("{} {}", r.pick(FIRST), r.pick(LAST))
}

fn ts(r: &mut Rng) -> String {
    format!(
        "2025-10-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        1 + r.below(28),
        r.below(24),
        r.below(60),
        r.below(60),
        r.below(1000)
    )
}

/// A generated line from one of the templates. `«KIND»` marks a labelled value.
fn line(r: &mut Rng) -> Vec<Piece> {
    let f = r.pick(FUNCTIONS);
    let call = format!("call_{}", hex(r, 12));
    let et = 2_000_000 + r.below(900_000);
    let ms = r.below(2000);
    let day = 1 + r.below(28);
    let hour = 8 + r.below(10);
    let templates = [
        format!("{} INFO booking_service::retell: {f} call_id={call} attendeeEmail=«email» eventTypeId={et} took {ms}ms", ts(r)),
        format!("{} INFO booking_service::retell: {f} call_id={call} from_number=«phone» to_number=«phone» direction=inbound", ts(r)),
        format!("{} DEBUG calcom_client: POST /v2/bookings body={{\"start\":\"2025-10-{day:02}T{hour:02}:00:00Z\",\"eventTypeId\":{et},\"attendee\":{{\"name\":\"«name»\",\"email\":\"«email»\",\"timeZone\":\"Europe/Berlin\"}}}}", ts(r)),
        format!("{} INFO appointment_finder: Termin für Herr «name» am {day:02}.10.2025 um {hour:02}:00 bestätigt (Dauer 30 Minuten)", ts(r)),
        format!("{} INFO appointment_finder: Rückruf an Frau «name» unter «phone» bis {hour:02}:30 Uhr", ts(r)),
        format!("{} WARN request_validation: rejected email for call_id={call}: value=«email» reason=domain_unknown", ts(r)),
        format!("{} INFO payments: mandate created IBAN «iban» amount=49,99 EUR order_id=ord_{}", ts(r), r.below(1_000_000)),
        format!("{} INFO payments: charge ok card «card» amount 120,00 EUR 3ds=passed", ts(r)),
        format!("{} DEBUG calcom_client: GET /v2/slots?eventTypeId={et}&start=2025-10-{day:02} Authorization: Bearer «secret» status=200 latency={ms}ms", ts(r)),
        format!("{} ERROR calcom_client: upstream 401 for api_key=«secret» attempt=2 of 3 version=7.0.15", ts(r)),
        format!("{} INFO tower_http::trace: finished request client_ip=«ip» method=POST uri=/api/retell/{f} status=200 latency={ms} ms", ts(r)),
        format!("{} INFO booking_service: new patient Kunde: «name», geb. «dob», Tel. «phone»", ts(r)),
        format!("{} DEBUG retell: transcript snippet \"mein Name ist «name» und meine Nummer ist «phone»\" call_id={call}", ts(r)),
        format!("{} INFO booking_service: GET /book?attendeeEmail=«email_enc»&slot=2025-10-{day:02}T{hour:02}:00&tenant=praxis-{}", ts(r), r.below(40)),
        format!("{} WARN auth: login failed user=«email» password=«password» from «ip»", ts(r)),
        format!("{} INFO retell: {{\"call\":{{\"call_id\":\"{call}\",\"from_number\":\"«phone»\"}},\"name\":\"{f}\",\"args\":{{\"customer_name\":\"«name»\",\"date\":\"2025-10-{day:02}\",\"time\":\"{hour:02}:00\"}}}}", ts(r)),
        format!("{} INFO crm: contact updated id={et} address=«address»; segment=vip", ts(r)),
        format!("{} DEBUG webhook: secret token=«secret» delivered to https://hooks.example.com/retell/{call} in {ms}ms", ts(r)),
        format!("{} INFO booking_service: Geburtsdatum: «dob» verified for call_id={call}", ts(r)),
        format!("{} INFO sepa: Lastschrift von «iban» für Rechnung RE-2025-{} über 89,00 EUR", ts(r), r.below(10_000)),
    ];
    let t = &templates[r.below(templates.len())];
    let mut pieces = Vec::new();
    let mut rest = t.as_str();
    while let Some(open) = rest.find('«') {
        pieces.push(Piece::Text(rest[..open].to_owned()));
        let close = rest[open..].find('»').unwrap() + open;
        let kind = &rest[open + '«'.len_utf8()..close];
        let (label, value) = match kind {
            "email" => ("email", email(r)),
            "email_enc" => ("email", email(r).to_lowercase().replace('@', "%40")),
            "phone" => ("phone", phone(r)),
            "name" => ("name", name(r)),
            "iban" => ("iban", iban(r)),
            "card" => ("card", card(r)),
            "secret" => ("secret", token(r)),
            "password" => ("secret", format!("Sommer{}!{}", r.digits(4), b64(r, 3))),
            "ip" => ("ip", ipv4(r)),
            "dob" => ("dob", dob(r)),
            "address" => (
                "address",
                format!("Hauptstraße {}, {} Berlin", 1 + r.below(120), r.digits(5)),
            ),
            other => panic!("unknown placeholder {other}"),
        };
        pieces.push(Piece::Pii(label, value));
        rest = &rest[close + '»'.len_utf8()..];
    }
    pieces.push(Piece::Text(rest.to_owned()));
    pieces
}

/// Hand-written lines without any PII that tempt a naive sanitizer.
const NEGATIVES: &[&str] = &[
    "2025-10-01 11:03:23 INFO start ts=1727773403 took 577ms redis 7.0.15",
    "eventTypeId=2026713 amount=49,99 EUR Termin am 01.10.2025 um 14:00",
    "function_name=check_availability author=Goethe authority=calcom token_count=42",
    "{\"name\":\"book_appointment\",\"args\":{\"date\":\"2025-10-01\",\"time\":\"14:30\",\"guests\":2}}",
    "listen 127.0.0.1:8080 and [::1]:8080 bind 0.0.0.0:3000",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "uuid=0f8fad5b-d9cb-469f-a165-70867728950e order=ord_1234567890123456",
    "Bearer token expired; Basic auth failed; retry in 30s",
    "range 09:00-17:00 Mo-Fr, Pause 12:30-13:00",
    "ts_ms=1727773403123 latency_p99=1500ms cpu=0.75",
    "-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----",
    "use tokio::runtime::Builder; mac aa:bb:cc:dd:ee:ff",
    "2025-10-01T11:03:23.123+02:00 Slot 2025-10-02 10:00 frei",
    "Herr des Verfahrens ist die Praxis; Frau ist nicht angegeben",
    "Preis 1.299,00 EUR inkl. 19% MwSt, Rechnung RE-2025-0042",
    "version 1.2.3.4.5 build 20251001 commit 7f3e2a1",
    "key_name=default tool_name=collect_appointment event_name=Beratung",
    "postgres@localhost refused; @channel deploy done",
    "GET /v2/slots?start=2025-10-01&end=2025-10-07&timeZone=Europe/Berlin 200",
    "queue depth 0 1 2 3; retries=0; backoff 100ms 200ms 400ms",
];

#[test]
fn corpus_recall_and_survival() {
    let s = Sanitizer::default();
    let mut r = Rng(0xb00c_1a9e);
    let mut per_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let (mut tokens, mut survived) = (0usize, 0usize);
    let mut lost = Vec::new();
    let mut leaks = Vec::new();
    let mut lines = 0;

    let mut corpus: Vec<Vec<Piece>> = (0..1200).map(|_| line(&mut r)).collect();
    corpus.extend(NEGATIVES.iter().map(|n| vec![Piece::Text((*n).to_owned())]));

    for pieces in &corpus {
        lines += 1;
        let text: String = pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) | Piece::Pii(_, t) => t.as_str(),
            })
            .collect();
        let out = s.sanitize(&text);
        // Recall: the value must be gone from the output.
        for p in pieces {
            if let Piece::Pii(kind, value) = p {
                let e = per_kind.entry(kind).or_default();
                e.0 += 1;
                if out.contains(value.as_str()) {
                    leaks.push(format!("{kind}: {value}\n    in: {out}"));
                } else {
                    e.1 += 1;
                }
            }
        }
        // Survival: the literal tokens must still be there, in order.
        let mut cursor = 0;
        for p in pieces {
            if let Piece::Text(t) = p {
                for tok in t.split_whitespace() {
                    tokens += 1;
                    match out[cursor..].find(tok) {
                        Some(at) => {
                            survived += 1;
                            cursor += at + tok.len();
                        }
                        None => lost.push(format!("{tok:?}\n    in: {out}")),
                    }
                }
            }
        }
    }

    let (mut all, mut hit) = (0, 0);
    println!(
        "corpus: {lines} lines ({} hand-written negatives)",
        NEGATIVES.len()
    );
    for (kind, (n, ok)) in &per_kind {
        println!(
            "  {kind:<8} recall {ok:>4}/{n:<4} = {:6.2}%",
            100.0 * *ok as f64 / *n as f64
        );
        all += n;
        hit += ok;
    }
    let recall = 100.0 * hit as f64 / all as f64;
    let survival = 100.0 * survived as f64 / tokens as f64;
    println!("  all      recall {hit:>4}/{all:<4} = {recall:6.2}%");
    println!("  non-PII tokens survived {survived}/{tokens} = {survival:6.2}%");
    for l in leaks.iter().take(15) {
        println!("  LEAK {l}");
    }
    for l in lost.iter().take(15) {
        println!("  LOST {l}");
    }
    assert!(lines >= 1000);
    assert!(recall >= 99.0, "recall {recall:.2}% < 99%");
    assert!(survival >= 99.0, "token survival {survival:.2}% < 99%");
    for (kind, (n, ok)) in &per_kind {
        assert!(*n >= 20, "too few {kind} samples: {n}");
        assert!(*ok as f64 >= 0.97 * *n as f64, "{kind} recall {ok}/{n}");
    }
}
