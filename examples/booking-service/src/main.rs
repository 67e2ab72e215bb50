//! `cargo run -p booking-service` — the demo voice-booking backend.
//!
//! Without configuration it serves one demo tenant on 127.0.0.1:8080.
//! `LOG_FORMAT=json` switches to JSON logs, `RUST_LOG` sets the filter.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::process::ExitCode;

use booking_service::{
    app, subscriber, AppState, ConfigError, LogFormat, RedisTarget, ServiceConfig,
};
use call_rate_limiter::{OutagePolicy, RedisStore};
use circuit_breaker::{BreakerRegistry, RedisStore as BreakerStore};

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
    runtime.block_on(async move {
        let mut builder = AppState::builder(config.clone());
        if let Some(redis) = &config.redis {
            let limiter_prefix = format!("{}:rl", redis.prefix);
            let breaker_prefix = format!("{}:cb", redis.prefix);
            match &redis.target {
                RedisTarget::Standalone(url) => {
                    let health = match redis::Client::open(url.as_str()) {
                        Ok(client) => client.get_connection_manager().await.ok(),
                        Err(e) => {
                            eprintln!("booking-service: config error: redis url: {e}");
                            return ExitCode::from(2);
                        }
                    };
                    if let Some(conn) = health {
                        builder = builder.redis_health(conn);
                    }
                    let limiter = RedisStore::connect(url).await.map_err(|e| e.to_string());
                    let breakers = BreakerStore::connect(url, &breaker_prefix)
                        .await
                        .map_err(|e| e.to_string());
                    match (limiter, breakers) {
                        (Ok(limiter), Ok(breakers)) => {
                            builder = builder
                                .redis_limiter(
                                    limiter
                                        .with_prefix(limiter_prefix)
                                        .with_outage_policy(OutagePolicy::FallbackToMemory)
                                        .with_timeout(redis.timeout),
                                )
                                .breaker_registry(BreakerRegistry::new(breakers), "redis");
                        }
                        (Err(e), _) | (_, Err(e)) => {
                            eprintln!("booking-service: config error: redis url: cannot connect: {e}");
                            return ExitCode::from(2);
                        }
                    }
                }
                RedisTarget::Cluster(nodes) => {
                    let connected = match redis::cluster::ClusterClient::new(nodes.clone()) {
                        Ok(client) => client.get_async_connection().await,
                        Err(e) => Err(e),
                    };
                    let breakers = BreakerStore::connect_cluster(nodes.iter(), &breaker_prefix)
                        .await
                        .map_err(|e| e.to_string());
                    match (connected.map_err(|e| e.to_string()), breakers) {
                        (Ok(conn), Ok(breakers)) => {
                            builder = builder
                                .redis_limiter(
                                    RedisStore::cluster(conn)
                                        .with_prefix(limiter_prefix)
                                        .with_outage_policy(OutagePolicy::FallbackToMemory)
                                        .with_timeout(redis.timeout),
                                )
                                .breaker_registry(BreakerRegistry::new(breakers), "redis");
                        }
                        (Err(e), _) | (_, Err(e)) => {
                            eprintln!(
                                "booking-service: config error: redis cluster_nodes: cannot connect: {e}"
                            );
                            return ExitCode::from(2);
                        }
                    }
                }
                _ => {}
            }
        }
        let state = match builder.build() {
            Ok(state) => state,
            Err(e) => {
                eprintln!("booking-service: config error: {e}");
                return ExitCode::from(2);
            }
        };
        let listener = match tokio::net::TcpListener::bind(config.bind).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("booking-service: cannot listen on {}: {e}", config.bind);
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().unwrap_or(config.bind);
        println!("booking-service listening on http://{addr}");
        println!("tenants: {}", state.tenant_ids().join(", "));
        println!("call limits: {}", state.limiter_backend());
        if state.signatures_enabled() {
            println!("Retell signature checking: on (tenants with retell_api_key)");
        } else {
            println!("Retell signature checking: off (no retell_api_key configured)");
        }
        println!("circuit breakers: {}", state.breaker_backend());
        let served = axum::serve(listener, app(state))
            .with_graceful_shutdown(shutdown_signal())
            .await;
        match served {
            Ok(()) => {
                // stdout may be closed by now (a supervisor that stopped reading).
                let _ = writeln!(std::io::stdout(), "booking-service stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("booking-service: server error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
