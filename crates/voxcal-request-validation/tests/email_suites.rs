//! External e-mail suites: isemail `tests.xml`, python-email-validator
//! `test_syntax.py` and the JSON Schema Test Suite `email`/`idn-email` cases,
//! each against the crate's policy, with every deviation from the suite's own
//! verdict listed below with its reason.

mod common;

use std::collections::BTreeSet;

use voxcal_request_validation::normalize_email;

fn accepted(address: &str) -> bool {
    normalize_email(address).is_ok()
}

// ---------------------------------------------------------------- isemail ---

/// Non-`ERR`, non-`VALID` isemail cases the policy accepts, by id. Every other
/// such case must be rejected.
const ISEMAIL_ACCEPTED_BY_POLICY: &[(u32, &str)] = &[
    (12, "DNSWARN: syntax is fine, no DNS lookups"),
    (13, "DNSWARN: syntax is fine, no DNS lookups"),
    (27, "DNSWARN: syntax is fine, no DNS lookups"),
    (37, "DNSWARN: syntax is fine, no DNS lookups"),
    (38, "DNSWARN: syntax is fine, no DNS lookups"),
    (167, "DNSWARN: syntax is fine, no DNS lookups"),
    (168, "DNSWARN: syntax is fine, no DNS lookups"),
    (
        85,
        "spaces around the @ are speech-to-text gaps and are removed",
    ),
    (
        86,
        "spaces in the domain are speech-to-text gaps and are removed",
    ),
    (
        87,
        "spaces around a dot are speech-to-text gaps and are removed",
    ),
    (157, "leading space trimmed"),
    (158, "trailing space trimmed"),
];

/// `VALID` isemail cases the policy rejects.
const ISEMAIL_VALID_REJECTED: &[(u32, &str)] = &[(
    5,
    "test@io: the policy requires a dotted domain (python-email-validator makes the same call)",
)];

struct IsEmailCase {
    id: u32,
    address: String,
    category: String,
}

/// A small reader for the suite's flat XML: `<test id="N">` elements with
/// `<address>` and `<category>` children, XML entities decoded, and the
/// suite's control-picture convention (U+2400 + n stands for ASCII n < 32)
/// turned back into control characters.
fn isemail_cases(xml: &str) -> Vec<IsEmailCase> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<test id=\"") {
        let after = &rest[start + 10..];
        let id: u32 = after[..after.find('"').unwrap()].parse().unwrap();
        let end = after.find("</test>").unwrap();
        let body = &after[..end];
        let address = if body.contains("<address/>") {
            String::new()
        } else {
            let a = body.find("<address>").unwrap() + 9;
            let b = body.find("</address>").unwrap();
            xml_text(&body[a..b])
        };
        let c = body.find("<category>").unwrap() + 10;
        let d = body.find("</category>").unwrap();
        out.push(IsEmailCase {
            id,
            address,
            category: body[c..d].to_owned(),
        });
        rest = &after[end..];
    }
    out
}

fn xml_text(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let semi = rest[pos..].find(';').unwrap() + pos;
        let entity = &rest[pos + 1..semi];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ if entity.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&entity[2..], 16).unwrap()).unwrap()
            }
            _ if entity.starts_with('#') => char::from_u32(entity[1..].parse().unwrap()).unwrap(),
            other => panic!("unknown entity {other}"),
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    out.chars()
        .map(|c| match u32::from(c) {
            n @ 0x2400..=0x241F => char::from_u32(n - 0x2400).unwrap(),
            _ => c,
        })
        .collect()
}

#[test]
fn isemail_suite() {
    let Some(dir) = common::testdata("isemail_suite", "isemail") else {
        return;
    };
    let cases = isemail_cases(&common::read(&dir.join("tests.xml")));
    assert_eq!(cases.len(), 164, "tests.xml has 164 cases");
    let policy_ok: BTreeSet<u32> = ISEMAIL_ACCEPTED_BY_POLICY.iter().map(|c| c.0).collect();
    let valid_rejected: BTreeSet<u32> = ISEMAIL_VALID_REJECTED.iter().map(|c| c.0).collect();
    let (mut err, mut valid, mut other_ok, mut other_rejected) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for case in &cases {
        let got = accepted(&case.address);
        let expected = match case.category.as_str() {
            "ISEMAIL_ERR" => {
                err += 1;
                false
            }
            "ISEMAIL_VALID_CATEGORY" => {
                valid += 1;
                !valid_rejected.contains(&case.id)
            }
            _ => {
                let ok = policy_ok.contains(&case.id);
                if ok {
                    other_ok += 1;
                } else {
                    other_rejected += 1;
                }
                ok
            }
        };
        if got != expected {
            failures.push(format!(
                "#{} {} {:?}: accepted={got}",
                case.id, case.category, case.address
            ));
        }
    }
    for id in policy_ok.iter().chain(&valid_rejected) {
        assert!(
            cases.iter().any(|c| c.id == *id),
            "listed id {id} is not in the suite"
        );
    }
    println!(
        "isemail: {} cases: {err} ERR rejected, {} of {valid} VALID accepted ({} listed exception), \
         {} other: {other_ok} accepted and {other_rejected} rejected by policy",
        cases.len(),
        valid - valid_rejected.len(),
        valid_rejected.len(),
        other_ok + other_rejected
    );
    assert!(
        failures.is_empty(),
        "isemail mismatches:\n{}",
        failures.join("\n")
    );
}

