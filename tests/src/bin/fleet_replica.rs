//! One booking-service replica for the fleet test: `fleet-replica <config.toml>`.
//!
//! Reads the TOML configuration (with the usual environment overrides),
//! logs through the service's sanitizing subscriber to stdout and serves
//! until SIGTERM, exactly as the `booking-service` binary does, through
//! [`booking_service::run`]. Its first line is
//! `fleet-replica listening on http://<addr>` (the test binds port 0).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use booking_service::{run, shutdown_signal, subscriber, LogFormat, ServiceConfig};

fn main() -> ExitCode {
    let format = LogFormat::from_env_value(std::env::var("LOG_FORMAT").ok().as_deref());
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    if tracing::subscriber::set_global_default(subscriber(std::io::stdout, format, &filter))
        .is_err()
    {
        eprintln!("fleet-replica: could not install the logger");
    }
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("fleet-replica: usage: fleet-replica <config.toml>");
        return ExitCode::from(2);
    };
    let config = match std::fs::read_to_string(&path) {
        Ok(text) => ServiceConfig::from_toml(&path, &text, |name| std::env::var(name).ok()),
        Err(e) => {
            eprintln!("fleet-replica: {path}: cannot read the file: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match config {
        Ok(config) => config,
        Err(e) => {
            eprintln!("fleet-replica: config error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fleet-replica: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ready = |at: booking_service::Listening, state: &booking_service::AppState| {
        println!("fleet-replica listening on http://{}", at.public);
        println!(
            "call limits: {}; circuit breakers: {}",
            state.limiter_backend(),
            state.breaker_backend()
        );
    };
    match runtime.block_on(run(config, ready, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet-replica: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
