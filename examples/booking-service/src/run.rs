//! Running the service as a process: configuration → Redis stores →
//! [`AppState`] → a listener served until a shutdown signal.
//!
//! The `booking-service` binary is a thin caller of [`run`]; other binaries
//! (a replica in a multi-process test, your own `main`) call it the same way.

use std::future::Future;
use std::net::SocketAddr;

use voxcal_appointment_finder::RedisCacheStore;
use voxcal_call_rate_limiter::{OutagePolicy, RedisStore};
use voxcal_circuit_breaker::{BreakerRegistry, RedisStore as BreakerStore};
use voxcal_core::redis::{ConnectOptions, RedisConnection};

use crate::config::{RedisTarget, ServiceConfig};
use crate::state::{AppState, AppStateBuilder};

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The configuration cannot be turned into a running service (a Redis
    /// URL that does not connect, an invalid tenant). The binary exits 2.
    #[error("config error: {0}")]
    Config(String),
    /// The bind address cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The configured bind address.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The server failed while serving.
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

impl RunError {
    /// The process exit code for this error: 2 for configuration errors,
    /// 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Config(_) => 2,
            _ => 1,
        }
    }
}

/// Builds the state `config` describes, connecting to Redis when `[redis]`
/// (or its environment overrides) is set: call limits under `<prefix>:rl`
/// (falling back to memory during an outage, each decision bounded by
/// `timeout_ms`), the Cal.com breakers under `<prefix>:cb` and the Cal.com
/// tenants' slot caches under `<prefix>:slots`; `/api/health/detailed`
/// then checks the server (or the Cluster).
///
/// # Errors
/// [`RunError::Config`] when Redis cannot be reached or the configuration is
/// invalid.
pub async fn connect_state(config: &ServiceConfig) -> Result<AppState, RunError> {
    let mut builder = AppState::builder(config.clone());
    if let Some(redis) = &config.redis {
        builder = with_redis(builder, redis).await?;
    }
    builder.build().map_err(|e| RunError::Config(e.to_string()))
}

async fn with_redis(
    builder: AppStateBuilder,
    redis: &crate::config::RedisSettings,
) -> Result<AppStateBuilder, RunError> {
    let (urls, setting) = match &redis.target {
        RedisTarget::Standalone(url) => (std::slice::from_ref(url), "redis url"),
        RedisTarget::Cluster(nodes) => (nodes.as_slice(), "redis cluster_nodes"),
    };
    // Two connections, as two stores would have on their own: the breakers'
    // background sync and pushes do not queue behind the request path's
    // limiter decisions and cache reads.
    let options = ConnectOptions::default();
    let connect = || RedisConnection::connect_any(urls, &options);
    let (data, breakers) = match tokio::join!(connect(), connect()) {
        (Ok(data), Ok(breakers)) => (data, breakers),
        (Err(e), _) | (_, Err(e)) => {
            return Err(RunError::Config(format!("{setting}: cannot connect: {e}")));
        }
    };
    Ok(builder
        .redis_health(data.clone())
        .redis_idempotency(data.clone(), format!("{}:book", redis.prefix))
        .shared_slot_cache(
            RedisCacheStore::new(data.clone()),
            format!("{}:slots", redis.prefix),
        )
        .redis_limiter(
            RedisStore::new(data)
                .with_prefix(format!("{}:rl", redis.prefix))
                .with_outage_policy(OutagePolicy::FallbackToMemory)
                .with_timeout(redis.timeout),
        )
        .breaker_registry(
            BreakerRegistry::new(
                BreakerStore::new(breakers).with_prefix(format!("{}:cb", redis.prefix)),
            ),
            "redis",
        ))
}

/// Where a running service listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Listening {
    /// The public port: Retell's function routes, the webhooks, `/api/health`.
    pub public: SocketAddr,
    /// The admin port (`/metrics`, `/api/health/detailed`), unless turned off.
    pub admin: Option<SocketAddr>,
}

/// Runs the service for `config` until `shutdown` completes, then finishes
/// the requests in flight and returns.
///
/// Serves [`app`](crate::app) on `config.bind` and
/// [`admin_app`](crate::admin_app) on the admin address
/// ([`AdminSettings`](crate::AdminSettings)). `ready` is called once both
/// listeners are bound, with their addresses (a configured port may be 0)
/// and the state; the binary prints its start-up lines there.
///
/// # Errors
/// See [`RunError`].
pub async fn run(
    config: ServiceConfig,
    ready: impl FnOnce(Listening, &AppState),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), RunError> {
    let state = connect_state(&config).await?;
    let bind = |addr: SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| RunError::Listen { addr, source })
    };
    let listener = bind(config.bind).await?;
    let public = listener.local_addr().unwrap_or(config.bind);
    // From the configured port, not the one the OS chose: with port 0 the
    // admin port is the OS's choice too (the chosen port + 1 may be taken).
    let admin_listener = match config.admin.address(config.bind) {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    let admin = admin_listener.as_ref().and_then(|l| l.local_addr().ok());
    ready(Listening { public, admin }, &state);
    // One shutdown signal for both listeners.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let admin_task = admin_listener.map(|listener| {
        let mut stopped = stopped.clone();
        let app = crate::admin_app(state.clone());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        })
    });
    let served = axum::serve(listener, crate::app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await
        .map_err(RunError::Serve);
    if let Some(task) = admin_task {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(RunError::Serve(e)),
            Err(e) => return Err(RunError::Serve(std::io::Error::other(e))),
        }
    }
    served
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// With the public port 0 the admin listener gets a port of the OS's
    /// choosing too. It used to take the chosen public port + 1, which any
    /// other process may hold (a test's child failed to start with "cannot
    /// listen on 127.0.0.1:46666: Address already in use"). Three starts:
    /// with that rule every one lands on public + 1; with ports of the
    /// OS's choosing all three do by chance with a probability of about
    /// (1 / 28,000)³.
    #[tokio::test]
    async fn an_ephemeral_public_port_gets_an_ephemeral_admin_port() {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let mut config = ServiceConfig::demo();
            config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
            let (listening_tx, listening) = tokio::sync::oneshot::channel();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let service = tokio::spawn(run(
                config,
                move |at, _| {
                    let _ = listening_tx.send(at);
                },
                async move {
                    let _ = stopped.await;
                },
            ));
            let at = listening.await.expect("the service starts");
            let admin = at.admin.expect("the admin listener is on by default");
            assert_ne!(admin.port(), 0);
            seen.push((at.public.port(), admin.port()));
            let _ = stop.send(());
            service.await.expect("no panic").expect("a clean stop");
        }
        assert!(
            !seen.iter().all(|(public, admin)| *admin == public + 1),
            "the admin port follows the public port: {seen:?}"
        );
    }
}
