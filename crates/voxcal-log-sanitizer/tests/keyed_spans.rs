//! A keyed value is redacted as a whole: it ends where the value ends
//! (closing quote, the format's delimiter, the next `key=`/`key:`, the end
//! of the line), never at its first space (issue #19).

use voxcal_log_sanitizer::Sanitizer;

fn check(rows: &[(&str, &str)]) {
    let s = Sanitizer::default();
    let mut failures = Vec::new();
    for (input, want) in rows {
        let got = s.sanitize(input);
        if got != *want {
            failures.push(format!("\n  in:   {input}\n  want: {want}\n  got:  {got}"));
        }
        let again = s.sanitize(&got);
        if again != got {
            failures.push(format!("\n  not idempotent: {got}\n  second: {again}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:{}",
        failures.len(),
        failures.concat()
    );
}

#[test]
fn numbers_keep_all_their_groups() {
    check(&[
        (
            "telefonnummer: 0151 2345678",
            "telefonnummer: [PHONE_REDACTED]",
        ),
        (
            "telefonnummer: 0151 2345678 status=ok",
            "telefonnummer: [PHONE_REDACTED] status=ok",
        ),
        (
            "phone=+49 151 2345678, call_id=call_123",
            "phone=[PHONE_REDACTED], call_id=call_123",
        ),
        ("tel=+1 (415) 555-2671 end", "tel=[PHONE_REDACTED] end"),
        ("tel=+49 (0)151/234 5678.", "tel=[PHONE_REDACTED]."),
        ("card_number=123456 12345", "card_number=[CARD_REDACTED]"),
        (
            "card_number=3782 822463 10005 ok",
            "card_number=[CARD_REDACTED] ok",
        ),
        (
            "iban=DE89 3704 0044 0532 0130 00 ok",
            "iban=[IBAN_REDACTED] ok",
        ),
        (
            "iban=GB29 NWBK 6016 1331 9268 19 ok",
            "iban=[IBAN_REDACTED] ok",
        ),
        // What follows the number is not part of it: a time, a log date, a word.
        (
            "phone=0151 2345678 10:30 2025-10-01 gebucht",
            "phone=[PHONE_REDACTED] 10:30 2025-10-01 gebucht",
        ),
    ]);
}

#[test]
fn names_keep_particles_and_every_script() {
    check(&[
        ("Kunde: Max von Bülow", "Kunde: [NAME_REDACTED]"),
        ("name=von Bülow", "name=[NAME_REDACTED]"),
        (
            "name=Max von Bülow hat angerufen",
            "name=[NAME_REDACTED] hat angerufen",
        ),
        ("name=Sean O'Brien", "name=[NAME_REDACTED]"),
        ("name=María José de la Cruz", "name=[NAME_REDACTED]"),
        ("name=Łukasz Żółć", "name=[NAME_REDACTED]"),
        (
            "customer_name: Anna-Lena van der Berg, call_id=c1",
            "customer_name: [NAME_REDACTED], call_id=c1",
        ),
        (
            "Kunde: Max Müller hat angerufen",
            "Kunde: [NAME_REDACTED] hat angerufen",
        ),
    ]);
}

#[test]
fn headers_and_queries_end_at_their_delimiters() {
    check(&[
        ("X-Name: Max Bülow", "X-Name: [NAME_REDACTED]"),
        (
            "a\r\nX-Customer-Name: Max Bülow\r\nb",
            "a\r\nX-Customer-Name: [NAME_REDACTED]\r\nb",
        ),
        ("x-phone: 0151 2345678", "x-phone: [PHONE_REDACTED]"),
        (
            "GET /x?name=Max%20B%C3%BClow&a=1",
            "GET /x?name=[NAME_REDACTED]&a=1",
        ),
        (
            "GET /x?kreditkarte=4000%200000%200000%200002&amount=49,99",
            "GET /x?kreditkarte=[CARD_REDACTED]&amount=49,99",
        ),
        (
            "GET /x?phone=%2B1%20(415)%20555-2671#top",
            "GET /x?phone=[PHONE_REDACTED]#top",
        ),
        // Identifiers after a bare `name=` stay, in a query as elsewhere.
        (
            "GET /x?name=check_availability&a=1",
            "GET /x?name=check_availability&a=1",
        ),
    ]);
}
