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
        // The `@` and dots written out in brackets.
        ("Mail max(at)gmx.de bitte", "Mail [EMAIL_REDACTED] bitte"),
        (
            "schreib an max (at) gmx (dot) de bitte",
            "schreib an [EMAIL_REDACTED] bitte",
        ),
        ("E-Mail: max [at] gmx [dot] de", "E-Mail: [EMAIL_REDACTED]"),
        ("E-Mail: max(at)gmx.de", "E-Mail: [EMAIL_REDACTED]"),
        (
            "mail=anna.weber{at}praxis-weber[punkt]de;",
            "mail=[EMAIL_REDACTED];",
        ),
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
        "f(at)x",
        "list [at] 5 items",
        "see [AT] docs",
        "(at) the office",
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
        ("Telefon: 030 - 123 45 67", "Telefon: [PHONE_REDACTED]"),
        ("tel=030 / 123 45 67 x=1", "tel=[PHONE_REDACTED] x=1"),
        // Decided by the phonenumber metadata (issue #19).
        (
            "Rückruf (415) 555-0132 bitte",
            "Rückruf [PHONE_REDACTED] bitte",
        ),
        ("caller 415-555-0132", "caller [PHONE_REDACTED]"),
        ("caller 415.555.0132.", "caller [PHONE_REDACTED]."),
        ("caller 1-415-555-0132", "caller [PHONE_REDACTED]"),
        ("caller 1 (415) 555-0132", "caller [PHONE_REDACTED]"),
        ("mobil 0171.234.5678", "mobil [PHONE_REDACTED]"),
        ("mobil +49/171/2345678", "mobil [PHONE_REDACTED]"),
        ("mobil +49.171.234.5678", "mobil [PHONE_REDACTED]"),
        ("Tel +49 89 12 34 56 7", "Tel [PHONE_REDACTED]"),
        ("Tel 0 30 12 34 56 7 bitte", "Tel [PHONE_REDACTED] bitte"),
    ]);
}