// ------------------------------------------------- python-email-validator ---

/// `(test function, first argument, second argument)` of every
/// `@pytest.mark.parametrize` case in the file.
fn python_cases(src: &str) -> Vec<(String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(start) = rest.find("@pytest.mark.parametrize(") {
        let block_start = &rest[start + "@pytest.mark.parametrize(".len()..];
        let def = block_start.find("\ndef ").unwrap();
        let name_start = &block_start[def + 5..];
        let name = name_start[..name_start.find('(').unwrap()].to_owned();
        let block = &block_start[..def];
        // depth 0: parametrize arguments; 1: the list; 2: one case.
        let mut depth = 0usize;
        let mut fields: Vec<Option<String>> = Vec::new();
        let mut i = 0;
        let bytes = block.as_bytes();
        while i < bytes.len() {
            let c = bytes[i];
            match c {
                b'#' => {
                    i += block[i..].find('\n').unwrap_or(block.len() - i);
                    continue;
                }
                b'\'' | b'"' => {
                    let raw = i > 0 && (bytes[i - 1] == b'r' || bytes[i - 1] == b'R');
                    let from = if raw { i - 1 } else { i };
                    let (value, len) = common::string_literal(&block[from..]);
                    if depth == 2 {
                        fields.push(value);
                    }
                    i = from + len;
                    continue;
                }
                b'(' | b'[' => {
                    depth += 1;
                    if depth == 2 {
                        fields.clear();
                    }
                }
                b')' | b']' => {
                    if depth == 2 && !fields.is_empty() {
                        out.push((
                            name.clone(),
                            fields.first().cloned().flatten(),
                            fields.get(1).cloned().flatten(),
                        ));
                    }
                    depth = depth.saturating_sub(1);
                }
                _ => {}
            }
            i += 1;
        }
        rest = &block_start[def..];
    }
    out
}

/// Cases where the crate's policy and python-email-validator's default
/// verdict differ, with the reason.
const PYTHON_OVERRIDES: &[(&str, bool, &str)] = &[
    ("\"quoted local part\"@example.org", false, "no quoted local parts"),
    ("\"de-quoted.local.part\"@example.org", false, "no quoted local parts"),
    ("\"unnecessary.escaped.\\x.local.part\"@example.org", false, "no quoted local parts"),
    ("\"escaped.quote.\\\".local.part\"@example.org", false, "no quoted local parts"),
    ("MyName <me@example.org>", false, "no display names: the field holds an address"),
    ("My Name <me@example.org>", false, "no display names: the field holds an address"),
    ("\"My.\\\"Na\\\\me\\\".Is\" <\"me \\\" \\\\ me\"@example.org>", false, "no display names, no quoted local parts"),
    ("\"s\u{323}\u{307}\" <s\u{323}\u{307}@nfc.tld>", false, "no display names"),
    ("\u{ff20}@fullwidth.at", false, "NFKC comes first: the fullwidth @ becomes a second @"),
    ("me@\u{2488}wouldbeinvalid.com", true, "NFKC comes first: \u{2488} is `1.`, leaving me@1.wouldbeinvalid.com"),
    ("my.s\u{323}\u{307}.address@1111111111222222222233333333334444444444555555555.6666666666777777777788888888889999999999000000000.1111111111222222222233333333334444444444555555555.6666666666777777777788888888889999999999000000000.1111111111222222222233333333334444.info", true, "254 octets after NFKC (s with two marks composes to one character)"),
    (" test @iana.org", true, "spaces are speech-to-text gaps and are removed"),
    ("test@ iana .com", true, "spaces are speech-to-text gaps and are removed"),
    ("test . test@iana.org", true, "spaces are speech-to-text gaps and are removed"),
];

