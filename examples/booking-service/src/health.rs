//! `/api/health`, `/api/health/detailed` and `/metrics`.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use serde_json::{json, Value};

use crate::state::AppState;
use voxcal_core::redis::RedisConnection;

/// The process-wide Prometheus recorder (installed on first use).
pub(crate) fn prometheus() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .as_ref()
}

/// Liveness.
pub(crate) async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Resident memory of this process in bytes (Linux), if known.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Every check with its status and figures; 503 only when unhealthy.
pub(crate) async fn detailed(State(state): State<AppState>) -> Response {
    let inner = &state.inner;
    let calendars: Vec<Value> = inner
        .tenants
        .iter()
        .map(|(id, t)| {
            let breaker = t.breaker().map(|b| b.state());
            let status = match breaker {
                Some(
                    voxcal_circuit_breaker::State::Open | voxcal_circuit_breaker::State::ForcedOpen,
                ) => "degraded",
                _ => "healthy",
            };
            json!({
                "tenant": id,
                "source": t.backend.label(),
                "breaker": t.breaker().map(|b| b.name().to_owned()),
                "services": t.services.len(),
                "signature_check": t.retell_api_key.is_some(),
                "status": status,
            })
        })
        .collect();
    let breakers: Vec<Value> = inner
        .breakers
        .metrics()
        .iter()
        .map(|m| {
            let open = matches!(
                m.state,
                voxcal_circuit_breaker::State::Open | voxcal_circuit_breaker::State::ForcedOpen
            );
            json!({
                "name": &*m.name,
                "state": m.state.as_str(),
                "status": if open { "degraded" } else { "healthy" },
                "backend": inner.breaker_backend,
                "consecutive_failures": m.consecutive_failures,
                "rejected_calls": m.rejected_calls,
                "time_until_half_open_ms": m
                    .time_until_half_open
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            })
        })
        .collect();
    let redis = match inner.redis.clone() {
        None => json!({"status": "healthy", "backend": "none (in-memory state)"}),
        Some(probe) => redis_check(probe).await,
    };
    let checks = json!({
        "redis": redis,
        "rate_limiter": {
            "status": "healthy",
            "backend": inner.limiter.backend(),
        },
        "slot_cache": {"status": "healthy", "backend": inner.slot_cache_backend},
        "booking_records": {"status": "healthy", "backend": inner.idempotency.backend()},
        "breakers": breakers,
        "calendars": calendars,
        "process": {
            "status": "healthy",
            "resident_bytes": resident_bytes(),
        },
    });
    // Redis down is "degraded": the limiter falls back to memory. An open
    // breaker is "degraded" too: the agent still answers, with the
    // "nicht verfügbar" sentence.
    let breaker_open = breakers.iter().any(|b| b["status"] != "healthy");
    let overall = if checks["redis"]["status"] == "healthy" && !breaker_open {
        "healthy"
    } else {
        "degraded"
    };
    let body = json!({
        "status": overall,
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": inner.started.elapsed().as_secs(),
        "checks": checks,
    });
    let status = if overall == "unhealthy" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, Json(body)).into_response()
}

/// PING round trip, server version and used memory (and on a Cluster its
/// state and node count), within 500 ms.
async fn redis_check(mut conn: RedisConnection) -> Value {
    let started = std::time::Instant::now();
    let query = async {
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        let ping_ms = started.elapsed().as_secs_f64() * 1000.0;
        let Some(mut cluster_conn) = conn.cluster_connection() else {
            let info: String = redis::cmd("INFO").query_async(&mut conn).await?;
            return Ok::<_, redis::RedisError>((ping_ms, info, None));
        };
        // One node's view: routed like a keyless command.
        let cluster: String = redis::cmd("CLUSTER")
            .arg("INFO")
            .query_async(&mut conn)
            .await?;
        // INFO would go to every node; ask one primary.
        let mut info_cmd = redis::cmd("INFO");
        info_cmd.arg("server").arg("memory");
        let info = cluster_conn
            .route_command(
                info_cmd,
                RoutingInfo::SingleNode(SingleNodeRoutingInfo::RandomPrimary),
            )
            .await
            .and_then(|v| redis::from_redis_value::<String>(v).map_err(Into::into))
            .unwrap_or_default();
        Ok((ping_ms, info, Some(cluster)))
    };
    match tokio::time::timeout(std::time::Duration::from_millis(500), query).await {
        Ok(Ok((ping_ms, info, cluster))) => {
            let field = |text: &str, name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                    .map(str::trim)
                    .map(str::to_owned)
            };
            let cluster_ok = cluster
                .as_deref()
                .is_none_or(|c| field(c, "cluster_state").as_deref() == Some("ok"));
            let mut report = json!({
                "status": if ping_ms < 100.0 && cluster_ok { "healthy" } else { "degraded" },
                "backend": if cluster.is_some() { "redis-cluster" } else { "redis" },
                "ping_ms": (ping_ms * 100.0).round() / 100.0,
                "version": field(&info, "redis_version"),
                "used_memory_bytes": field(&info, "used_memory").and_then(|v| v.parse::<u64>().ok()),
            });
            if let Some(c) = &cluster {
                report["cluster_state"] = json!(field(c, "cluster_state"));
                report["cluster_known_nodes"] =
                    json!(field(c, "cluster_known_nodes").and_then(|v| v.parse::<u64>().ok()));
            }
            report
        }
        Ok(Err(e)) => {
            json!({"status": "degraded", "backend": "redis", "error": format!("{:?}", e.kind())})
        }
        Err(_) => json!({"status": "degraded", "backend": "redis", "error": "timeout"}),
    }
}

/// Prometheus text exposition (breaker states and slot cache counters
/// refreshed on each scrape).
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    for (id, tenant) in &state.inner.tenants {
        let stats = tenant.finder.cache().stats();
        metrics::counter!("slot_cache_hits_total", "tenant" => id.clone()).absolute(stats.hits);
        metrics::counter!("slot_cache_misses_total", "tenant" => id.clone()).absolute(stats.misses);
        metrics::counter!("slot_source_errors_total", "tenant" => id.clone())
            .absolute(stats.source_errors);
    }
    for m in state.inner.breakers.metrics() {
        for candidate in [
            voxcal_circuit_breaker::State::Closed,
            voxcal_circuit_breaker::State::Open,
            voxcal_circuit_breaker::State::HalfOpen,
            voxcal_circuit_breaker::State::ForcedOpen,
            voxcal_circuit_breaker::State::Disabled,
        ] {
            metrics::gauge!(
                "circuit_breaker_state",
                "breaker" => m.name.to_string(),
                "state" => candidate.as_str()
            )
            .set(if m.state == candidate { 1.0 } else { 0.0 });
        }
    }
    match prometheus() {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "another metrics recorder is installed\n",
        )
            .into_response(),
    }
}
