//! The `tracing` integration: plain and JSON `fmt` layers writing through
//! `SanitizingMakeWriter` into a shared buffer.
#![cfg(feature = "tracing")]

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;
use voxcal_log_sanitizer::{Sanitizer, SanitizingMakeWriter};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Buffer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

fn emit_events() {
    tracing::info!(
        email = "max.mueller@gmx.de",
        call_id = "call_42",
        "booking confirmed"
    );
    tracing::warn!("Rückruf an Herr Max Müller unter +49 171 1234567, Termin 2025-10-01 14:00");
    tracing::error!(
        authorization = "Bearer cal_live_0123456789abcdef",
        status = 401,
        "upstream rejected"
    );
}

const SECRETS: &[&str] = &[
    "max.mueller@gmx.de",
    "Max Müller",
    "1234567",
    "cal_live_0123456789abcdef",
];

#[test]
fn plain_formatter_output_is_sanitized() {
    let buf = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(SanitizingMakeWriter::new(Sanitizer::default(), buf.clone()))
        .finish();
    tracing::subscriber::with_default(subscriber, emit_events);
    let out = buf.text();
    assert_eq!(out.lines().count(), 3, "{out}");
    for s in SECRETS {
        assert!(!out.contains(s), "{s} leaked: {out}");
    }
    assert!(out.contains("email=\"[EMAIL_REDACTED]\""), "{out}");
    assert!(out.contains("authorization=\"[REDACTED]\""), "{out}");
    assert!(
        out.contains("Herr [NAME_REDACTED] unter [PHONE_REDACTED], Termin 2025-10-01 14:00"),
        "{out}"
    );
    assert!(out.contains("call_id=\"call_42\""), "{out}");
    assert!(out.contains("status=401"), "{out}");
}

#[test]
fn json_formatter_output_stays_valid_json() {
    let buf = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(SanitizingMakeWriter::new(Sanitizer::default(), buf.clone()))
        .finish();
    tracing::subscriber::with_default(subscriber, emit_events);
    let out = buf.text();
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(events.len(), 3);
    for s in SECRETS {
        assert!(!out.contains(s), "{s} leaked: {out}");
    }
    assert_eq!(events[0]["fields"]["email"], "[EMAIL_REDACTED]");
    assert_eq!(events[0]["fields"]["call_id"], "call_42");
    assert_eq!(events[2]["fields"]["authorization"], "[REDACTED]");
    assert_eq!(events[2]["fields"]["status"], 401);
}

#[test]
fn pseudonyms_correlate_across_events() {
    let buf = Buffer::default();
    let sanitizer = Sanitizer::builder().pseudonymize("support-key").build();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(SanitizingMakeWriter::new(sanitizer, buf.clone()))
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("first call from max@gmx.de");
        tracing::info!("second call from MAX@gmx.de");
        tracing::info!("other caller anna@web.de");
    });
    let out = buf.text();
    let tags: Vec<&str> = out
        .lines()
        .map(|l| {
            let at = l.find("[EMAIL:").expect("tag");
            &l[at..at + 16]
        })
        .collect();
    assert_eq!(tags[0], tags[1]);
    assert_ne!(tags[0], tags[2]);
}

#[test]
fn writer_forwards_on_flush() {
    let buf = Buffer::default();
    let make = SanitizingMakeWriter::new(Sanitizer::default(), buf.clone());
    let mut w = make.make_writer();
    w.write_all(b"mail max@").unwrap();
    w.write_all(b"gmx.de\n").unwrap();
    assert_eq!(
        buf.text(),
        "",
        "nothing is forwarded before the event is complete"
    );
    w.flush().unwrap();
    assert_eq!(buf.text(), "mail [EMAIL_REDACTED]\n");
}

#[test]
fn writer_bounds_its_buffer_at_line_ends() {
    let buf = Buffer::default();
    let make = SanitizingMakeWriter::new(Sanitizer::default(), buf.clone());
    let mut w = make.make_writer();
    let line = "caller max@gmx.de waited 12ms\n";
    for _ in 0..3000 {
        w.write_all(line.as_bytes()).unwrap();
    }
    // More than 64 KiB went in: complete lines were forwarded without a flush.
    let forwarded = buf.text();
    assert!(forwarded.len() > 32 * 1024, "{}", forwarded.len());
    assert!(forwarded.ends_with('\n'));
    assert!(!forwarded.contains("max@gmx.de"));
    drop(w);
    let all = buf.text();
    assert_eq!(all.lines().count(), 3000);
    assert!(all
        .lines()
        .all(|l| l == "caller [EMAIL_REDACTED] waited 12ms"));
}
