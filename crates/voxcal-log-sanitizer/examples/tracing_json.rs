//! `cargo run -p voxcal-log-sanitizer --features tracing --example tracing_json`
//!
//! A `tracing_subscriber::fmt` JSON layer whose output goes through the
//! sanitizer: the printed lines carry markers instead of the caller's data.
use voxcal_log_sanitizer::{Sanitizer, SanitizingMakeWriter};

fn main() {
    let sanitizer = Sanitizer::builder()
        .pseudonymize(b"demo-correlation-key")
        .build();
    tracing_subscriber::fmt()
        .json()
        .with_writer(SanitizingMakeWriter::new(sanitizer, std::io::stdout))
        .init();

    tracing::info!(
        call_id = "call_8f2d",
        email = "max.mueller@gmx.de",
        "collect_appointment ok"
    );
    tracing::warn!("Cal.com rejected booking for Herr Max Müller (+49 171 1234567): slot taken");
    tracing::error!(
        authorization = "Bearer cal_live_0123456789abcdef",
        "upstream 401"
    );
}
