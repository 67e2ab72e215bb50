//! Prints the `X-Retell-Signature` Retell would send for a body now:
//! `cargo run -p booking-service --example sign -- <retell key> '<body>'`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(key), Some(body), None) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: sign <retell api key> <body>");
        return ExitCode::from(2);
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    println!("{}", booking_service::sign(&key, body.as_bytes(), now_ms));
    ExitCode::SUCCESS
}
