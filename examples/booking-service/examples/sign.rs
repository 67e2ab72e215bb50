//! Prints the signature header a webhook sender would put on a body:
//!
//! - Retell (`X-Retell-Signature`, for the function routes and
//!   `/api/webhooks/retell`): `cargo run -p booking-service --example sign --
//!   <retell key> '<body>'`, signed now with [`booking_service::sign`];
//! - Cal.com (`X-Cal-Signature-256`, for `/api/webhooks/calcom/{tenant}`):
//!   `cargo run -p booking-service --example sign -- --calcom <webhook secret>
//!   '<body>'`, with [`voxcal_calcom_client::webhook::sign`].
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

const USAGE: &str =
    "usage: sign <retell api key> <body>\n       sign --calcom <cal.com webhook secret> <body>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, secret, body] if flag == "--calcom" => {
            println!(
                "{}",
                voxcal_calcom_client::webhook::sign(secret, body.as_bytes())
            );
            ExitCode::SUCCESS
        }
        [key, body] if !key.starts_with("--") => {
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0);
            println!("{}", booking_service::sign(key, body.as_bytes(), now_ms));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
