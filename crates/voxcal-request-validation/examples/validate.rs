//! `cargo run -p voxcal-request-validation --example validate -- --now 2026-11-27T10:00:00+01:00 --tz Europe/Berlin`
//!
//! Reads one JSON `args` object per line on stdin and prints, per line, the
//! normalized request or the errors as JSON:
//!
//! ```text
//! $ echo '{"datum":"übermorgen","uhrzeit":"halb drei","email":"max at gmx punkt de"}' \
//!     | cargo run -p voxcal-request-validation --example validate -- --now 2026-11-27T10:00:00+01:00
//! {"ok":true,"request":{"date":"2026-11-29","time":"14:30",...,"email":"max@gmx.de",...}}
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};
use voxcal_request_validation::{AppointmentRequest, Lang, UserMessage, ValidationContext};

fn main() -> ExitCode {
    let mut now: DateTime<Utc> = Utc::now();
    let mut tz: Tz = chrono_tz::Europe::Berlin;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--now", Some(value)) => match DateTime::parse_from_rfc3339(&value) {
                Ok(t) => now = t.with_timezone(&Utc),
                Err(e) => return usage(&format!("--now {value}: {e}")),
            },
            ("--tz", Some(value)) => match value.parse::<Tz>() {
                Ok(t) => tz = t,
                Err(e) => return usage(&format!("--tz {value}: {e}")),
            },
            _ => return usage(&format!("unexpected argument {arg}")),
        }
    }
    let ctx = ValidationContext::new(now, tz);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    for line in io::stdin().lock().lines() {
        let line = match line {
            Ok(line) => line,
            Err(e) => return usage(&format!("reading stdin: {e}")),
        };
        if line.trim().is_empty() {
            continue;
        }
        let result = match serde_json::from_str::<Value>(&line) {
            Err(e) => json!({"ok": false, "error": format!("invalid JSON: {e}")}),
            Ok(args) => match AppointmentRequest::parse(&args, &ctx) {
                Ok(request) => json!({"ok": true, "request": request}),
                Err(errors) => json!({
                    "ok": false,
                    "message": errors.user_message(Lang::De),
                    "errors": errors,
                }),
            },
        };
        if writeln!(out, "{result}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}\nusage: validate [--now RFC3339] [--tz IANA-zone] < args.jsonl");
    ExitCode::from(2)
}
