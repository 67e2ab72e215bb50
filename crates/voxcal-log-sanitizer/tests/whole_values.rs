//! Generated values of each kind, in every grouping, inside each log-line
//! template: no run of four of the value's digits and no name, street or
//! spoken part of three letters survives, and the line's other tokens come
//! back unchanged (issue #19; tax ids, social insurance numbers, addresses
//! and spoken phones and e-mails since). 10,000 cases each (a second or two
//! each in a debug build); `PROPTEST_CASES` overrides.

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
    // Without `+1`, as Americans write them: real area codes (the metadata
    // decides), exchanges 200-999 without N11.
    let us_national = (
        prop::sample::select(&["212", "305", "312", "415", "617", "646", "206", "303"][..]),
        (200u16..999).prop_filter("N11 exchange", |e| e % 100 != 11),
        0u16..10_000,
        prop::sample::select(
            &[
                "({a}) {b}-{c}",
                "{a}-{b}-{c}",
                "{a}.{b}.{c}",
                "1-{a}-{b}-{c}",
                "{a} {b} {c}",
            ][..],
        ),
    )
        .prop_map(|(a, b, c, form)| {
            form.replace("{a}", a)
                .replace("{b}", &b.to_string())
                .replace("{c}", &format!("{c:04}"))
        });
    // Dots, slashes and a `(0)` between groups; pairs with a lone last digit.
    // Mobile blocks with their real subscriber lengths (0151: eight digits).
    let separated = (
        prop::sample::select(&[("151", 8), ("160", 7), ("170", 7), ("176", 8)][..])
            .prop_flat_map(|(pre, len)| (Just(pre), digit_string(len))),
        prop::sample::select(
            &[
                "0{p}.{r3}.{r4}",
                "+49/{p}/{r}",
                "+49.{p}.{r3}.{r4}",
                "+49 (0){p}.{r}",
                "0049.{p}.{r}",
            ][..],
        ),
    )
        .prop_map(|((pre, rest), form)| {
            let r: String = rest.iter().map(|x| char::from(b'0' + x)).collect();
            form.replace("{p}", pre)
                .replace("{r3}", &r[..3])
                .replace("{r4}", &r[3..])
                .replace("{r}", &r)
        });
    let pairs = (
        prop::sample::select(&["89", "30", "40"][..]),
        digit_string(7),
    )
        .prop_map(|(area, d)| format!("+49 {area} {}", grouped(&d, &[2, 2, 2, 1], " ")));
    let at = digit_string(7).prop_map(|d| format!("+43 1 {}", grouped(&d, &[3, 4], " ")));
    let ch = digit_string(7).prop_map(|d| format!("+41 44 {}", grouped(&d, &[3, 2, 2], " ")));
    let uk = digit_string(8).prop_map(|d| format!("+44 20 {}", grouped(&d, &[4, 4], " ")));
    prop_oneof![
        mobile,
        landline,
        us,
        us_national,
        separated,
        pairs,
        at,
        ch,
        uk
    ]
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
    // Also surname first, as forms and lists write it: `O'Brien, Sean`.
    (first, particle, last, any::<bool>()).prop_map(|(f, p, l, reversed)| {
        if reversed {
            format!("{l}, {f}")
        } else {
            format!("{f} {p}{l}")
        }
    })
}

#[derive(Debug, Clone, Copy)]
enum Template {
    /// Free text: the value after its label word and a blank, no `=`/`:`.
    Plain,
    KeyEquals,
    KeyColon,
    Json,
    Header,
    Query,
}