#[test]
fn python_email_validator_suite() {
    let Some(dir) = common::testdata("python_email_validator_suite", "python-email-validator")
    else {
        return;
    };
    let cases = python_cases(&common::read(&dir.join("test_syntax.py")));
    let mut counts = std::collections::BTreeMap::<String, (usize, usize)>::new();
    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    let mut skipped_surrogates = 0;
    for (function, first, second) in &cases {
        let Some(input) = first else {
            skipped_surrogates += 1;
            continue;
        };
        let probes: Vec<(String, bool)> = match function.as_str() {
            "test_email_valid" | "test_email_valid_intl_local_part" => vec![(input.clone(), true)],
            "test_email_valid_only_if_quoted_local_part"
            | "test_email_invalid_syntax"
            | "test_email_invalid_syntax_strict"
            | "test_email_invalid_reserved_domain" => vec![(input.clone(), false)],
            // The unsafe character on both sides of an otherwise valid address.
            "test_email_unsafe_character" => vec![
                (format!("{input}@example.com"), false),
                (format!("test@{input}example.com"), false),
                (format!("{input}@test"), false),
            ],
            "test_pyisemail_tests" => {
                let status = second.as_deref().unwrap_or("");
                let ok = status == "ISEMAIL_VALID"
                    || status == "ISEMAIL_CFWS_FWS" && !input.contains('\r');
                vec![(input.clone(), ok)]
            }
            // allow_smtputf8=False is an option the policy does not have: it
            // accepts internationalized local parts.
            "test_email_invalid_character_smtputf8_off" => continue,
            other => panic!("unexpected parametrized test {other}"),
        };
        for (address, suite_expected) in probes {
            let got = accepted(&address);
            let expected = match PYTHON_OVERRIDES.iter().find(|o| o.0 == address) {
                Some(o) => {
                    used.insert(o.0);
                    o.1
                }
                None => suite_expected,
            };
            let entry = counts.entry(function.clone()).or_default();
            if got {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
            if got != expected {
                failures.push(format!("{function}: {address:?} accepted={got}"));
            }
        }
    }
    for o in PYTHON_OVERRIDES {
        assert!(used.contains(o.0), "override {:?} matches no case", o.0);
    }
    for (function, (ok, rejected)) in &counts {
        println!("python-email-validator {function}: {ok} accepted, {rejected} rejected");
    }
    println!(
        "python-email-validator: {} cases, {} policy overrides, {skipped_surrogates} skipped (lone surrogates)",
        cases.len(),
        PYTHON_OVERRIDES.len()
    );
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}

// ------------------------------------------------------ json-schema-email ---

const JSON_SCHEMA_OVERRIDES: &[(&str, bool, &str)] = &[
    ("\"joe bloggs\"@example.com", false, "no quoted local parts"),
    (
        "\"joe..bloggs\"@example.com",
        false,
        "no quoted local parts",
    ),
    ("\"joe@bloggs\"@example.com", false, "no quoted local parts"),
    (
        "\"\u{3b4}\u{3bf}\u{3ba}\u{3b9}\u{3bc}\u{3ae}\"@example.com",
        false,
        "no quoted local parts",
    ),
    ("joe.bloggs@[127.0.0.1]", false, "no domain literals"),
    ("joe.bloggs@[IPv6:::1]", false, "no domain literals"),
    (
        "joe bloggs@example.com",
        true,
        "spaces are speech-to-text gaps and are removed",
    ),
    (
        "user\u{ff20}example.com",
        true,
        "NFKC comes first: the fullwidth @ is an @",
    ),
    (
        "\u{85}@example.com",
        false,
        "control characters are refused",
    ),
    (
        "\u{ffff}@example.com",
        false,
        "noncharacters are not letters",
    ),
];

#[test]
fn json_schema_email_suite() {
    let Some(dir) = common::testdata("json_schema_email_suite", "json-schema-email") else {
        return;
    };
    let mut used = BTreeSet::new();
    let mut failures = Vec::new();
    let (mut total, mut ok, mut rejected, mut non_strings) = (0, 0, 0, 0);
    for file in ["email.json", "idn-email.json"] {
        let groups: serde_json::Value =
            serde_json::from_str(&common::read(&dir.join(file))).unwrap();
        for group in groups.as_array().unwrap() {
            for test in group["tests"].as_array().unwrap() {
                let Some(address) = test["data"].as_str() else {
                    non_strings += 1;
                    continue;
                };
                total += 1;
                let suite = test["valid"].as_bool().unwrap();
                let expected = match JSON_SCHEMA_OVERRIDES.iter().find(|o| o.0 == address) {
                    Some(o) => {
                        used.insert(o.0);
                        o.1
                    }
                    None => suite,
                };
                let got = accepted(address);
                if got {
                    ok += 1;
                } else {
                    rejected += 1;
                }
                if got != expected {
                    failures.push(format!(
                        "{file}: {address:?} accepted={got} ({})",
                        test["description"]
                    ));
                }
            }
        }
    }
    for o in JSON_SCHEMA_OVERRIDES {
        assert!(used.contains(o.0), "override {:?} matches no case", o.0);
    }
    println!(
        "json-schema-email: {total} string cases ({ok} accepted, {rejected} rejected), \
         {} policy overrides, {non_strings} non-string cases skipped (formats ignore them)",
        JSON_SCHEMA_OVERRIDES.len()
    );
    assert!(failures.is_empty(), "mismatches:\n{}", failures.join("\n"));
}
