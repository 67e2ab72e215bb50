//! `cargo run -p booking-service` — the demo voice-booking backend.
//!
//! Without configuration it serves one demo tenant on 127.0.0.1:8080.
//! `LOG_FORMAT=json` switches to JSON logs, `RUST_LOG` sets the filter.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::process::ExitCode;

use booking_service::{shutdown_signal, subscriber, ConfigError, LogFormat, ServiceConfig};

/// Each request allocates many small, short-lived values (the JSON tree of
/// the body, strings of the reply); mimalloc serves them from per-thread
/// pages where glibc's malloc spent a quarter of the service's CPU time
/// (`bench/load.sh`: about 1.3× the requests per second).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `--config <path>` (or `BOOKING_CONFIG`), else the built-in demo; then
/// the environment overrides.
fn load_config() -> Result<ServiceConfig, String> {
    let env = |name: &str| std::env::var(name).ok();
    let mut args = std::env::args().skip(1);
    let mut path = env("BOOKING_CONFIG").filter(|p| !p.is_empty());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => match args.next() {
                Some(p) => path = Some(p),
                None => return Err("--config: expects a file path".to_owned()),
            },
            other => match other.strip_prefix("--config=") {
                Some(p) => path = Some(p.to_owned()),
                None => {
                    return Err(format!(
                    "{other}: unknown argument (usage: booking-service [--config booking.toml])"
                ))
                }
            },
        }
    }
    let result: Result<ServiceConfig, ConfigError> = match &path {
        None => {
            let mut config = ServiceConfig::demo();
            config.apply_env(env).map(|()| config)
        }
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => ServiceConfig::from_toml(path, &text, env),
            Err(e) => return Err(format!("{path}: cannot read the file: {e}")),
        },
    };
    result.map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let format = LogFormat::from_env_value(std::env::var("LOG_FORMAT").ok().as_deref());
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned());
    if tracing::subscriber::set_global_default(subscriber(std::io::stdout, format, &filter))
        .is_err()
    {
        eprintln!("booking-service: could not install the logger");
    }
    let config = match load_config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("booking-service: config error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("booking-service: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ready = |at: booking_service::Listening, state: &booking_service::AppState| {
        println!("booking-service listening on http://{}", at.public);
        println!("tenants: {}", state.tenant_ids().join(", "));
        println!("call limits: {}", state.limiter_backend());
        if state.signatures_enabled() {
            println!("Retell signature checking: on (tenants with retell_api_key)");
        } else {
            println!("Retell signature checking: off (no retell_api_key configured)");
        }
        println!("circuit breakers: {}", state.breaker_backend());
        match at.admin {
            Some(admin) => println!("admin (metrics, detailed health) on http://{admin}"),
            None => println!("admin listener: off"),
        }
    };
    match runtime.block_on(booking_service::run(config, ready, shutdown_signal())) {
        Ok(()) => {
            // stdout may be closed by now (a supervisor that stopped reading).
            let _ = writeln!(std::io::stdout(), "booking-service stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("booking-service: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
