//! `cargo run -p booking-service --release --example bare_route` — the load
//! benchmark's baseline: a bare axum route answering a JSON body of the same
//! size as the service's `check_availability` reply, with no layers.
#![allow(clippy::print_stdout)]

use axum::routing::post;
use axum::Router;

/// The same allocator as the service's binary, so the comparison measures
/// the stack, not the allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("BOOKING_BIND").unwrap_or_else(|_| "127.0.0.1:8081".to_owned());
    // Same shape and size class as a check_availability reply with three alternatives.
    let body: &'static str = Box::leak(
        serde_json::json!({
            "success": true,
            "status": "unavailable",
            "message": "Um 10 Uhr ist leider schon belegt. Ich kann Ihnen am Dienstag um halb zehn, am Dienstag um 11 Uhr oder am Mittwoch um halb zehn anbieten. Welcher Termin passt Ihnen besser?",
            "data": {"available": false, "slot": null, "alternatives": [
                {"date":"01.12.2026","end":"2026-12-01T09:00:00Z","service":"Beratung","spoken":"am Dienstag, dem 01.12., um 9:30 Uhr","start":"2026-12-01T08:30:00Z","time":"09:30"},
                {"date":"01.12.2026","end":"2026-12-01T10:30:00Z","service":"Beratung","spoken":"am Dienstag, dem 01.12., um 11 Uhr","start":"2026-12-01T10:00:00Z","time":"11:00"},
                {"date":"02.12.2026","end":"2026-12-02T09:00:00Z","service":"Beratung","spoken":"am Mittwoch, dem 02.12., um 9:30 Uhr","start":"2026-12-02T08:30:00Z","time":"09:30"}
            ]}
        })
        .to_string()
        .into_boxed_str(),
    );
    let app = Router::new().route(
        "/api/retell/function",
        post(move || async move { ([("content-type", "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("bare route listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
