//! Positive and negative tables per kind. Every negative named in the issue
//! is a row here.

use voxcal_log_sanitizer::{Kind, Sanitizer};

fn check(rows: &[(&str, &str)]) {
    let s = Sanitizer::default();
    let mut failures = Vec::new();
    for (input, want) in rows {
        let got = s.sanitize(input);
        if got != *want {
            failures.push(format!("\n  in:   {input}\n  want: {want}\n  got:  {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:{}",
        failures.len(),
        failures.concat()
    );
}

/// Inputs that must come back unchanged (and borrowed).
fn unchanged(rows: &[&str]) {
    let s = Sanitizer::default();
    let mut failures = Vec::new();
    for input in rows {
        let got = s.sanitize(input);
        if !matches!(got, std::borrow::Cow::Borrowed(_)) || got != *input {
            failures.push(format!("\n  in:  {input}\n  got: {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} changed:{}",
        failures.len(),
        failures.concat()
    );
}

#[test]
fn email_positives() {
    check(&[
        ("contact max@gmx.de now", "contact [EMAIL_REDACTED] now"),
        ("MAX.MUSTERMANN@WEB.DE", "[EMAIL_REDACTED]"),
        ("from max+termin@gmail.com;", "from [EMAIL_REDACTED];"),
        (
            "info@bäckerei-schmidt.de bestellt",
            "[EMAIL_REDACTED] bestellt",
        ),
        (
            "mail an jürgen.müller@example.org.",
            "mail an [EMAIL_REDACTED].",
        ),
        (
            "GET /book?attendeeEmail=max%40gmx.de&slot=2025-10-01",
            "GET /book?attendeeEmail=[EMAIL_REDACTED]&slot=2025-10-01",
        ),
        ("q=max.m%2Btag%40gmx.de", "q=[EMAIL_REDACTED]"),
        (
            "<anna_schmidt-1@sub.mail.example.co.uk>",
            "<[EMAIL_REDACTED]>",
        ),
        (r#"{"to":"a.b@c.de"}"#, r#"{"to":"[EMAIL_REDACTED]"}"#),
        ("user@xn--bcher-kva.example", "[EMAIL_REDACTED]"),
    ]);
}

#[test]
fn email_negatives() {
    unchanged(&[
        "postgres@localhost refused",
        "@channel deploy done",
        "version 1.2@beta",
        "price 5 @ 3 EUR",
        "git@github:org/repo",
        "a@b.c",
    ]);
}

#[test]
fn phone_positives() {
    check(&[
        (
            "Anrufer +49 30 1234567 wartet",
            "Anrufer [PHONE_REDACTED] wartet",
        ),
        ("Tel. +49 (0)30 1234 5678.", "Tel. [PHONE_REDACTED]."),
        ("0049 171 1234567", "[PHONE_REDACTED]"),
        ("Festnetz 030/1234567", "Festnetz [PHONE_REDACTED]"),
        ("mobil 0171-1234567, danke", "mobil [PHONE_REDACTED], danke"),
        ("(030) 12345678", "[PHONE_REDACTED]"),
        (
            "Rückruf 0 30 12 34 56 78 bitte",
            "Rückruf [PHONE_REDACTED] bitte",
        ),
        ("from=+4917612345678", "from=[PHONE_REDACTED]"),
        ("<tel:+4930123456>", "<tel:[PHONE_REDACTED]>"),
        ("Wien +43 1 2345678", "Wien [PHONE_REDACTED]"),
        ("Zürich +41 44 668 18 00", "Zürich [PHONE_REDACTED]"),
        ("US +1 415 555 2671", "US [PHONE_REDACTED]"),
        ("0171 1234567 2 Personen", "[PHONE_REDACTED] 2 Personen"),
        ("Nummer 01711234567.", "Nummer [PHONE_REDACTED]."),
        (
            "Tel 0171 1234567 2025-10-01",
            "Tel [PHONE_REDACTED] 2025-10-01",
        ),
        ("030 / 1234567", "[PHONE_REDACTED]"),
    ]);
}

#[test]
fn phone_negatives_from_the_issue() {
    unchanged(&[
        "2025-10-01 11:03:23 INFO start",
        "ts=1727773403 done",
        "took 577ms",
        "redis 7.0.15 ready",
        "eventTypeId=2026713",
        "Preis 49,99 EUR",
        "Termin am 01.10.2025 um 14:00",
        "2025-10-01T11:03:23.123+02:00",
        "01/10/2025 10:00",
        "duration_ms=1500 retries=3",
        "port 6379 pid 12345",
        "id 0x1F3A",
        "ratio 0.75",
        "uuid 0f8fad5b-d9cb-469f-a165-70867728950e",
        "range 09:00-17:00",
        "call_id=call_2b1f0c3e9a",
    ]);
}

#[test]
fn iban_and_card_positives() {
    check(&[
        (
            "IBAN DE89 3704 0044 0532 0130 00 ok",
            "IBAN [IBAN_REDACTED] ok",
        ),
        ("iban: DE89370400440532013000", "iban: [IBAN_REDACTED]"),
        ("GB82WEST12345698765432", "[IBAN_REDACTED]"),
        ("AT611904300234573201", "[IBAN_REDACTED]"),
        (
            "Karte 4111 1111 1111 1111 belastet",
            "Karte [CARD_REDACTED] belastet",
        ),
        ("card=5500-0000-0000-0004", "card=[CARD_REDACTED]"),
        ("amex 378282246310005", "amex [CARD_REDACTED]"),
        ("4111111111111111", "[CARD_REDACTED]"),
    ]);
}

#[test]
fn iban_and_card_negatives() {
    unchanged(&[
        "DE89 3704 0044 0532 0130 01",
        "DE00123456789",
        "4111 1111 1111 1112",
        "order 1234567890123456",
        "ts_ms=1727773403123",
        "XY12345678901234567890",
    ]);
}

#[test]
fn secret_positives() {
    check(&[
        ("Authorization: Bearer abc.def-ghi_123", "Authorization: Bearer [REDACTED]"),
        ("authorization=Basic dXNlcjpwYXNz", "authorization=Basic [REDACTED]"),
        ("auth=s3cr3t-value", "auth=[REDACTED]"),
        ("auth header Bearer sk-abcdef123456 sent", "auth header Bearer [REDACTED] sent"),
        ("Basic dXNlcjpwYXNzd29yZA==", "Basic [REDACTED]"),
        (
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "token [REDACTED]",
        ),
        ("key cal_live_a1b2c3d4e5f6a7b8 used", "key [REDACTED] used"),
        ("sk_live_51Habcdefghijklmn", "[REDACTED]"),
        ("rk_live_51Habcdefghijklmn", "[REDACTED]"),
        ("aws AKIAIOSFODNN7EXAMPLE", "aws [REDACTED]"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[REDACTED]"),
        ("github_pat_11ABCDEFG0123456789_abcdefghij", "[REDACTED]"),
        ("slack xoxb-123456789012-abcdefghij", "slack [REDACTED]"),
        ("AIzaSyA-1234567890abcdefghijklmnopqrs", "[REDACTED]"),
        ("retell key_0a1b2c3d4e5f60718293a4b5", "retell [REDACTED]"),
        (
            "pem -----BEGIN RSA PRIVATE KEY-----\\nMIIEow\\n-----END RSA PRIVATE KEY----- done",
            "pem [REDACTED] done",
        ),
        ("password=hunter2 user=x", "password=[REDACTED] user=x"),
        ("passwd: s3cr3t", "passwd: [REDACTED]"),
        ("client_secret=abc&x=1", "client_secret=[REDACTED]&x=1"),
        ("?access_token=abc123&refresh_token=def456", "?access_token=[REDACTED]&refresh_token=[REDACTED]"),
        ("apiKey=abc123 x-api-key: zzz", "apiKey=[REDACTED] x-api-key: [REDACTED]"),
        (r#"{"token":"abc","cvv":123}"#, r#"{"token":"[REDACTED]","cvv":"[REDACTED]"}"#),
        ("secret='p a ss'", "secret='[REDACTED]'"),
        (
            "db postgres://booking:s3cret@db.internal:5432/booking",
            "db postgres://booking:[REDACTED]@db.internal:5432/booking",
        ),
    ]);
}

#[test]
fn secret_negatives() {
    unchanged(&[
        "author=Goethe",
        "auth: login failed for tenant=praxis-7",
        "authority=calcom",
        "token_count=42",
        "Bearer token expired",
        "Basic auth failed",
        "key_name=default",
        "sk_live_",
        "trace=4bf92f3577b34da6a3ce929d0e0e4736",
        "-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----",
        "function_name=book_appointment",
        "password=[REDACTED]",
    ]);
}

#[test]
fn name_positives() {
    check(&[
        (
            "Rückruf für Herr Max Müller bitte",
            "Rückruf für Herr [NAME_REDACTED] bitte",
        ),
        (
            "Frau Dr. Anna-Lena Schmidt hat gebucht",
            "Frau Dr. [NAME_REDACTED] hat gebucht",
        ),
        (
            "Termin mit Dr. Klaus von Bergen am Montag",
            "Termin mit Dr. [NAME_REDACTED] am Montag",
        ),
        (
            "Kunde: Jürgen Weiß, Termin 14:00",
            "Kunde: [NAME_REDACTED], Termin 14:00",
        ),
        ("Name: Max Mustermann", "Name: [NAME_REDACTED]"),
        (
            "customer_name=Max first_name=Erika",
            "customer_name=[NAME_REDACTED] first_name=[NAME_REDACTED]",
        ),
        (
            r#"{"vorname":"Max","nachname":"Müller"}"#,
            r#"{"vorname":"[NAME_REDACTED]","nachname":"[NAME_REDACTED]"}"#,
        ),
        ("name=\"Max Müller\"", "name=\"[NAME_REDACTED]\""),
        (
            "Anrufer: mein Name ist Max Müller.",
            "Anrufer: mein Name ist [NAME_REDACTED].",
        ),
        (
            "caller: my name is Anna Schmidt and",
            "caller: my name is [NAME_REDACTED] and",
        ),
        ("ich heiße Jürgen Weiß", "ich heiße [NAME_REDACTED]"),
        (
            "address: Hauptstr. 5, 10115 Berlin; ok",
            "address: [REDACTED]; ok",
        ),
        ("plz=10115 stadt=Berlin", "plz=[REDACTED] stadt=Berlin"),
        (
            r#"{"address":{"street":"Hauptstr. 5","city":"Berlin"},"n":1}"#,
            r#"{"address":"[REDACTED]","n":1}"#,
        ),
    ]);
}

#[test]
fn name_negatives() {
    unchanged(&[
        "function_name=check_availability",
        r#"{"name":"book_appointment","args":{}}"#,
        "tool_name=collect_appointment",
        "Herr des Verfahrens",
        "Frau ist",
        "Dr Who",
        "der Name ist nicht bekannt",
        "event_name=Beratung",
    ]);
}

#[test]
fn dob_and_ip() {
    check(&[
        ("geb. 12.03.1980 in Köln", "geb. [DOB_REDACTED] in Köln"),
        ("Geburtsdatum: 1980-03-12", "Geburtsdatum: [DOB_REDACTED]"),
        ("dob=12/03/1980", "dob=[DOB_REDACTED]"),
        ("birthdate 1.3.80", "birthdate [DOB_REDACTED]"),
        ("date_of_birth=1980-03-12", "date_of_birth=[DOB_REDACTED]"),
        (
            "client 203.0.113.42 connected",
            "client [IP_REDACTED] connected",
        ),
        (
            "from [2001:db8::8a2e:370:7334]:443",
            "from [[IP_REDACTED]]:443",
        ),
        ("peer fe80::1ff:fe23:4567:890a ok", "peer [IP_REDACTED] ok"),
        (
            "xff=198.51.100.7,10.0.0.2",
            "xff=[IP_REDACTED],[IP_REDACTED]",
        ),
    ]);
    unchanged(&[
        "Termin am 12.03.2026 um 10:00",
        "slot 2025-10-01 bestätigt",
        "listen 127.0.0.1:8080 and [::1]:8080",
        "bind 0.0.0.0:3000",
        "version 1.2.3.4.5",
        "at 11:03:23.456",
        "mac aa:bb:cc:dd:ee:ff",
        "use tokio::runtime::Builder",
    ]);
}

#[test]
fn kinds_can_be_switched_off() {
    let line = "max@gmx.de +49 30 1234567 DE89370400440532013000 4111111111111111 \
                password=x Herr Max Müller geb. 12.03.1980 203.0.113.42";
    let all = Sanitizer::default().sanitize(line).into_owned();
    for kind in Kind::ALL {
        let s = Sanitizer::builder().disable(kind).build();
        let out = s.sanitize(line);
        assert_ne!(out, all, "{kind} off should leave its value");
        assert!(
            !out.contains(kind.marker()) || kind == Kind::Secret,
            "{kind}: {out}"
        );
    }
}