#[test]
fn phone_shapes_the_metadata_refuses() {
    unchanged(&[
        "Termin am 05.10.2025 um 14:00",
        "count 123-456-7890 rows",
        "ids 100-200-3000",
        "range 415-555 ok",
        "took 123 456 ms",
        "stats 200.300.4000 bytes",
        "lat 123.456.7890",
        "version 0.9.143",
        "order 1 415 555 items",
        "ratio 415-555-0132.5",
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
        (
            "Konto DE89-3704-0044-0532-0130-00 ok",
            "Konto [IBAN_REDACTED] ok",
        ),
        (
            "iban=de89 3704 0044 0532 0130 00 ok",
            "iban=[IBAN_REDACTED] ok",
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
        // Surname first, an apostrophe in the first word, a patient label.
        (
            "Kunde: Schmidt, Anna hat gebucht",
            "Kunde: [NAME_REDACTED] hat gebucht",
        ),
        ("Kunde: O'Connor, Sean", "Kunde: [NAME_REDACTED]"),
        ("Patient: Sean O'Connor", "Patient: [NAME_REDACTED]"),
        ("Patientin: Maria Schmidt", "Patientin: [NAME_REDACTED]"),
        ("name=Weiß, Jürgen&x=1", "name=[NAME_REDACTED]&x=1"),
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
        // What callers say in transcripts.
        (
            "User: Ja hallo, hier spricht Thomas Müller.",
            "User: Ja hallo, hier spricht [NAME_REDACTED].",
        ),
        (
            "User: Hier ist Anna Schmidt, ich wollte einen Termin.",
            "User: Hier ist [NAME_REDACTED], ich wollte einen Termin.",
        ),
        (
            "User: Schneider mein Name, ich hätte gern einen Termin",
            "User: [NAME_REDACTED] mein Name, ich hätte gern einen Termin",
        ),
        (
            "User: Weber ist mein Name",
            "User: [NAME_REDACTED] ist mein Name",
        ),
        (
            "User: mein Name ist Thomas, Thomas Müller",
            "User: mein Name ist [NAME_REDACTED]",
        ),
        (
            "User: Das ist für meine Tochter, Lena Weber.",
            "User: Das ist für meine Tochter, [NAME_REDACTED].",
        ),
        ("User: Ja, Weber, W-E-B-E-R.", "User: Ja, [NAME_REDACTED]."),
        (
            "Mein Nachname ist Schmidt",
            "Mein Nachname ist [NAME_REDACTED]",
        ),
        (
            "mein Vorname lautet Anna",
            "mein Vorname lautet [NAME_REDACTED]",
        ),
        (
            "mein Sohn Paul hat Fieber",
            "mein Sohn [NAME_REDACTED] hat Fieber",
        ),
        ("es spricht Dr. Weber", "es spricht Dr. [NAME_REDACTED]"),
        (
            "address: Hauptstr. 5, 10115 Berlin; ok",
            "address: [ADDRESS_REDACTED]; ok",
        ),
        (
            "plz=10115 stadt=Berlin",
            "plz=[ADDRESS_REDACTED] stadt=[ADDRESS_REDACTED]",
        ),
        (
            r#"{"address":{"street":"Hauptstr. 5","city":"Berlin"},"n":1}"#,
            r#"{"address":"[ADDRESS_REDACTED]","n":1}"#,
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
        "patient_id=12345 ok",
        "Patient: hat angerufen",
        "meine Tochter hat Fieber",
        "hier ist der Termin",
        "Hier ist Montag gut",
        "spricht nichts dagegen",
        "T-Shirt A-Z",
        "the span was hit",
        "mein Name ist nicht bekannt",
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
                password=x Herr Max Müller geb. 12.03.1980 203.0.113.42 86095174282 \
                65170839J003 Hauptstraße 12";
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

#[test]
fn written_birth_dates_next_to_a_birth_date_word() {
    let s = Sanitizer::default();
    for (input, want) in [
        ("Geburtsdatum 12. Mai 1980", "Geburtsdatum [DOB_REDACTED]"),
        (
            "geboren am 3. März 1975 in Köln",
            "geboren am [DOB_REDACTED] in Köln",
        ),
        ("geb. 1. Jan. 1990 ok", "geb. [DOB_REDACTED] ok"),
        ("born on 12 May 1980", "born on [DOB_REDACTED]"),
        ("DOB: April 3, 1985", "DOB: [DOB_REDACTED]"),
        (
            "geboren bin ich am 3.4.1985",
            "geboren bin ich am [DOB_REDACTED]",
        ),
        ("birthday: May 12 1980 ok", "birthday: [DOB_REDACTED] ok"),
        (
            "Geburtsdatum: 12. Mai 1980 ok",
            "Geburtsdatum: [DOB_REDACTED] ok",
        ),
        // The date before the birth word, and a label after a caller's
        // label (it read as a surname before).
        (
            "Anrufer: ich bin am 12. Mai 1980 geboren",
            "Anrufer: ich bin am [DOB_REDACTED] geboren",
        ),
        ("12.05.1980 geboren, ok", "[DOB_REDACTED] geboren, ok"),
        (
            "Anrufer: Geburtsdatum 12. Mai 1980",
            "Anrufer: Geburtsdatum [DOB_REDACTED]",
        ),
        // Keep: a booking date is not a birth date, and a word that only
        // looks like a month is not one.
        ("am 7. Juli 2026 um 9:30", "am 7. Juli 2026 um 9:30"),
        ("am 7. Juli 2026 gebucht", "am 7. Juli 2026 gebucht"),
        ("Kunde: Termin am 7. Juli", "Kunde: Termin am 7. Juli"),
        ("geboren in 12 Maierhof 1980", "geboren in 12 Maierhof 1980"),
    ] {
        assert_eq!(s.sanitize(input), want, "input {input:?}");
    }
    let off = Sanitizer::builder().disable(Kind::Dob).build();
    assert_eq!(
        off.sanitize("Geburtsdatum 12. Mai 1980"),
        "Geburtsdatum 12. Mai 1980"
    );
}

#[test]
fn bare_names_after_a_customer_word() {
    check(&[
        (
            "Kunde Max Mustermann hat gebucht",
            "Kunde [NAME_REDACTED] hat gebucht",
        ),
        ("Anrufer Anna Weber", "Anrufer [NAME_REDACTED]"),
        (
            "Patientin Maria Schmidt, Termin 14:00",
            "Patientin [NAME_REDACTED], Termin 14:00",
        ),
        (
            "Kundin Özlem Yılmaz ruft an",
            "Kundin [NAME_REDACTED] ruft an",
        ),
        ("Patient Jürgen von Bülow", "Patient [NAME_REDACTED]"),
    ]);
    unchanged(&[
        "Kunde hat angerufen",
        "Kunde Nummer 5",
        "Kunde Termin verschoben",
        "Kunde INFO ok",
        "Anrufer wartet",
        "Kunden Max",
    ]);
}

#[test]
fn bare_names_answering_the_agent() {
    check(&[
        (
            "Agent: Wie ist Ihr Name?\nUser: Peter Klein.",
            "Agent: Wie ist Ihr Name?\nUser: [NAME_REDACTED].",
        ),
        (
            "Agent: Wie ist Ihr Name?\nUser: Peter Klein.\nAgent: Danke.",
            "Agent: Wie ist Ihr Name?\nUser: [NAME_REDACTED].\nAgent: Danke.",
        ),
        (
            "Agent: Darf ich Ihren Nachnamen haben?\nUser: Schmidt",
            "Agent: Darf ich Ihren Nachnamen haben?\nUser: [NAME_REDACTED]",
        ),
        (
            "Agent: Gerne. Wie heißen Sie bitte?\nUser: Ja, das ist Anna von Bülow.",
            "Agent: Gerne. Wie heißen Sie bitte?\nUser: Ja, das ist [NAME_REDACTED].",
        ),
        (
            "Agent: Bitte nennen Sie mir Ihren Namen.\nUser: Klein, Peter.",
            "Agent: Bitte nennen Sie mir Ihren Namen.\nUser: [NAME_REDACTED].",
        ),
        (
            "Agent: May I have your name, please?\nUser: Sean O'Connor",
            "Agent: May I have your name, please?\nUser: [NAME_REDACTED]",
        ),
        (
            "Agent: Wie ist Ihr Name? User: Genau, Özlem Yılmaz.",
            "Agent: Wie ist Ihr Name? User: Genau, [NAME_REDACTED].",
        ),
        // Retell's transcript inside a JSON body, line breaks escaped.
        (
            r#"{"transcript":"Agent: Wie ist Ihr Name?\nUser: Anna Weber\nAgent: Danke"}"#,
            r#"{"transcript":"Agent: Wie ist Ihr Name?\nUser: [NAME_REDACTED]\nAgent: Danke"}"#,
        ),
        // A name and the word `hier`, whatever came before.
        (
            "User: Müller hier, ich wollte den Termin verschieben.",
            "User: [NAME_REDACTED] hier, ich wollte den Termin verschieben.",
        ),
        (
            "Agent: Praxis Dr. Weber, guten Tag.\nUser: Ja, Thomas Schmidt hier.",
            "Agent: Praxis Dr. [NAME_REDACTED], guten Tag.\nUser: Ja, [NAME_REDACTED] hier.",
        ),
    ]);
    unchanged(&[
        // No question for a name before the answer.
        "Agent: Wann möchten Sie kommen?\nUser: Zahnreinigung bitte.",
        "User: Zahnreinigung bitte.",
        // The question was asked and answered before: this turn is another.
        "Agent: Wie ist Ihr Name?\nUser: Moment.\nAgent: Und wann?\nUser: Freitag Vormittag.",
        r#"{"transcript":"Agent: Wie ist Ihr Name?\nUser: Moment.\nAgent: Was darf es sein?\nUser: Zahnreinigung bitte."}"#,
        // Answers that are no name.
        "Agent: Wie ist Ihr Name?\nUser: Moment, ich schaue.",
        "Agent: Wie ist Ihr Name?\nUser: Wie bitte?",
        "Agent: Wie ist Ihr Name?\nUser: ja klar",
        "Agent: Wie ist Ihr Name?\nUser: Termin bitte.",
        "User: Termin hier?",
        "user_id: 42 hier",
    ]);
    check(&[
        // The agent's own name is no question for the caller's.
        (
            "Agent: Mein Name ist Lisa, wie kann ich helfen?\nUser: Zahnreinigung bitte.",
            "Agent: Mein Name ist [NAME_REDACTED], wie kann ich helfen?\nUser: Zahnreinigung bitte.",
        ),
        // The answer's phrase is read by the phrase rules, as before.
        (
        "Agent: Wie ist Ihr Name?\nUser: Ich heiße Peter Klein.",
        "Agent: Wie ist Ihr Name?\nUser: Ich heiße [NAME_REDACTED].",
        ),
    ]);
}

/// Retell's `transcript_object`: utterances with a role, the text and its
/// words one by one.
#[test]
fn bare_names_in_a_transcript_object() {
    let s = Sanitizer::default();
    let body = |question: &str, answer: &str| {
        let words = |text: &str| {
            text.split(' ')
                .enumerate()
                .map(|(k, w)| serde_json::json!({"word": w, "start": k, "end": k + 1}))
                .collect::<Vec<_>>()
        };
        serde_json::json!({"call": {"transcript_object": [
            {"role": "agent", "content": question, "words": words(question)},
            {"role": "user", "content": answer, "words": words(answer)},
            {"role": "agent", "content": "Danke.", "words": words("Danke.")},
        ]}})
    };
    let cases = [
        ("Wie ist Ihr Name?", "Peter Klein.", "[NAME_REDACTED]."),
        (
            "Gerne. Und Ihr Nachname, bitte?",
            "Ja, von Bülow.",
            "Ja, [NAME_REDACTED].",
        ),
        ("Wie heißen Sie?", "Klein, Peter", "[NAME_REDACTED]"),
    ];
    for (question, answer, want) in cases {
        for pretty in [false, true] {
            let input = body(question, answer);
            let text = if pretty {
                serde_json::to_string_pretty(&input).unwrap()
            } else {
                input.to_string()
            };
            let out = s.sanitize(&text);
            let parsed: serde_json::Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
            let said = &parsed["call"]["transcript_object"][1];
            assert_eq!(said["content"], want, "{out}");
            // No word of the name is left in the words array.
            for w in said["words"].as_array().unwrap() {
                let w = w["word"].as_str().unwrap();
                assert!(
                    !["Peter", "Klein", "Klein,", "Klein.", "Bülow."].contains(&w),
                    "word {w:?} left: {out}"
                );
            }
            // The agent's words and the rest of the body stay.
            assert_eq!(parsed["call"]["transcript_object"][0]["content"], question);
            assert_eq!(s.sanitize(&out), out, "not idempotent");
        }
    }
    // No question for the name, or an answer that is none: unchanged.
    for (question, answer) in [
        ("Wann möchten Sie kommen?", "Zahnreinigung bitte."),
        ("Wie ist Ihr Name?", "Moment bitte."),
    ] {
        let text = body(question, answer).to_string();
        assert_eq!(s.sanitize(&text), text);
    }
    // The agent's own name asks for nothing; it goes, in its words too.
    let text = body("Mein Name ist Lisa, wie kann ich helfen?", "Termin bitte.").to_string();
    let out = s.sanitize(&text);
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let utterances = &parsed["call"]["transcript_object"];
    assert_eq!(
        utterances[0]["content"],
        "Mein Name ist [NAME_REDACTED], wie kann ich helfen?"
    );
    assert_eq!(
        utterances[0]["words"][3]["word"], "[NAME_REDACTED],",
        "{out}"
    );
    assert_eq!(utterances[1]["content"], "Termin bitte.");
}

/// The `words` array repeats an utterance word by word: whatever was
/// redacted in the utterance goes there too.
#[test]
fn a_transcript_objects_words_follow_its_redactions() {
    let s = Sanitizer::default();
    let words = |text: &str| {
        text.split(' ')
            .map(|w| serde_json::json!({"word": w}))
            .collect::<Vec<_>>()
    };
    let said = [
        ("Mein Name ist Peter Klein.", "Peter"),
        ("Mein Name ist Peter Klein.", "Klein."),
        ("null eins sechs null, vier fünf sechs sieben acht", "sechs"),
        ("null eins sechs null, vier fünf sechs sieben acht", "null,"),
        ("anna punkt weber ät web punkt de", "weber"),
    ];
    for (content, word) in said {
        let text = serde_json::json!({"transcript_object": [
            {"role": "user", "content": content, "words": words(content)}
        ]})
        .to_string();
        let out = s.sanitize(&text);
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        let left: Vec<&str> = parsed["transcript_object"][0]["words"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|w| w["word"].as_str())
            .collect();
        assert!(!left.contains(&word), "{word:?} left: {out}");
        assert_eq!(s.sanitize(&out), out, "not idempotent");
    }
    // Words of utterances with nothing redacted stay.
    let text = serde_json::json!({"transcript_object": [
        {"role": "user", "content": "Peter kommt morgen", "words": words("Peter kommt morgen")}
    ]})
    .to_string();
    assert_eq!(s.sanitize(&text), text);
}

#[test]
fn what_a_caller_says_after_a_transcript_label() {
    check(&[
        ("Anrufer: Ja, Peter Klein.", "Anrufer: Ja, [NAME_REDACTED]."),
        (
            "Anrufer: Ich heiße Peter Klein.",
            "Anrufer: Ich heiße [NAME_REDACTED].",
        ),
        (
            "Anrufer: Mein Name ist Max Müller.",
            "Anrufer: Mein Name ist [NAME_REDACTED].",
        ),
        (
            "Anrufer: Guten Tag, hier spricht Anna Weber",
            "Anrufer: Guten Tag, hier spricht [NAME_REDACTED]",
        ),
        // `Klar` is a surname too: no filler after a label.
        ("Kunde: Klar, Anna", "Kunde: [NAME_REDACTED]"),
    ]);
    unchanged(&[
        "Kunde: Hallo, ich möchte einen Termin",
        "Anrufer: Wie bitte?",
        "Anrufer: Moment",
        "Patientin: Entschuldigung, ich bin spät dran",
    ]);
}

#[test]
fn keys_right_after_a_json_escape() {
    check(&[
        (
            r#"{"t":"x\nKunde: Max Müller"}"#,
            r#"{"t":"x\nKunde: [NAME_REDACTED]"}"#,
        ),
        (
            r#"{"t":"ok\tpassword=hunter22"}"#,
            r#"{"t":"ok\tpassword=[REDACTED]"}"#,
        ),
        (
            r#"{"t":"a\r\nemail: max@web.de"}"#,
            r#"{"t":"a\r\nemail: [EMAIL_REDACTED]"}"#,
        ),
    ]);
    // `\\n`: an escaped backslash, then the key `nname`, no name key.
    unchanged(&[r#"{"t":"C:\\nname=x"}"#]);
}

/// ISO 7064 MOD 11,10 over the first ten digits.
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

/// Tax ids built from ten digits with one digit twice: the check digit
/// computed here, not copied from anywhere.
fn tax_ids() -> Vec<String> {
    [
        "8609517428",
        "1234567895",
        "2695314781",
        "5717264380",
        "9876543219",
    ]
    .iter()
    .map(|head| {
        let d: Vec<u8> = head.bytes().map(|c| c - b'0').collect();
        format!("{head}{}", tax_check(&d))
    })
    .collect()
}

#[test]
fn tax_ids_plain_grouped_and_keyed() {
    let s = Sanitizer::default();
    for id in tax_ids() {
        let grouped = format!("{} {} {} {}", &id[..2], &id[2..5], &id[5..8], &id[8..]);
        for form in [&id, &grouped] {
            assert_eq!(
                s.sanitize(&format!("Steuer-ID {form} erfasst")),
                "Steuer-ID [TAX_ID_REDACTED] erfasst",
                "{form}"
            );
            assert_eq!(
                s.sanitize(&format!("{{\"n\":{form}}}")).replace(' ', ""),
                if form.contains(' ') {
                    "{\"n\":[TAX_ID_REDACTED]}".replace(' ', "")
                } else {
                    "{\"n\":\"[TAX_ID_REDACTED]\"}".to_owned()
                },
                "{form}"
            );
        }
        // A wrong check digit: kept bare, redacted after a key.
        let last = id.as_bytes()[10] - b'0';
        let wrong = format!("{}{}", &id[..10], (last + 1) % 10);
        assert_eq!(
            s.sanitize(&format!("id {wrong} x")),
            format!("id {wrong} x")
        );
        for key in [
            "steuer-id",
            "steuerid",
            "steuer_id",
            "steueridentifikationsnummer",
            "idnr",
            "tax_id",
        ] {
            assert_eq!(
                s.sanitize(&format!("{key}={wrong} ok")),
                format!("{key}=[TAX_ID_REDACTED] ok")
            );
            assert_eq!(
                s.sanitize(&format!("{key}: 12 345 678 901 ok")),
                format!("{key}: [TAX_ID_REDACTED] ok")
            );
        }
    }
    unchanged(&[
        "ts_ms=1727773403",
        "order 12345678901234",
        "amount 12345678954.50",
        "ref 12345678901 x",
        "duration 12345678901ns",
    ]);
}

/// The check digit of a social insurance number (letter as its two-digit
/// alphabet position, weights 2,1,2,5,7,1,2,1,2,1,2,1, cross sums, mod 10).
fn sv_check(head: &str) -> u8 {
    let b = head.as_bytes();
    let mut d: Vec<u8> = b[..8].iter().map(|c| c - b'0').collect();
    let pos = b[8] - b'A' + 1;
    d.extend([pos / 10, pos % 10]);
    d.extend(b[9..11].iter().map(|c| c - b'0'));
    let w = [2u8, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
    let sum: u32 = d
        .iter()
        .zip(w)
        .map(|(x, w)| u32::from(x * w / 10 + x * w % 10))
        .sum();
    (sum % 10) as u8
}

#[test]
fn social_insurance_numbers() {
    let s = Sanitizer::default();
    assert_eq!(sv_check("65170839J00"), 3, "the documented example");
    for head in ["65170839J00", "12150385M51", "04010190S12", "53311299A07"] {
        let c = sv_check(head);
        let compact = format!("{head}{c}");
        let spaced = format!(
            "{} {} {} {} {c}",
            &head[..2],
            &head[2..8],
            &head[8..9],
            &head[9..]
        );
        for form in [&compact, &spaced] {
            assert_eq!(
                s.sanitize(&format!("SV-Nummer {form}, danke")),
                "SV-Nummer [SV_NUMBER_REDACTED], danke",
                "{form}"
            );
        }
        let wrong = format!("{head}{}", (c + 1) % 10);
        assert_eq!(
            s.sanitize(&format!("ref {wrong} ok")),
            format!("ref {wrong} ok")
        );
        for key in [
            "sv-nummer",
            "svnr",
            "versicherungsnummer",
            "rvnr",
            "sozialversicherungsnummer",
        ] {
            assert_eq!(
                s.sanitize(&format!("{key}={wrong} ok")),
                format!("{key}=[SV_NUMBER_REDACTED] ok")
            );
            assert_eq!(
                s.sanitize(&format!(
                    "{key}: {} {} {} {} {} ok",
                    &head[..2],
                    &head[2..8],
                    &head[8..9],
                    &head[9..],
                    (c + 1) % 10
                )),
                format!("{key}: [SV_NUMBER_REDACTED] ok")
            );
        }
    }
    unchanged(&["build 65170839J004", "sku 12345678X901", "v65170839J003"]);
}

#[test]
fn postal_addresses() {
    check(&[
        (
            "wohnt Hauptstraße 12, bitte",
            "wohnt [ADDRESS_REDACTED], bitte",
        ),
        (
            "Lieferung Am Markt 3a ok",
            "Lieferung [ADDRESS_REDACTED] ok",
        ),
        (
            "Berliner Str. 45-47 Hinterhaus",
            "[ADDRESS_REDACTED] Hinterhaus",
        ),
        ("Lindenallee 7", "[ADDRESS_REDACTED]"),
        ("Marienplatz 1, 80331 München.", "[ADDRESS_REDACTED]."),
        ("PLZ/Ort 10115 Berlin", "PLZ/Ort [ADDRESS_REDACTED]"),
        ("in 60311 Frankfurt am Main ok", "in [ADDRESS_REDACTED] ok"),
        ("An der Alster 5 20099 Hamburg", "[ADDRESS_REDACTED]"),
        ("Goethestr. 8 im 2. OG", "[ADDRESS_REDACTED] im 2. OG"),
        // A house number said in words, in a transcript.
        (
            "meine Adresse ist Hauptstraße zwölf in Berlin",
            "meine Adresse ist [ADDRESS_REDACTED] in Berlin",
        ),
        ("Goethestraße dreiundzwanzig", "[ADDRESS_REDACTED]"),
        ("Kaiser-Wilhelm-Ring 20", "[ADDRESS_REDACTED]"),
        ("Zum Hafen 4", "[ADDRESS_REDACTED]"),
        ("Mainufer 2, 01067 Dresden", "[ADDRESS_REDACTED]"),
        (
            "adresse=Hauptstraße 12 status=ok",
            "adresse=[ADDRESS_REDACTED] status=ok",
        ),
        ("anschrift: Hauptstraße", "anschrift: [ADDRESS_REDACTED]"),
        (
            "street=Hauptstr. 5 2025-10-01T11:03:23Z",
            "street=[ADDRESS_REDACTED] 2025-10-01T11:03:23Z",
        ),
        ("zip=10115 x=1", "zip=[ADDRESS_REDACTED] x=1"),
        ("postcode: 10115", "postcode: [ADDRESS_REDACTED]"),
        ("ort=Berlin status=ok", "ort=[ADDRESS_REDACTED] status=ok"),
        (
            r#"{"city":"Berlin","n":1}"#,
            r#"{"city":"[ADDRESS_REDACTED]","n":1}"#,
        ),
    ]);
    unchanged(&[
        // Ids after the word naming them, places inside a building.
        "Buchung 12345 Bestätigt",
        "Auftrag 40210 Erledigt am 7. Juli",
        "Am Eingang 2 warten",
        "Bitte am Schalter 3 melden",
        "Hauptstraße Friseur",
        "took 12345 ms",
        "status 20000",
        "bytes 12345 INFO",
        "sent 20000 Bytes",
        "Am Montag 3 Termine",
        "Im Januar 2026",
        "Am Ende 2 Versuche",
        "String 5 chars",
        "Käufer 2",
        "port 6379 Redis",
        "eventTypeId 2026713 Beratung",
        "Hauptstraße 12:30",
        "Termin am 12.03.2026 um 10:00",
        "Anrufer 2 wartet",
        "Monitoring 3 alerts",
        "Zur Zeit 5 Anrufe",
        "Im Jahr 2026",
        "Fehlercode 40401 Timeout",
        "Am Montag drei Termine",
        "Hauptstraße null",
    ]);
}

#[test]
fn spoken_phone_numbers() {
    check(&[
        (
            "meine Nummer ist null eins sechs null, vier fünf sechs sieben acht neun",
            "meine Nummer ist [PHONE_REDACTED]",
        ),
        (
            "Rückruf 0160 vier fünf sechs sieben acht neun bitte",
            "Rückruf [PHONE_REDACTED] bitte",
        ),
        (
            "plus vier neun eins sieben eins doppel drei vier fünf",
            "[PHONE_REDACTED]",
        ),
        (
            "null drei null zwölf vierunddreißig sechsundfünfzig.",
            "[PHONE_REDACTED].",
        ),
        (
            "Null Eins Sieben Zwo, Doppelte Null eins zwei drei",
            "[PHONE_REDACTED]",
        ),
        (
            "telefon: null eins sieben eins eins zwei drei",
            "telefon: [PHONE_REDACTED]",
        ),
        // Hundreds, and a keyed value too short for free text: whole.
        (
            "Rückruf null einhundertfünfzig, dreiundzwanzig, vierundfünfzig bitte",
            "Rückruf [PHONE_REDACTED] bitte",
        ),
        (
            "Telefonnummer: null einhundertfünfzig, dreiundzwanzig",
            "Telefonnummer: [PHONE_REDACTED]",
        ),
    ]);
    unchanged(&[
        "um halb zehn",
        "am zwölften Mai",
        "zwei Personen",
        "Termin um neun Uhr",
        "zwei Personen um zehn Uhr am elften",
        "eins zwei drei",
        "vierzehn Uhr dreißig",
        "dreihundert Euro",
        "port 6379 pid 12345 eins",
    ]);
}

#[test]
fn spoken_phone_numbers_in_english() {
    check(&[
        (
            "User: my number is zero one seven one, two three four, five six seven eight.",
            "User: my number is [PHONE_REDACTED].",
        ),
        (
            "User: plus four nine one five one double two three four five six",
            "User: [PHONE_REDACTED]",
        ),
        (
            "User: it's zero three zero, triple four, fifty six seventy eight",
            "User: it's [PHONE_REDACTED]",
        ),
        // After a phone key the value goes whole, whatever word it starts with.
        (
            "phone=one five five five two three four",
            "phone=[PHONE_REDACTED]",
        ),
        (
            r#"{"caller_phone":"four one five, five five five, zero one three two"}"#,
            r#"{"caller_phone":"[PHONE_REDACTED]"}"#,
        ),
    ]);
    unchanged(&[
        "I need one or two slots for three people on the seventh",
        "zero downtime deploy finished, one of two replicas ready",
        "retries: zero of three",
        "six seven",
        "double check the eight o'clock slot",
    ]);
}

#[test]
fn spoken_email_addresses() {
    check(&[
        (
            "Mail ist anna unterstrich weber ät web punkt de danke",
            "Mail ist [EMAIL_REDACTED] danke",
        ),
        ("max punkt müller at gmx punkt de", "[EMAIL_REDACTED]"),
        (
            "info minus team Klammeraffe firma bindestrich x punkt com, ok",
            "[EMAIL_REDACTED], ok",
        ),
        ("also m a x ät g m x punkt d e", "also [EMAIL_REDACTED]"),
        (
            "Anna Punkt Schmidt ät t-online Punkt de",
            "[EMAIL_REDACTED]",
        ),
        (
            "email=anna punkt weber at web punkt de ok",
            "email=[EMAIL_REDACTED] ok",
        ),
    ]);
    unchanged(&[
        "error at line 5",
        "Termin at 10:00",
        "look at this punkt",
        "wir sind at home",
        "bin ät",
    ]);
}

/// A spelled-out number longer than 20 digits (repeats, groups after
/// commas) is redacted to its last group, not cut at 20 digits.
#[test]
fn a_long_spelled_number_is_redacted_to_its_last_group() {
    let s = Sanitizer::default();
    let line = "phone 0160 doppel null doppel null doppel null, null doppel null doppel null doppel null doppel null doppel null, null\nid=7";
    let out = s.sanitize(line);
    assert_eq!(out, "phone [PHONE_REDACTED]\nid=7", "{out}");
}