fn line(t: Template, key: &str, value: &str, ctx: &[&str]) -> String {
    let (before, after) = (ctx[0], ctx[1]);
    match t {
        Template::Plain => format!("INFO {before} {key} {value}\n{after}"),
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
            Template::Plain,
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

/// ISO 7064 MOD 11,10 check digit over the first ten digits of a tax id.
fn tax_check(d: &[u8]) -> u8 {
    let mut product = 10;
    for &x in d {
        let sum = match (x + product) % 10 {
            0 => 10,
            s => s,
        };
        product = (sum * 2) % 11;
    }
    match 11 - product {
        10 => 0,
        c => c,
    }
}

/// Tax ids: nine distinct digits and one of them a second time (no leading
/// zero), the check digit computed; plain or grouped `12 345 678 995`.
fn tax_id() -> impl Strategy<Value = String> {
    (
        Just((0u8..10).collect::<Vec<u8>>()).prop_shuffle(),
        0usize..9,
        1usize..10,
        any::<bool>(),
    )
        .prop_filter_map("leading zero", |(digits, twice, at, grouped)| {
            let mut d: Vec<u8> = digits[..9].to_vec();
            d.insert(at, d[twice]);
            if d[0] == 0 {
                return None;
            }
            d.push(tax_check(&d));
            Some(if grouped {
                grouped_digits(&d, &[2, 3, 3, 3])
            } else {
                grouped_digits(&d, &[11])
            })
        })
}

fn grouped_digits(d: &[u8], sizes: &[usize]) -> String {
    grouped(d, sizes, " ")
}

/// Social insurance numbers: area, a real birth date, the initial, the
/// serial, the check digit computed; compact or with blanks.
fn sv_number() -> impl Strategy<Value = String> {
    (
        2u8..90,
        1u8..29,
        1u8..13,
        0u8..100,
        b'A'..=b'Z',
        0u8..100,
        any::<bool>(),
    )
        .prop_map(|(area, day, month, year, letter, serial, spaced)| {
            let head = format!("{area:02}{day:02}{month:02}{year:02}");
            let mut d: Vec<u8> = head.bytes().map(|c| c - b'0').collect();
            let pos = letter - b'A' + 1;
            d.extend([pos / 10, pos % 10, serial / 10, serial % 10]);
            let w = [2u8, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
            let sum: u32 = d
                .iter()
                .zip(w)
                .map(|(x, w)| u32::from(x * w / 10 + x * w % 10))
                .sum();
            let check = sum % 10;
            let letter = char::from(letter);
            if spaced {
                format!("{area:02} {day:02}{month:02}{year:02} {letter} {serial:02} {check}")
            } else {
                format!("{head}{letter}{serial:02}{check}")
            }
        })
}

/// A street with a house number, with or without postcode and city, or a
/// postcode and city alone.
fn address() -> impl Strategy<Value = String> {
    let street = prop::sample::select(
        &[
            "Hauptstraße",
            "Goethestr.",
            "Lindenallee",
            "Marienplatz",
            "Am Markt",
            "Berliner Straße",
            "An der Alster",
            "Kirchgasse",
            "Schillerring",
            "Mühlenweg",
            "Kaiserdamm",
            "Zum Hafen",
            "Berliner Str.",
            "Kaiser-Wilhelm-Ring",
        ][..],
    );
    let number = prop::sample::select(&["", "a", "b", "-3", "/1"][..]);
    let city = prop::sample::select(
        &[
            "Berlin",
            "München",
            "Köln",
            "Hamburg",
            "Dresden",
            "Frankfurt am Main",
            "Bad Homburg",
        ][..],
    );
    (street, 1u16..300, number, 1010u32..99999, city, 0u8..3).prop_map(
        |(street, n, suffix, plz, city, form)| {
            let number = format!("{n}{suffix}");
            match form {
                0 => format!("{street} {number}"),
                1 => format!("{street} {number}, {plz:05} {city}"),
                _ => format!("{plz:05} {city}"),
            }
        },
    )
}

const UNIT_WORDS: [&[&str]; 10] = [
    &["null"],
    &["eins"],
    &["zwei", "zwo"],
    &["drei"],
    &["vier"],
    &["fünf"],
    &["sechs"],
    &["sieben"],
    &["acht"],
    &["neun"],
];

/// Phone numbers as a caller says them: number words (`zwo`, teens, tens,
/// `einundzwanzig`, `doppel`), `plus vier neun` or a digit prefix, commas.
fn spoken_phone() -> impl Strategy<Value = String> {
    let lead = prop::sample::select(&["", "plus vier neun ", "0160 ", "null ", "0171 "][..]);
    (
        lead,
        proptest::collection::vec((0usize..10, 0usize..2, 0u8..10), 6..11),
    )
        .prop_map(|(lead, parts)| {
            let mut out = lead.to_owned();
            for (k, (digit, variant, style)) in parts.into_iter().enumerate() {
                if k > 0 {
                    out.push_str(if style == 0 { ", " } else { " " });
                }
                let words = UNIT_WORDS[digit];
                match style {
                    1 => out.push_str("doppel "),
                    2 => {
                        // A teen or a compound stands for two digits, a hundred for three.
                        out.push_str(
                            [
                                "zwölf",
                                "siebzehn",
                                "einundzwanzig",
                                "vierzig",
                                "einhundertfünfzig",
                            ][digit % 5],
                        );
                        continue;
                    }
                    _ => {}
                }
                out.push_str(words[variant % words.len()]);
            }
            out
        })
}

const ENGLISH_UNITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// Phone numbers given in English: `zero …` or `plus four nine …`, digit
/// words, `double`/`triple`, teens and tens, commas.
fn spoken_phone_english() -> impl Strategy<Value = String> {
    let lead = prop::sample::select(&["zero ", "plus four nine ", "double zero four nine "][..]);
    (
        lead,
        proptest::collection::vec((0usize..10, 0u8..10), 6..11),
    )
        .prop_map(|(lead, parts)| {
            let mut out = lead.to_owned();
            for (k, (digit, style)) in parts.into_iter().enumerate() {
                if k > 0 {
                    out.push_str(if style == 0 { ", " } else { " " });
                }
                match style {
                    1 => out.push_str("double "),
                    2 => out.push_str("triple "),
                    3 => {
                        out.push_str(
                            ["twelve", "seventeen", "twenty", "forty", "ninety"][digit % 5],
                        );
                        continue;
                    }
                    _ => {}
                }
                out.push_str(ENGLISH_UNITS[digit]);
            }
            out
        })
}

/// E-mail addresses as a caller says them.
fn spoken_email() -> impl Strategy<Value = String> {
    let local = prop::sample::select(&["anna", "max", "jörg", "info", "m a x", "Anna"][..]);
    let join = prop::sample::select(
        &[
            " punkt ",
            " unterstrich ",
            " minus ",
            " bindestrich ",
            " Punkt ",
        ][..],
    );
    let second = prop::sample::select(&["weber", "müller", "team", "schmidt", "k"][..]);
    let at = prop::sample::select(&["ät", "at", "Klammeraffe"][..]);
    let domain =
        prop::sample::select(&["gmx", "web", "t-online", "gmail", "firma minus x", "g m x"][..]);
    let tld = prop::sample::select(&["de", "com", "net", "d e"][..]);
    (local, any::<bool>(), join, second, at, domain, tld).prop_map(
        |(local, two, join, second, at, domain, tld)| {
            let local = if two {
                format!("{local}{join}{second}")
            } else {
                local.to_owned()
            };
            format!("{local} {at} {domain} punkt {tld}")
        },
    )
}

/// The words of `value` of three letters or more (minus the `skip` ones)
/// that survive in `rest`.
fn words_left(value: &str, rest: &str, skip: &[&str]) -> Vec<String> {
    let rest = rest.replace("%20", " ");
    value
        .split([' ', ',', '-', '.', '/'])
        .filter(|w| w.chars().count() >= 3 && !skip.contains(w))
        .filter(|w| rest.contains(w))
        .map(str::to_owned)
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
        key in prop::sample::select(&["name", "customer_name", "Kunde", "attendee_name", "Patientin"][..]),
        spoken in prop::sample::select(&["Herr", "Frau", "Name ist", "ich heiße", "my name is", "hier spricht", "mein Nachname ist", "Vorname lautet", "meine Tochter,", "es spricht Dr."][..]),
        ctx in context(),
    ) {
        let s = Sanitizer::default();
        // In free text a name is told by the words before it, not by a field
        // name. (`Kunde Max` without a colon is not a label: `Kunde Termin
        // verschoben` must stay, so the bare word is left out here.)
        let key = if matches!(t, Template::Plain) { spoken } else { key };
        // Surname first is a field's or a label's form; after `Herr` or
        // `ich heiße` a name comes given name first.
        let value = match value.split_once(", ") {
            Some((last, first)) if matches!(t, Template::Plain) => format!("{first} {last}"),
            _ => value,
        };
        let input = line(t, key, &value, &ctx);
        let out = s.sanitize(&input);
        let rest = without_context(&out, &ctx)?;
        for part in value.split([' ', '-', ',']).filter(|p| p.chars().count() >= 3) {
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
    /// A transcript where the agent asks for the name and the caller says
    /// it bare, after fillers: as text, and escaped inside a JSON body.
    #[test]
    fn names_answering_the_agent_leave_no_parts(
        value in name(),
        question in prop::sample::select(&[
            "Wie ist Ihr Name?",
            "Gerne. Darf ich Ihren vollständigen Namen haben?",
            "Und Ihr Nachname, bitte?",
            "Wie heißen Sie?",
            "Mit wem spreche ich?",
            "May I have your name, please?",
        ][..]),
        filler in prop::sample::select(&["", "Ja, ", "Genau, ", "Ja, das ist ", "Ich bin ", "Äh, "][..]),
        form in 0u8..4,
        ctx in context(),
    ) {
        let s = Sanitizer::default();
        let transcript = format!(
            "Agent: Hallo {}.\nAgent: {question}\nUser: {filler}{value}.\nAgent: Danke, {}.",
            ctx[0], ctx[1]
        );
        // Retell's `transcript_object`: utterances with their words.
        let utterance = |role: &str, text: &str| {
            let words: Vec<_> = text
                .split(' ')
                .enumerate()
                .map(|(k, w)| serde_json::json!({"word": w, "start": k, "end": k + 1}))
                .collect();
            serde_json::json!({"role": role, "content": text, "words": words})
        };
        let object = serde_json::json!({"call": {"transcript_object": [
            utterance("agent", &format!("Hallo {}.", ctx[0])),
            utterance("agent", question),
            utterance("user", &format!("{filler}{value}.")),
            utterance("agent", &format!("Danke, {}.", ctx[1])),
        ]}});
        let input = match form {
            0 => transcript,
            1 => serde_json::json!({ "call": { "transcript": transcript } }).to_string(),
            2 => object.to_string(),
            _ => serde_json::to_string_pretty(&object).unwrap(),
        };
        let out = s.sanitize(&input);
        if form > 0 {
            prop_assert!(
                serde_json::from_str::<serde_json::Value>(&out).is_ok(),
                "invalid JSON: {out}"
            );
        }
        let rest = without_context(&out, &ctx)?;
        for part in value.split([' ', '-', ',']).filter(|p| p.chars().count() >= 3) {
            if matches!(part, "von" | "van" | "der") {
                continue;
            }
            prop_assert!(!rest.contains(part), "{input:?}\n -> {out:?}\n name part {part:?} left");
        }
        prop_assert_eq!(s.sanitize(&out), out.clone(), "not idempotent");
    }

    #[test]
    fn tax_ids_leave_no_digits(
        value in tax_id(),
        t in template(),
        key in prop::sample::select(&["steuer_id", "steuerid", "idnr", "tax_id", "Steueridentifikationsnummer"][..]),
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
    fn sv_numbers_leave_no_digits(
        value in sv_number(),
        t in template(),
        key in prop::sample::select(&["sv_nummer", "svnr", "rvnr", "versicherungsnummer"][..]),
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
    fn addresses_leave_no_parts(
        value in address(),
        t in template(),
        key in prop::sample::select(&["address", "anschrift", "adresse", "street"][..]),
        ctx in context(),
    ) {
        let s = Sanitizer::default();
        let input = line(t, key, &value, &ctx);
        let out = s.sanitize(&input);
        let rest = without_context(&out, &ctx)?;
        let leaked = digit_runs_of(&value, &rest);
        prop_assert!(leaked.is_empty(), "{input:?}\n -> {out:?}\n leaked {leaked:?}");
        let left = words_left(&value, &rest, &["der", "Bad"]);
        prop_assert!(left.is_empty(), "{input:?}\n -> {out:?}\n left {left:?}");
        prop_assert_eq!(s.sanitize(&out), out.clone(), "not idempotent");
    }

    #[test]
    fn spoken_phones_leave_no_words(
        value in prop_oneof![spoken_phone(), spoken_phone_english()],
        t in template(),
        key in prop::sample::select(&["phone", "telefon", "tel", "caller_phone"][..]),
        ctx in context(),
    ) {
        let s = Sanitizer::default();
        let input = line(t, key, &value, &ctx);
        let out = s.sanitize(&input);
        let rest = without_context(&out, &ctx)?;
        let leaked = digit_runs_of(&value, &rest);
        prop_assert!(leaked.is_empty(), "{input:?}\n -> {out:?}\n leaked {leaked:?}");
        // The key stays and may hold a number word (`one` in `phone`): it is
        // no part of the value.
        let rest = rest.replacen(key, "", 1);
        let left = words_left(&value, &rest, &[]);
        prop_assert!(left.is_empty(), "{input:?}\n -> {out:?}\n left {left:?}");
        prop_assert_eq!(s.sanitize(&out), out.clone(), "not idempotent");
    }

    #[test]
    fn spoken_emails_leave_no_words(
        value in spoken_email(),
        t in template(),
        key in prop::sample::select(&["email", "mail", "attendee_email"][..]),
        ctx in context(),
    ) {
        let s = Sanitizer::default();
        let input = line(t, key, &value, &ctx);
        let out = s.sanitize(&input);
        let rest = without_context(&out, &ctx)?;
        let left = words_left(&value, &rest, &["com", "net", "punkt", "Punkt"]);
        prop_assert!(left.is_empty(), "{input:?}\n -> {out:?}\n left {left:?}");
        prop_assert_eq!(s.sanitize(&out), out.clone(), "not idempotent");
    }
}
