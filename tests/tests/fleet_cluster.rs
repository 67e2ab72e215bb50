//! The fleet test (issue #10): three `booking-service` replicas as real
//! processes on one 3-master Redis Cluster, one Cal.com tenant pointed at a
//! fake Cal.com on loopback and one tenant on the demo calendar, driven by a
//! load generator with PII-laden calls and hostile input while faults are
//! injected on a schedule:
//!
//! 1. Cal.com answers 500 for 20 s, then recovers;
//! 2. Cal.com answers after 5 s (past the 2 s slots timeout) for 10 s;
//! 3. the Cluster master holding the breaker's state is killed and restarted;
//! 4. one replica is killed with SIGKILL and restarted on the same port.
//!
//! It asserts what issue #10 lists under "What must hold" and prints a
//! summary table with the figures. Sizes are set by the environment (see
//! [`Settings`]); `scripts/fleet` runs a bigger run by hand.
#![allow(clippy::print_stderr)]

mod fleet;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::{Datelike, Duration as Days, Weekday};
use fleet::fake_calcom::{FakeCalcom, Mode};
use fleet::replica::{rss_kib, Replica};
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

/// The tenant on the fake Cal.com and the one on the demo calendar.
const CALCOM: &str = "zahnarzt";
const DEMO: &str = "praxis";
const CALCOM_KEY: &str = "cal_live_fleetsecret_7f3a9c21d4e8b6";
const RETELL_KEY_CALCOM: &str = "key_fleet_retell_zahnarzt_5e1d9a";
const RETELL_KEY_DEMO: &str = "key_fleet_retell_praxis_c4b7f2";
const UNAVAILABLE: &str = "nicht verfügbar";
const REPLICAS: usize = 3;
/// The replica killed by fault 4.
const VICTIM: usize = 2;

/// Sizes and limits, from the environment.
#[derive(Debug, Clone)]
struct Settings {
    /// `FLEET_CALLS`: realistic calls in the run (default 1200).
    calls: usize,
    /// `FLEET_CONCURRENCY`: calls in flight at most (default 200).
    concurrency: usize,
    /// `FLEET_SCALE`: multiplies the calm phases between faults (default 1).
    scale: f64,
    /// `FLEET_FAKE_IDS`: distinct fake call ids sent (default 10 000).
    fake_ids: usize,
    /// `FLEET_LOG`: the replicas' `RUST_LOG` (default
    /// `info,booking_service=debug`: raw arguments reach the sanitizer).
    log_filter: String,
    /// `FLEET_REDIS_TIMEOUT_MS`: the limiter's per-decision Redis timeout
    /// (default 500; the service's default of 50 falls back to memory on a
    /// loaded 2-core machine, which would blur fleet-exactness).
    redis_timeout_ms: u64,
    /// `FLEET_MAX_RSS_MB`: the bound on each replica's resident memory
    /// (default 256).
    max_rss_mb: u64,
    /// `FLEET_OPEN_P99_MS`: p99 of "nicht verfügbar" replies while open
    /// (default 50).
    open_p99_ms: f64,
    /// `FLEET_STRICT_LATENCY=1` (the default in an optimized build, as
    /// `scripts/test` runs it): hold the open-breaker p99 to
    /// `FLEET_OPEN_P99_MS` even when the machine itself is slower. In a
    /// debug build the bound by default is the larger of that and 1.5 × the
    /// p99 of `list_services` answered in the same intervals + 50 ms: on a
    /// saturated machine both p99s are queueing, and the failure this
    /// guards against, replies waiting on Cal.com's timeouts, costs
    /// seconds more.
    strict_latency: bool,
    /// `FLEET_STRICT_BREAKER=1` (the default in an optimized build, as
    /// `scripts/test` runs it): hold the fleet to the issue's bound of
    /// 5 + 2 × half-open rounds requests to the failing Cal.com, including
    /// the requests replicas admit before they learn of the trip (by
    /// default those are reported, and only the requests after the trip
    /// has propagated are held to the probe limit). A trip now reaches
    /// every replica over Redis pub/sub within milliseconds, and optimized
    /// runs hold the bound with no overshoot (`scripts/fleet --release
    /// --strict`: 10, 10, 9 and 10 of 11). It is not the default of a debug
    /// build: there, on a saturated 2-core machine the first five failures
    /// take 0.2–0.5 s to come back and be counted, and the requests every
    /// replica admits meanwhile (closed, nothing known yet) exceed it
    /// (17, 21 and 32 of 11; 19 before the push existed) although the
    /// replicas opened within 7–45 ms of each other.
    strict_breaker: bool,
    /// `FLEET_LOG_DIR`: keep the replicas' logs and the report here.
    log_dir: Option<PathBuf>,
}

/// 1 in an optimized build (how `scripts/test` runs the fleet test): the
/// default of the strict checks, which describe the service rather than an
/// unoptimized build on a saturated machine.
const OPTIMIZED: u8 = if cfg!(debug_assertions) { 0 } else { 1 };

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            calls: env_or("FLEET_CALLS", 1200),
            concurrency: env_or("FLEET_CONCURRENCY", 200),
            scale: env_or("FLEET_SCALE", 1.0_f64).clamp(0.2, 20.0),
            fake_ids: env_or("FLEET_FAKE_IDS", 10_000),
            log_filter: std::env::var("FLEET_LOG")
                .unwrap_or_else(|_| "info,booking_service=debug".to_owned()),
            redis_timeout_ms: env_or("FLEET_REDIS_TIMEOUT_MS", 500),
            max_rss_mb: env_or("FLEET_MAX_RSS_MB", 256),
            open_p99_ms: env_or("FLEET_OPEN_P99_MS", 50.0),
            strict_latency: env_or("FLEET_STRICT_LATENCY", OPTIMIZED) == 1,
            strict_breaker: env_or("FLEET_STRICT_BREAKER", OPTIMIZED) == 1,
            log_dir: std::env::var_os("FLEET_LOG_DIR").map(PathBuf::from),
        }
    }
}

/// What the fleet is doing when a request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Phase {
    Calm = 0,
    Calcom500 = 1,
    CalcomSlow = 2,
    RedisDown = 3,
    ReplicaKilled = 4,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            1 => Phase::Calcom500,
            2 => Phase::CalcomSlow,
            3 => Phase::RedisDown,
            4 => Phase::ReplicaKilled,
            _ => Phase::Calm,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Phase::Calm => "calm",
            Phase::Calcom500 => "cal.com 500",
            Phase::CalcomSlow => "cal.com 5 s",
            Phase::RedisDown => "redis master down",
            Phase::ReplicaKilled => "replica killed",
        }
    }
}

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    /// A step of a realistic call.
    Normal,
    /// A looping agent: 30 concurrent requests of one function.
    Loop,
    /// A looping agent over three functions: 25 requests.
    Mixed,
    /// One of 10 000 distinct fake call ids.
    FakeId,
    InvalidJson,
    InvalidUtf8,
    DeepJson,
    BigBody,
    Xss,
    ForgedDigest,
    ForgedStale,
    ForgedMalformed,
    ForgedMissing,
    /// After the run: the checks that the fleet recovered.
    Recovery,
}

impl Kind {
    fn hostile(self) -> bool {
        !matches!(
            self,
            Kind::Normal | Kind::Loop | Kind::Mixed | Kind::FakeId | Kind::Recovery
        )
    }

    /// The HTTP statuses a hostile request may get.
    fn expected(self) -> &'static [u16] {
        match self {
            Kind::InvalidJson | Kind::InvalidUtf8 | Kind::DeepJson => &[400],
            Kind::BigBody => &[413, 0],
            Kind::Xss => &[200, 400, 404],
            Kind::ForgedDigest
            | Kind::ForgedStale
            | Kind::ForgedMalformed
            | Kind::ForgedMissing => &[401],
            Kind::FakeId => &[200],
            _ => &[200, 429],
        }
    }
}

/// How a request is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    Valid,
    WrongKey,
    Stale,
    Malformed,
    Missing,
}

/// One request and what came back.
#[derive(Debug, Clone)]
struct Sample {
    call_id: String,
    tenant: &'static str,
    function: &'static str,
    kind: Kind,
    phase: Phase,
    replica: usize,
    replica_gen: u32,
    /// HTTP status, 0 when no response arrived.
    status: u16,
    /// The reply's `status` field.
    reply: String,
    unavailable_sentence: bool,
    /// The reply says the booking's idempotency record could not be used
    /// (`data.idempotency_record == "unavailable"`: its Redis failed).
    record_unavailable: bool,
    booked: Option<Booked>,
    /// The reply echoed an XSS payload unescaped.
    reflected: bool,
    sent: Instant,
    latency: Duration,
    error: Option<String>,
}

#[derive(Debug, Clone)]
struct Booked {
    id: String,
    start: String,
    replay: bool,
}

/// A caller's personal data, all of it searched for in the logs.
#[derive(Debug, Clone)]
struct Person {
    name: String,
    email: String,
    phone: String,
}

const FIRST: [&str; 24] = [
    "Annegret",
    "Bertram",
    "Cordula",
    "Dietlinde",
    "Eberhard",
    "Friedhelm",
    "Gunhild",
    "Hartmut",
    "Irmtraud",
    "Jobst",
    "Kunigunde",
    "Leberecht",
    "Mechthild",
    "Notburga",
    "Ottokar",
    "Philippa",
    "Quirin",
    "Roswitha",
    "Sieghard",
    "Thusnelda",
    "Ulrike",
    "Volkmar",
    "Waltraud",
    "Zacharias",
];
const LAST: [&str; 24] = [
    "Quandtmeyer",
    "Riedlinger",
    "Schwarzkopf",
    "Tannhäuser",
    "Übelacker",
    "Vogelsang",
    "Wendehals",
    "Zwirnmann",
    "Ackermeier",
    "Brösamle",
    "Dörrbecker",
    "Eichelkraut",
    "Feuerstacke",
    "Grünewälder",
    "Hasenpfeffer",
    "Igelbrecht",
    "Jammerthal",
    "Kesselring",
    "Löwenherz",
    "Mückenhaupt",
    "Nesselrode",
    "Ochsenknecht",
    "Pfefferkorn",
    "Rübezahl",
];

impl Person {
    fn new(i: usize) -> Person {
        let first = FIRST[i % FIRST.len()];
        let last = LAST[(i / FIRST.len() + i * 7) % LAST.len()];
        Person {
            name: format!("{first} {last}"),
            email: format!("kunde{i}.{}@fleet-mail.de", first.to_lowercase()),
            phone: format!("0151 {:08}", 23_000_000 + i * 37),
        }
    }

    /// Every form the log must not contain.
    fn needles(&self) -> Vec<String> {
        let digits: String = self.phone.chars().filter(char::is_ascii_digit).collect();
        vec![
            self.name.clone(),
            self.email.clone(),
            self.phone.clone(),
            digits.clone(),
            format!("+49{}", &digits[1..]),
        ]
    }
}

/// Retries of a booked `book_appointment` on another replica: sent,
/// replayed with the caller's own booking id, answered with another booking
/// (a double booking), answered `slot_taken` (the caller's own slot).
static RETRIES: AtomicUsize = AtomicUsize::new(0);
static RETRY_REPLAYS: AtomicUsize = AtomicUsize::new(0);
static RETRY_OTHER_BOOKING: AtomicUsize = AtomicUsize::new(0);
static RETRY_SLOT_TAKEN: AtomicUsize = AtomicUsize::new(0);
/// `slot_taken` of a retry where a reply says the shared record could not
/// be used (Redis down or failing over).
static RETRY_SLOT_TAKEN_REDIS_DOWN: AtomicUsize = AtomicUsize::new(0);

/// Shared by the generator, the fault schedule and the samplers.
struct Fleet {
    client: reqwest::Client,
    addrs: Vec<SocketAddr>,
    generations: Vec<AtomicU32>,
    phase: AtomicU8,
    rr: AtomicUsize,
    samples: Mutex<Vec<Sample>>,
    /// Fault events by name, in order.
    events: Mutex<Vec<(&'static str, Instant)>>,
    people: Mutex<HashMap<String, Person>>,
}

impl Fleet {
    fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::SeqCst))
    }

    fn set_phase(&self, phase: Phase, event: &'static str) {
        self.phase.store(phase as u8, Ordering::SeqCst);
        self.event(event);
    }

    fn event(&self, event: &'static str) {
        self.events.lock().push((event, Instant::now()));
    }

    fn next_replica(&self) -> usize {
        self.rr.fetch_add(1, Ordering::Relaxed) % REPLICAS
    }
}

/// One request to send.
struct Req {
    call_id: String,
    tenant: &'static str,
    function: &'static str,
    body: Vec<u8>,
    signing: Signing,
    kind: Kind,
    replica: Option<usize>,
}

impl Req {
    fn call(
        call_id: &str,
        tenant: &'static str,
        function: &'static str,
        args: Value,
        kind: Kind,
    ) -> Req {
        let body = json!({"call": {"call_id": call_id}, "name": function, "args": args});
        Req {
            call_id: call_id.to_owned(),
            tenant,
            function,
            body: body.to_string().into_bytes(),
            signing: Signing::Valid,
            kind,
            replica: None,
        }
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

async fn send(fleet: &Fleet, req: Req) -> Sample {
    let replica = req.replica.unwrap_or_else(|| fleet.next_replica());
    let replica_gen = fleet.generations[replica].load(Ordering::SeqCst);
    let phase = fleet.phase();
    let url = format!("http://{}/api/retell/function", fleet.addrs[replica]);
    let key = if req.tenant == CALCOM {
        RETELL_KEY_CALCOM
    } else {
        RETELL_KEY_DEMO
    };
    let mut builder = fleet
        .client
        .post(url)
        .header("content-type", "application/json")
        .header("x-tenant-id", req.tenant);
    let signature = match req.signing {
        Signing::Valid => Some(booking_service::sign(key, &req.body, now_ms())),
        Signing::WrongKey => Some(booking_service::sign("key_forged", &req.body, now_ms())),
        Signing::Stale => Some(booking_service::sign(key, &req.body, now_ms() - 600_000)),
        Signing::Malformed => Some("v=yesterday,d=zz".to_owned()),
        Signing::Missing => None,
    };
    if let Some(signature) = signature {
        builder = builder.header("x-retell-signature", signature);
    }
    let sent = Instant::now();
    let result = async {
        let response = builder.body(req.body).send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, bytes))
    }
    .await;
    let latency = sent.elapsed();
    let mut sample = Sample {
        call_id: req.call_id,
        tenant: req.tenant,
        function: req.function,
        kind: req.kind,
        phase,
        replica,
        replica_gen,
        status: 0,
        reply: String::new(),
        unavailable_sentence: false,
        record_unavailable: false,
        booked: None,
        reflected: false,
        sent,
        latency,
        error: None,
    };
    match result {
        Ok((status, bytes)) => {
            sample.status = status;
            let text = String::from_utf8_lossy(&bytes);
            let lower = text.to_lowercase();
            sample.reflected = lower.contains("<script") || lower.contains("onerror=");
            if let Ok(reply) = serde_json::from_slice::<Value>(&bytes) {
                sample.reply = reply["status"].as_str().unwrap_or_default().to_owned();
                sample.record_unavailable = reply["data"]["idempotency_record"] == "unavailable";
                sample.unavailable_sentence = reply["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(UNAVAILABLE));
                if sample.reply == "booked" {
                    sample.booked = Some(Booked {
                        id: reply["data"]["booking_id"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        start: reply["data"]["slot"]["start"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        replay: reply["data"]["idempotent_replay"] == true,
                    });
                }
            }
        }
        Err(e) => sample.error = Some(e.to_string()),
    }
    fleet.samples.lock().push(sample.clone());
    sample
}

/// A date and time the caller asks for: a weekday 3 to 60 days ahead,
/// between 09:00 and 16:30 local time.
fn wish(i: usize) -> (String, String) {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive();
    let mut day = today + Days::days(3 + i64::try_from((i * 7) % 58).unwrap());
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day += Days::days(1);
    }
    let slot = (i * 5) % 16;
    (
        day.format("%d.%m.%Y").to_string(),
        format!("{:02}:{:02}", 9 + slot / 2, (slot % 2) * 30),
    )
}

async fn think(i: usize) {
    tokio::time::sleep(Duration::from_millis(
        50 + u64::try_from((i * 31) % 150).unwrap(),
    ))
    .await;
}

/// One realistic call (or a looping agent), by its number.
async fn run_call(fleet: Arc<Fleet>, i: usize) {
    let tenant = if i.is_multiple_of(2) { CALCOM } else { DEMO };
    let person = Person::new(i);
    let call_id = format!("call_fleet_{i:05}");
    fleet.people.lock().insert(call_id.clone(), person.clone());
    let (datum, uhrzeit) = wish(i);
    match i % 20 {
        18 => {
            let tasks: Vec<_> = (0..30)
                .map(|_| {
                    let fleet = Arc::clone(&fleet);
                    let args =
                        json!({"datum": datum, "uhrzeit": uhrzeit, "dienstleistung": "Beratung"});
                    let req = Req::call(&call_id, tenant, "check_availability", args, Kind::Loop);
                    tokio::spawn(async move { send(&fleet, req).await })
                })
                .collect();
            for t in tasks {
                let _ = t.await;
            }
        }
        19 => {
            let functions = ["list_services", "get_opening_hours", "find_next_available"];
            for n in 0..25 {
                let args = json!({"dienstleistung": "Beratung"});
                send(
                    &fleet,
                    Req::call(&call_id, tenant, functions[n % 3], args, Kind::Mixed),
                )
                .await;
            }
        }
        14..=17 => {
            let steps: [(&'static str, Value); 4] = [
                ("list_services", json!({})),
                ("get_opening_hours", json!({})),
                ("find_next_available", json!({"dienstleistung": "Beratung"})),
                (
                    "get_alternatives",
                    json!({"datum": datum, "uhrzeit": uhrzeit, "dienstleistung": "Beratung"}),
                ),
            ];
            for (function, args) in steps {
                send(
                    &fleet,
                    Req::call(&call_id, tenant, function, args, Kind::Normal),
                )
                .await;
                think(i).await;
            }
        }
        _ => booking_call(&fleet, i, tenant, &call_id, &person, datum, uhrzeit).await,
    }
}

/// check_availability → collect_appointment → confirmed collect_appointment,
/// moving to the first alternative when the wish is taken.
async fn booking_call(
    fleet: &Fleet,
    i: usize,
    tenant: &'static str,
    call_id: &str,
    person: &Person,
    datum: String,
    uhrzeit: String,
) {
    let check = json!({"datum": datum, "uhrzeit": uhrzeit, "dienstleistung": "Beratung"});
    let first = send(
        fleet,
        Req::call(call_id, tenant, "check_availability", check, Kind::Normal),
    )
    .await;
    let (mut datum, mut uhrzeit) = (datum, uhrzeit);
    match first.reply.as_str() {
        "available" => {}
        "unavailable" => {
            // Ask again for the first alternative's date and time.
            let (d, t) = wish(i + 1);
            datum = d;
            uhrzeit = t;
        }
        _ => return,
    }
    think(i).await;
    let details = json!({"datum": datum, "uhrzeit": uhrzeit, "dienstleistung": "Beratung",
                         "name": person.name, "telefonnummer": person.phone, "email": person.email});
    let collected = send(
        fleet,
        Req::call(
            call_id,
            tenant,
            "collect_appointment",
            details.clone(),
            Kind::Normal,
        ),
    )
    .await;
    if collected.reply != "awaiting_confirmation" {
        return;
    }
    think(i).await;
    let mut confirm = details;
    confirm["bestaetigung"] = json!(true);
    let booked = send(
        fleet,
        Req::call(
            call_id,
            tenant,
            "collect_appointment",
            confirm.clone(),
            Kind::Normal,
        ),
    )
    .await;
    if booked.reply == "booked" && tenant == CALCOM {
        // Retell retries a function call whose answer it missed: the same
        // booking on another replica replays it (the record is in Redis).
        let own = booked.booked.as_ref().map(|b| b.id.clone());
        let mut retry = Req::call(call_id, tenant, "book_appointment", confirm, Kind::Normal);
        retry.replica = Some((booked.replica + 1) % REPLICAS);
        let again = send(fleet, retry).await;
        RETRIES.fetch_add(1, Ordering::Relaxed);
        match again.reply.as_str() {
            "booked" if again.booked.as_ref().map(|b| b.id.clone()) == own => {
                RETRY_REPLAYS.fetch_add(1, Ordering::Relaxed);
            }
            "booked" => {
                RETRY_OTHER_BOOKING.fetch_add(1, Ordering::Relaxed);
            }
            // When the replica could not use the shared record (Redis
            // down or failing over: the first attempt could not store it,
            // or the retry could not read it, as the replies say), the
            // retry books without it, Cal.com refuses the taken slot, and
            // the retry must find the call's own booking there. Counted
            // apart, and a failure as much as the other slot_taken.
            "slot_taken" if booked.record_unavailable || again.record_unavailable => {
                RETRY_SLOT_TAKEN_REDIS_DOWN.fetch_add(1, Ordering::Relaxed);
            }
            "slot_taken" => {
                eprintln!(
                    "retry slot_taken: first on replica {} in {:?}, retry on {} in {:?}",
                    booked.replica, booked.phase, again.replica, again.phase
                );
                RETRY_SLOT_TAKEN.fetch_add(1, Ordering::Relaxed);
            }
            // Outages and restarts of the fault phases: no answer to judge.
            _ => {}
        }
        return;
    }
    if booked.reply == "slot_taken" {
        let (d, t) = wish(i + 3);
        let args = json!({"datum": d, "uhrzeit": t, "dienstleistung": "Beratung",
                          "name": person.name, "telefonnummer": person.phone, "email": person.email});
        send(
            fleet,
            Req::call(call_id, tenant, "book_appointment", args, Kind::Normal),
        )
        .await;
    }
}

/// The hostile requests of one round `j`.
fn hostile(j: usize) -> Req {
    let call_id = format!("call_hostile_{j:05}");
    let xss = [
        "<script>alert('fleet')</script>",
        "\"><img src=x onerror=alert(1)>",
        "javascript:alert(document.cookie)",
        "<svg/onload=alert(1)>",
    ][j % 4];
    match (j / 4) % 9 {
        0 => {
            let mut req = Req::call(
                &call_id,
                DEMO,
                "check_availability",
                json!({}),
                Kind::InvalidJson,
            );
            req.body = format!("{{\"call\":{{\"call_id\":\"{call_id}\"}},\"name\":\"check_availability\",\"args\":{{\"datum\":").into_bytes();
            req
        }
        1 => {
            let mut req = Req::call(
                &call_id,
                DEMO,
                "check_availability",
                json!({}),
                Kind::InvalidUtf8,
            );
            let mut body = format!("{{\"call\":{{\"call_id\":\"{call_id}\"}},\"name\":\"check_availability\",\"args\":{{\"name\":\"").into_bytes();
            body.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1]);
            body.extend_from_slice(b"\"}}");
            req.body = body;
            req
        }
        2 => {
            let mut req = Req::call(
                &call_id,
                DEMO,
                "check_availability",
                json!({}),
                Kind::DeepJson,
            );
            let depth = 20_000;
            req.body = format!(
                "{{\"call\":{{\"call_id\":\"{call_id}\"}},\"name\":\"check_availability\",\"args\":{}{}}}",
                "[".repeat(depth),
                "]".repeat(depth)
            )
            .into_bytes();
            req
        }
        3 => {
            let args = json!({"datum": xss, "uhrzeit": xss, "dienstleistung": xss, "name": xss,
                              "telefonnummer": xss, "email": xss, "bestaetigung": xss,
                              "booking_id": xss});
            let function = [
                "collect_appointment",
                "check_availability",
                "book_appointment",
                "cancel_appointment",
            ][j % 4];
            Req::call(
                &format!("{call_id}{xss}"),
                if j.is_multiple_of(2) { DEMO } else { CALCOM },
                function,
                args,
                Kind::Xss,
            )
        }
        4 => {
            let mut req = Req::call(
                &call_id,
                CALCOM,
                "list_services",
                json!({}),
                Kind::ForgedDigest,
            );
            req.signing = Signing::WrongKey;
            req
        }
        5 => {
            let mut req = Req::call(
                &call_id,
                DEMO,
                "list_services",
                json!({}),
                Kind::ForgedStale,
            );
            req.signing = Signing::Stale;
            req
        }
        6 => {
            let mut req = Req::call(
                &call_id,
                CALCOM,
                "list_services",
                json!({}),
                Kind::ForgedMalformed,
            );
            req.signing = Signing::Malformed;
            req
        }
        7 => {
            let mut req = Req::call(
                &call_id,
                DEMO,
                "list_services",
                json!({}),
                Kind::ForgedMissing,
            );
            req.signing = Signing::Missing;
            req
        }
        _ => {
            let mut req = Req::call(
                &call_id,
                DEMO,
                "check_availability",
                json!({}),
                Kind::BigBody,
            );
            let mut body = format!("{{\"call\":{{\"call_id\":\"{call_id}\"}},\"name\":\"check_availability\",\"args\":{{\"name\":\"").into_bytes();
            body.resize(10 * 1024 * 1024, b'a');
            body.extend_from_slice(b"\"}}");
            req.body = body;
            req
        }
    }
}

/// Breaker state as the Cluster holds it: (when, state, generation, open until ms).
type BreakerPoll = (Instant, u8, u64, i64);

/// Transitions between polled states: (when, from, to). Generations count
/// every transition, so jumps between polls are filled in along the only
/// path the breaker can take (closed → open → half-open → open | closed).
fn transitions(polls: &[BreakerPoll]) -> Vec<(Instant, u8, u8)> {
    let mut out = Vec::new();
    for pair in polls.windows(2) {
        let (_, s0, g0, _) = pair[0];
        let (t1, s1, g1, _) = pair[1];
        if g1 <= g0 {
            continue;
        }
        let steps = g1 - g0;
        let mut cur = s0;
        for k in 0..steps {
            let last = k + 1 == steps;
            let next = match cur {
                0 => 1,
                1 => 2,
                _ if last => s1,
                _ => {
                    // From half-open: closing needs the rest to end closed
                    // (closed → open → ...); failing probes reopen.
                    if s1 == 0 && (steps - k - 1) % 3 == 0 {
                        0
                    } else {
                        1
                    }
                }
            };
            out.push((t1, cur, next));
            cur = next;
        }
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The value of every metric line starting with `prefix`, by its labels.
fn metric_lines(text: &str, prefix: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The bearer token of the replicas' admin routes (`/metrics`,
/// `/api/health/detailed`) on their public port.
const ADMIN_TOKEN: &str = "fleet-admin-token-0123456789";
/// The Cal.com tenant's webhook secret (`calcom_webhook_secret_env`).
const CALCOM_WEBHOOK_SECRET: &str = "whsec_fleet_3b8e1f0a6c";
/// The call id the fake Cal.com records for a booking made on the website.
const WEBSITE: &str = "website";

/// `GET url` with the admin token (the admin routes need it, the others
/// ignore it).
async fn get_text(client: &reqwest::Client, url: String) -> (u16, String) {
    match client.get(url).bearer_auth(ADMIN_TOKEN).send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}

fn config_toml(
    cluster_nodes: &[String],
    prefix: &str,
    fake: &str,
    redis_timeout_ms: u64,
) -> String {
    let nodes: Vec<String> = cluster_nodes.iter().map(|n| format!("\"{n}\"")).collect();
    format!(
        r#"bind = "127.0.0.1:0"
max_body_bytes = 65536
request_timeout_ms = 10000

# A restarted replica binds its old port again, so no second listener:
# the admin routes are on the public port, behind the token.
[admin]
bind = "off"
token_env = "FLEET_ADMIN_TOKEN"

[redis]
cluster_nodes = [{nodes}]
prefix = "{prefix}"
timeout_ms = {redis_timeout_ms}

[calcom_breaker]
consecutive_failures = 5
open_seconds = 5

[[tenants]]
id = "{CALCOM}"
name = "Zahnarztpraxis Fleet"
time_zone = "Europe/Berlin"
calendar = "calcom"
api_key_env = "FLEET_CALCOM_KEY"
base_url = "{fake}"
retell_api_key_env = "FLEET_RETELL_KEY_ZAHNARZT"
calcom_webhook_secret_env = "FLEET_CALCOM_WEBHOOK_SECRET"

[tenants.hours]
mon = ["09:00-17:00"]
tue = ["09:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]

[[tenants.services]]
event_type = "beratung"
name = "Beratung"
duration_minutes = 30
event_type_id = 42

[[tenants]]
id = "{DEMO}"
name = "Praxis Fleet"
time_zone = "Europe/Berlin"
calendar = "demo"
retell_api_key_env = "FLEET_RETELL_KEY_PRAXIS"

[[tenants.services]]
event_type = "beratung"
name = "Beratung"
duration_minutes = 30
"#,
        nodes = nodes.join(", ")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_on_redis_cluster_under_load_faults_and_hostile_input() {
    let settings = Settings::from_env();
    let began = Instant::now();
    let began_ms = now_ms();
    let scaled = |secs: f64| Duration::from_secs_f64(secs * settings.scale);

    let cluster = tokio::task::spawn_blocking(testkit::RedisCluster::start)
        .await
        .unwrap();
    let cluster = Arc::new(std::sync::Mutex::new(cluster));
    let nodes = cluster.lock().unwrap().urls();
    let prefix = testkit::unique_prefix();
    let fake = FakeCalcom::start(Duration::from_secs(5)).await;

    let temp = tempfile_dir();
    let log_dir = settings.log_dir.clone().unwrap_or_else(|| temp.clone());
    std::fs::create_dir_all(&log_dir).unwrap();
    let config_path = temp.join("fleet.toml");
    std::fs::write(
        &config_path,
        config_toml(&nodes, &prefix, &fake.url(), settings.redis_timeout_ms),
    )
    .unwrap();
    let env = vec![
        ("FLEET_CALCOM_KEY".to_owned(), CALCOM_KEY.to_owned()),
        (
            "FLEET_RETELL_KEY_ZAHNARZT".to_owned(),
            RETELL_KEY_CALCOM.to_owned(),
        ),
        (
            "FLEET_RETELL_KEY_PRAXIS".to_owned(),
            RETELL_KEY_DEMO.to_owned(),
        ),
        ("FLEET_ADMIN_TOKEN".to_owned(), ADMIN_TOKEN.to_owned()),
        (
            "FLEET_CALCOM_WEBHOOK_SECRET".to_owned(),
            CALCOM_WEBHOOK_SECRET.to_owned(),
        ),
        ("RUST_LOG".to_owned(), settings.log_filter.clone()),
        ("LOG_FORMAT".to_owned(), "text".to_owned()),
    ];
    let replicas: Vec<Replica> = {
        let (config_path, log_dir) = (config_path.clone(), log_dir.clone());
        tokio::task::spawn_blocking(move || {
            (0..REPLICAS)
                .map(|i| Replica::start(i, &config_path, &log_dir, env.clone()))
                .collect()
        })
        .await
        .unwrap()
    };
    let addrs: Vec<SocketAddr> = replicas.iter().map(|r| r.addr).collect();
    let pids = Arc::new(Mutex::new(
        replicas.iter().map(Replica::pid).collect::<Vec<_>>(),
    ));
    let replicas = Arc::new(std::sync::Mutex::new(replicas));

    let fleet = Arc::new(Fleet {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        addrs: addrs.clone(),
        generations: (0..REPLICAS).map(|_| AtomicU32::new(1)).collect(),
        phase: AtomicU8::new(Phase::Calm as u8),
        rr: AtomicUsize::new(0),
        samples: Mutex::new(Vec::new()),
        events: Mutex::new(Vec::new()),
        people: Mutex::new(HashMap::new()),
    });
    let done = Arc::new(AtomicBool::new(false));

    // RSS sampler.
    let rss_max = Arc::new(Mutex::new(vec![0_u64; REPLICAS]));
    let rss_task = {
        let (pids, rss_max, done) = (Arc::clone(&pids), Arc::clone(&rss_max), Arc::clone(&done));
        tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let now: Vec<Option<u32>> = pids.lock().clone();
                for (i, pid) in now.iter().enumerate() {
                    if let Some(kib) = pid.and_then(rss_kib) {
                        let mut max = rss_max.lock();
                        max[i] = max[i].max(kib);
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    // Breaker state poller, straight from the Cluster.
    let breaker_key = format!("{prefix}:cb:{{calcom:{CALCOM}}}:state");
    let polls: Arc<Mutex<Vec<BreakerPoll>>> = Arc::new(Mutex::new(Vec::new()));
    let poll_task = {
        let (polls, done, key) = (Arc::clone(&polls), Arc::clone(&done), breaker_key.clone());
        let client = redis::cluster::ClusterClientBuilder::new(nodes.clone())
            .connection_timeout(Duration::from_millis(200))
            .response_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        tokio::spawn(async move {
            let mut conn = client.get_async_connection().await.ok();
            while !done.load(Ordering::Relaxed) {
                if conn.is_none() {
                    conn = client.get_async_connection().await.ok();
                }
                if let Some(c) = conn.as_mut() {
                    let got: redis::RedisResult<(Option<u8>, Option<u64>, Option<i64>)> =
                        redis::cmd("HMGET")
                            .arg(&key)
                            .arg("st")
                            .arg("g")
                            .arg("until")
                            .query_async(c)
                            .await;
                    if let Ok((Some(st), Some(g), until)) = got {
                        polls
                            .lock()
                            .push((Instant::now(), st, g, until.unwrap_or(0)));
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    // The fault schedule.
    let load_time = scaled(6.0)
        + Duration::from_secs(20)
        + scaled(8.0)
        + Duration::from_secs(10)
        + scaled(6.0)
        + Duration::from_secs(6)
        + scaled(8.0)
        + scaled(8.0);
    let replica2_metrics = Arc::new(Mutex::new(String::new()));
    let schedule = tokio::spawn(fault_schedule(Faults {
        fleet: Arc::clone(&fleet),
        fake: fake.clone(),
        cluster: Arc::clone(&cluster),
        replicas: Arc::clone(&replicas),
        pids: Arc::clone(&pids),
        victim_metrics: Arc::clone(&replica2_metrics),
        breaker_key: breaker_key.clone(),
        scale: settings.scale,
    }));

    // Hostile input, spread over the run.
    let hostile_task = tokio::spawn(hostile_load(
        Arc::clone(&fleet),
        settings.fake_ids,
        load_time,
    ));

    // The calls, started evenly over the run.
    let gate = Arc::new(Semaphore::new(settings.concurrency));
    let spacing = load_time.div_f64(settings.calls.max(1) as f64 * 1.05);
    let start = tokio::time::Instant::now();
    let mut calls = Vec::with_capacity(settings.calls);
    for i in 0..settings.calls {
        tokio::time::sleep_until(start + spacing.mul_f64(i as f64)).await;
        let permit = Arc::clone(&gate).acquire_owned().await.unwrap();
        let fleet = Arc::clone(&fleet);
        calls.push(tokio::spawn(async move {
            run_call(fleet, i).await;
            drop(permit);
        }));
    }
    for c in calls {
        c.await.unwrap();
    }
    hostile_task.await.unwrap();
    schedule.await.unwrap();
    fleet.event("load_end");
    let load_secs = began.elapsed().as_secs_f64();

    let (recovered, final_loop) = recover(&fleet).await;
    let website = website_booking(&fleet, &fake, &nodes, &prefix).await;

    // Figures from the replicas themselves.
    let mut metrics = Vec::new();
    let mut health = Vec::new();
    for addr in &addrs {
        metrics.push(
            get_text(&fleet.client, format!("http://{addr}/metrics"))
                .await
                .1,
        );
        health.push(get_text(&fleet.client, format!("http://{addr}/api/health/detailed")).await);
    }
    done.store(true, Ordering::Relaxed);
    rss_task.await.unwrap();
    poll_task.await.unwrap();
    let exits: Vec<Option<std::process::ExitStatus>> = {
        let replicas = Arc::clone(&replicas);
        tokio::task::spawn_blocking(move || {
            replicas
                .lock()
                .unwrap()
                .iter_mut()
                .map(Replica::stop)
                .collect()
        })
        .await
        .unwrap()
    };

    let outcome = Outcome {
        settings: settings.clone(),
        began,
        began_ms,
        samples: fleet.samples.lock().clone(),
        people: fleet.people.lock().clone(),
        polls: polls.lock().clone(),
        received: fake.received(),
        fake_bookings: fake.bookings(),
        slot_taken: fake.slot_taken(),
        events: fleet.events.lock().clone(),
        metrics,
        victim_metrics: replica2_metrics.lock().clone(),
        health,
        exits,
        rss: rss_max.lock().clone(),
        log_dir: log_dir.clone(),
        final_loop,
        recovered,
        website,
    };
    let mut failures: Vec<String> = Vec::new();
    let mut report = String::new();
    let _ = writeln!(
        report,
        "\n=== fleet test: 3 replicas, 3-master Redis Cluster, {} calls, {} fake call ids, scale {} ===",
        settings.calls, settings.fake_ids, settings.scale
    );
    let _ = writeln!(
        report,
        "load phase {load_secs:.1} s, total {:.1} s",
        began.elapsed().as_secs_f64()
    );
    outcome.report_requests(&mut report);
    outcome.check_limits(&mut failures, &mut report);
    outcome.check_breaker(&mut failures, &mut report);
    outcome.check_bookings(&mut failures, &mut report);
    outcome.check_answers(&mut failures, &mut report);
    outcome.check_logs(&mut failures, &mut report);
    outcome.check_outage(&mut failures, &mut report);
    outcome.check_website_booking(&mut failures, &mut report);
    outcome.figures(&mut report);
    let _ = writeln!(report, "\n-- verdict: {} failure(s) --", failures.len());
    for f in failures.iter().take(40) {
        let _ = writeln!(report, "FAIL {f}");
    }
    eprintln!("{report}");
    let _ = std::fs::write(log_dir.join("fleet-report.txt"), &report);
    if settings.log_dir.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    drop(cluster);
    assert!(
        failures.is_empty(),
        "{} failure(s), first: {}",
        failures.len(),
        failures[0]
    );
}

/// Everything a run left behind, for the checks.
struct Outcome {
    /// The booking made on the website and Cal.com's webhook about it.
    website: WebsiteBooking,
    settings: Settings,
    began: Instant,
    began_ms: i64,
    samples: Vec<Sample>,
    people: HashMap<String, Person>,
    polls: Vec<BreakerPoll>,
    received: Vec<fleet::fake_calcom::Received>,
    fake_bookings: Vec<fleet::fake_calcom::FakeBooking>,
    slot_taken: u64,
    events: Vec<(&'static str, Instant)>,
    /// `/metrics` of each replica at the end.
    metrics: Vec<String>,
    /// `/metrics` of the killed replica just before its SIGKILL.
    victim_metrics: String,
    /// `/api/health/detailed` of each replica at the end.
    health: Vec<(u16, String)>,
    exits: Vec<Option<std::process::ExitStatus>>,
    /// Largest resident set per replica, KiB.
    rss: Vec<u64>,
    log_dir: PathBuf,
    final_loop: Vec<Sample>,
    recovered: Option<Duration>,
}

impl Outcome {
    fn at(&self, name: &str) -> Instant {
        self.events
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .unwrap_or_else(|| panic!("event {name} missing"))
    }

    /// Requests served, by HTTP status.
    fn report_requests(&self, report: &mut String) {
        let Outcome { samples, .. } = self;
        // Requests served.
        let served = samples.iter().filter(|s| s.status != 0).count();
        let no_answer = samples.iter().filter(|s| s.status == 0).count();
        let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
        for s in samples {
            *by_status.entry(s.status).or_default() += 1;
        }
        let _ = writeln!(
            report,
            "\n-- requests --\nsent {}  answered {served}  no answer {no_answer}",
            samples.len()
        );
        let _ = writeln!(report, "by HTTP status: {by_status:?}");
    }

    /// Limits are fleet-exact: counted from the replicas' answers, per call id.
    fn check_limits(&self, failures: &mut Vec<String>, report: &mut String) {
        let Outcome {
            samples,
            final_loop,
            ..
        } = self;
        // 1. Limits are fleet-exact.
        let outage = (
            self.at("redis_kill"),
            self.at("redis_ok") + Duration::from_secs(1),
        );
        let kill = (self.at("replica_kill"), self.at("replica_ready"));
        let overlaps = |calls: &[&Sample], (a, b): (Instant, Instant)| {
            calls.iter().any(|s| s.sent <= b && s.sent + s.latency >= a)
        };
        let mut per_call: HashMap<&str, Vec<&Sample>> = HashMap::new();
        for s in samples.iter().filter(|s| !s.kind.hostile()) {
            per_call.entry(s.call_id.as_str()).or_default().push(s);
        }
        let admitted = |s: &Sample| !matches!(s.status, 0 | 401 | 413 | 429);
        let mut limit_checked = 0;
        let mut limit_exempt = 0;
        let mut exact_checked = 0;
        let mut outage_excess = Vec::new();
        for (call, list) in &per_call {
            let ok: Vec<&Sample> = list.iter().copied().filter(|s| admitted(s)).collect();
            let mut per_fn: HashMap<&str, usize> = HashMap::new();
            for s in &ok {
                *per_fn.entry(s.function).or_default() += 1;
            }
            let worst_fn = per_fn.values().copied().max().unwrap_or(0);
            let first = list.iter().map(|s| s.sent).min().unwrap();
            let last = list.iter().map(|s| s.sent + s.latency).max().unwrap();
            let within_minute = last - first < Duration::from_secs(60);
            let bad = worst_fn > 10 || ok.len() > 50 || (within_minute && ok.len() > 20);
            if overlaps(list, outage) {
                limit_exempt += 1;
                // Counted in each replica's memory meanwhile, and from zero
                // again in the restarted master: bounded, not unlimited.
                let k = REPLICAS + 2;
                if worst_fn > 10 * k || ok.len() > 50 * k {
                    failures.push(format!(
                        "limits: call {call} had {} admitted ({worst_fn} of one function) across the Redis outage, more than the fallback allows ({} / {})",
                        ok.len(),
                        10 * k,
                        50 * k
                    ));
                }
                if bad {
                    outage_excess.push(format!(
                        "{call}: {} admitted, {worst_fn} of one function",
                        ok.len()
                    ));
                }
                continue;
            }
            limit_checked += 1;
            if bad {
                failures.push(format!(
                    "limits: call {call} had {} admitted ({worst_fn} of one function) outside the Redis outage",
                    ok.len()
                ));
            }
            // Looping agents outside every fault that touches admission are
            // stopped exactly at the limit.
            if !overlaps(list, kill) && list.iter().all(|s| s.status != 0) {
                let kind = list[0].kind;
                let expected = match kind {
                    Kind::Loop => Some(10),
                    Kind::Mixed => Some(20),
                    _ => None,
                };
                if let Some(expected) = expected {
                    exact_checked += 1;
                    if ok.len() != expected {
                        failures.push(format!(
                            "limits: looping call {call} ({kind:?}) got {} admitted, expected exactly {expected}",
                            ok.len()
                        ));
                    }
                }
            }
        }
        let final_admitted = final_loop.iter().filter(|s| s.status == 200).count();
        let final_limited = final_loop.iter().filter(|s| s.status == 429).count();
        if (final_admitted, final_limited) != (10, 20) {
            failures.push(format!(
                "limits after recovery: a looping call got {final_admitted} × 200 and {final_limited} × 429, expected 10 and 20"
            ));
        }
        let _ = writeln!(
            report,
            "\n-- limits (from responses) --\ncalls checked {limit_checked} (exact looping agents {exact_checked}), overlapping the Redis outage {limit_exempt} (over a limit there, counted per replica in memory: {} {:?})\nafter recovery: looping call 30 requests → {final_admitted} admitted, {final_limited} rejected",
            outage_excess.len(),
            outage_excess.iter().take(3).collect::<Vec<_>>()
        );
    }

    /// The breaker is coordinated: requests reaching the failing Cal.com, and how fast callers hear the sentence while it is open.
    fn check_breaker(&self, failures: &mut Vec<String>, report: &mut String) {
        let Outcome {
            settings,
            samples,
            polls,
            received,
            metrics,
            ..
        } = self;
        // 2. The breaker is coordinated.
        let f1 = (self.at("calcom_500_start"), self.at("calcom_500_end"));
        let all_transitions = transitions(polls);
        let in_f1 = |t: Instant| t >= f1.0 && t <= f1.1 + Duration::from_millis(100);
        let opened = all_transitions
            .iter()
            .filter(|(t, a, b)| in_f1(*t) && *a == 0 && *b == 1)
            .count();
        let rounds = all_transitions
            .iter()
            .filter(|(t, a, b)| in_f1(*t) && *a == 1 && *b == 2)
            .count();
        let failing = received.iter().filter(|r| r.mode == Mode::Error500).count();
        let bound = 5 * opened + 2 * rounds;
        if opened == 0 {
            failures.push(format!(
                "breaker: never opened during fault 1 ({failing} requests reached the failing Cal.com)"
            ));
        }
        // Replicas admit on their local breaker while it is closed. A trip
        // by another replica is pushed to them over Redis pub/sub within
        // milliseconds (polling every 250 ms, every 25 ms once the fleet has
        // counted failures, is the fallback): requests admitted before that,
        // or before the fifth failure came back at all, reach Cal.com.
        // After it, only half-open probes may.
        let propagation = Duration::from_millis(400);
        let first_open = all_transitions
            .iter()
            .find(|(t, a, b)| in_f1(*t) && *a == 0 && *b == 1)
            .map(|(t, _, _)| *t);
        let (trip, after_trip) = match first_open {
            Some(t) => {
                let trip = received
                    .iter()
                    .filter(|r| r.mode == Mode::Error500 && r.at < t + propagation)
                    .count();
                (trip, failing - trip)
            }
            None => (failing, 0),
        };
        let overshoot = trip.saturating_sub(5);
        if settings.strict_breaker && failing > bound {
            failures.push(format!(
                "breaker: the fleet sent {failing} requests to the failing Cal.com, more than 5 × {opened} opens + 2 × {rounds} half-open rounds = {bound} ({trip} before the trip reached every replica)"
            ));
        }
        if after_trip > 2 * rounds + 5 * opened.saturating_sub(1) {
            failures.push(format!(
                "breaker: {after_trip} requests reached the failing Cal.com after the trip had propagated, more than 2 × {rounds} half-open rounds (+ 5 per further open cycle)"
            ));
        }
        // "nicht verfügbar" latency while the shared state is open.
        let state_at = |t: Instant| -> Option<(u8, i64)> {
            let i = polls.partition_point(|p| p.0 <= t);
            (i > 0).then(|| (polls[i - 1].1, polls[i - 1].3))
        };
        let to_ms = |t: Instant| {
            self.began_ms + i64::try_from(t.duration_since(self.began).as_millis()).unwrap()
        };
        let mut open_samples: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.tenant == CALCOM && s.unavailable_sentence && in_f1(s.sent))
            .filter(|s| {
                let end = s.sent + s.latency;
                matches!(state_at(s.sent), Some((1, until)) if to_ms(end) < until)
                    && matches!(state_at(end), Some((1, _)))
            })
            .collect();
        open_samples.sort_by_key(|s| s.latency);
        let open_lat: Vec<f64> = open_samples.iter().map(|s| ms(s.latency)).collect();
        // The slowest of them, to tell queueing on a loaded machine (every
        // function alike) from a path that waits (one function, one replica).
        let slowest: Vec<String> = open_samples
            .iter()
            .rev()
            .take(5)
            .map(|s| {
                format!(
                    "{}@r{} +{:.2}s {:.1} ms",
                    s.function,
                    s.replica,
                    s.sent.duration_since(f1.0).as_secs_f64(),
                    ms(s.latency)
                )
            })
            .collect();
        let open_p99 = percentile(&open_lat, 99.0);
        // The same machine's noise floor: the cheapest function (no upstream,
        // no validation) answered in the same open intervals.
        let mut floor: Vec<f64> = samples
            .iter()
            .filter(|s| s.function == "list_services" && s.status == 200 && in_f1(s.sent))
            .filter(|s| {
                matches!(state_at(s.sent), Some((1, _)))
                    && matches!(state_at(s.sent + s.latency), Some((1, _)))
            })
            .map(|s| ms(s.latency))
            .collect();
        floor.sort_by(f64::total_cmp);
        let floor_p99 = percentile(&floor, 99.0);
        let allowed = if settings.strict_latency || floor.is_empty() {
            settings.open_p99_ms
        } else {
            settings.open_p99_ms.max(1.5 * floor_p99 + 50.0)
        };
        if open_lat.is_empty() {
            failures.push(
                "breaker: no \"nicht verfügbar\" reply was answered while the breaker was open"
                    .to_owned(),
            );
        } else if open_p99 > allowed {
            failures.push(format!(
                "breaker: p99 of \"nicht verfügbar\" replies while open is {open_p99:.1} ms (> {allowed:.1} ms, n = {}; list_services p99 in the same intervals {floor_p99:.1} ms)",
                open_lat.len()
            ));
        }
        let fault_start = f1.0;
        let failing_detail: Vec<String> = received
            .iter()
            .filter(|r| r.mode == Mode::Error500)
            .map(|r| {
                format!(
                    "{}@{:.2}s",
                    r.what,
                    r.at.duration_since(fault_start).as_secs_f64()
                )
            })
            .collect();
        let by_mode = |m: Mode| received.iter().filter(|r| r.mode == m).count();
        let _ = writeln!(
            report,
            "\n-- breaker calcom:{CALCOM} (fleet state from the Cluster, {} polls) --\nfault 1: {opened} open cycle(s), {rounds} half-open round(s); requests to the failing Cal.com {failing} (issue bound 5 + 2 × rounds = {bound}: {}); until the trip reached every replica (+400 ms) {trip} (overshoot {overshoot}), after it {after_trip} (probes allowed {})\nthey were (endpoint@seconds into the fault): {}\n\"nicht verfügbar\" while open: n = {}, p50 {:.1} ms, p99 {open_p99:.1} ms (target {} ms; list_services p99 in the same intervals {floor_p99:.1} ms, n = {}); slowest: {}\nCal.com requests: normal {}, during 500s {failing}, during 5 s delay {}; all transitions seen: {}",
            polls.len(),
            if failing <= bound { "held" } else { "NOT held" },
            2 * rounds + 5 * opened.saturating_sub(1),
            failing_detail.join(" "),
            open_lat.len(),
            percentile(&open_lat, 50.0),
            settings.open_p99_ms,
            floor.len(),
            slowest.join(", "),
            by_mode(Mode::Normal),
            by_mode(Mode::Slow),
            all_transitions.len()
        );
        let _ = writeln!(
            report,
            "breaker transitions per replica (from /metrics; replica {VICTIM} before + after its restart):"
        );
        for (i, text) in metrics.iter().enumerate() {
            let mut lines = metric_lines(text, "circuit_breaker_transitions_total");
            if i == VICTIM {
                lines.extend(metric_lines(
                    &self.victim_metrics,
                    "circuit_breaker_transitions_total",
                ));
            }
            let mut sum: BTreeMap<String, f64> = BTreeMap::new();
            for (name, v) in lines {
                let label = name
                    .split("from=\"")
                    .nth(1)
                    .map(|rest| rest.replace("\",to=\"", "→").replace("\"}", ""))
                    .unwrap_or(name);
                *sum.entry(label).or_default() += v;
            }
            let _ = writeln!(report, "  replica {i}: {sum:?}");
        }
    }

    /// No lost or double bookings: every `booked` answer is one booking in the calendar, no slot twice.
    fn check_bookings(&self, failures: &mut Vec<String>, report: &mut String) {
        let Outcome {
            samples,
            people,
            fake_bookings,
            ..
        } = self;
        // 3. No lost or double bookings.
        let booked: Vec<&Sample> = samples.iter().filter(|s| s.booked.is_some()).collect();
        let fake_by_uid: HashMap<&str, &fleet::fake_calcom::FakeBooking> =
            fake_bookings.iter().map(|b| (b.uid.as_str(), b)).collect();
        let mut calcom_answers = 0;
        let mut uid_calls: HashMap<&str, HashSet<&str>> = HashMap::new();
        for s in booked.iter().filter(|s| s.tenant == CALCOM) {
            calcom_answers += 1;
            let b = s.booked.as_ref().unwrap();
            uid_calls
                .entry(b.id.as_str())
                .or_default()
                .insert(s.call_id.as_str());
            match fake_by_uid.get(b.id.as_str()) {
                None => failures.push(format!(
                    "bookings: {} answered booked {} but Cal.com has no such booking",
                    s.call_id, b.id
                )),
                Some(fb) => {
                    let start_ok = chrono::DateTime::parse_from_rfc3339(&b.start)
                        .is_ok_and(|t| t.to_utc() == fb.start);
                    let email_ok = people.get(&s.call_id).is_some_and(|p| p.email == fb.email);
                    if !start_ok || !email_ok || fb.call_id != s.call_id {
                        failures.push(format!(
                            "bookings: {} answered {} at {} but Cal.com holds it at {} for another caller or call",
                            s.call_id, b.id, b.start, fb.start
                        ));
                    }
                }
            }
        }
        for (uid, calls) in &uid_calls {
            if calls.len() > 1 {
                failures.push(format!(
                    "bookings: {uid} was answered as booked to {} different calls",
                    calls.len()
                ));
            }
        }
        let mut starts: HashMap<chrono::DateTime<chrono::Utc>, usize> = HashMap::new();
        for b in fake_bookings {
            *starts.entry(b.start).or_default() += 1;
        }
        let doubled = starts.values().filter(|n| **n > 1).count();
        if doubled > 0 {
            failures.push(format!("bookings: {doubled} Cal.com slot(s) booked twice"));
        }
        let retries = RETRIES.load(Ordering::Relaxed);
        let retry_replays = RETRY_REPLAYS.load(Ordering::Relaxed);
        let retry_other = RETRY_OTHER_BOOKING.load(Ordering::Relaxed);
        let retry_taken = RETRY_SLOT_TAKEN.load(Ordering::Relaxed);
        let retry_taken_down = RETRY_SLOT_TAKEN_REDIS_DOWN.load(Ordering::Relaxed);
        eprintln!(
            "retries of a booking on another replica: {retries} sent, {retry_replays} replayed the caller's booking, {retry_other} answered another booking, {retry_taken} slot_taken ({retry_taken_down} more where the shared record was unavailable)"
        );
        if retries == 0 || retry_replays == 0 {
            failures.push(format!(
                "bookings: {retries} retries on other replicas, {retry_replays} replays: the retry path was not exercised"
            ));
        }
        if retry_other > 0 || retry_taken > 0 || retry_taken_down > 0 {
            failures.push(format!(
                "bookings: a retry on another replica answered another booking {retry_other} times and slot_taken {retry_taken} times (+ {retry_taken_down} where the shared record was unavailable) for the caller's own booking"
            ));
        }
        let replays = booked
            .iter()
            .filter(|s| s.booked.as_ref().is_some_and(|b| b.replay))
            .count();
        let created_in: BTreeMap<String, usize> =
            fake_bookings.iter().fold(BTreeMap::new(), |mut m, b| {
                *m.entry(format!("{:?}", b.created_in)).or_default() += 1;
                m
            });
        let orphans = fake_bookings
            .iter()
            .filter(|b| b.call_id != WEBSITE && !uid_calls.contains_key(b.uid.as_str()))
            .count();
        // Demo calendars live in each replica (one per process incarnation).
        let mut demo_ids: HashMap<(usize, u32, &str), HashSet<&str>> = HashMap::new();
        let mut demo_slots: HashMap<(usize, u32, &str), HashSet<&str>> = HashMap::new();
        for s in booked.iter().filter(|s| s.tenant == DEMO) {
            let b = s.booked.as_ref().unwrap();
            demo_ids
                .entry((s.replica, s.replica_gen, b.id.as_str()))
                .or_default()
                .insert(s.call_id.as_str());
            demo_slots
                .entry((s.replica, s.replica_gen, b.start.as_str()))
                .or_default()
                .insert(s.call_id.as_str());
        }
        let demo_double: Vec<String> = demo_ids
            .iter()
            .map(|(k, calls)| (format!("id {k:?}"), calls))
            .chain(
                demo_slots
                    .iter()
                    .map(|(k, calls)| (format!("slot {k:?}"), calls)),
            )
            .filter(|(_, calls)| calls.len() > 1)
            .map(|(k, calls)| format!("{k} → {calls:?}"))
            .collect();
        if !demo_double.is_empty() {
            failures.push(format!(
                "bookings: demo booking id or slot answered to two calls on one replica incarnation: {demo_double:?}"
            ));
        }
        if calcom_answers == 0 || demo_ids.is_empty() {
            failures.push(format!(
                "bookings: too few to judge (Cal.com {calcom_answers}, demo {})",
                demo_ids.len()
            ));
        }
        let _ = writeln!(
            report,
            "\n-- bookings --\nCal.com: {calcom_answers} booked answers ({} distinct), {} bookings in the fake, {} refused as taken, {orphans} made without a booked answer (caller got an error or no answer), slots booked twice {doubled}; created while Cal.com was {created_in:?}; idempotent replays {replays}\ndemo: {} booked answers on {} replica incarnations",
            uid_calls.len(),
            fake_bookings.len(),
            self.slot_taken,
            booked.iter().filter(|s| s.tenant == DEMO).count(),
            demo_ids
                .keys()
                .map(|(r, g, _)| (*r, *g))
                .collect::<HashSet<_>>()
                .len()
        );
    }

    /// No 5xx except designed ones; hostile input answered as designed; answers lost only to the SIGKILL.
    fn check_answers(&self, failures: &mut Vec<String>, report: &mut String) {
        let Outcome {
            samples, health, ..
        } = self;
        let kill = (self.at("replica_kill"), self.at("replica_ready"));
        // 4. No 5xx except designed ones; hostile input answered as designed.
        let mut fivexx: BTreeMap<(&str, u16, &str), usize> = BTreeMap::new();
        let mut lost: BTreeMap<(usize, &str), usize> = BTreeMap::new();
        let mut hostile_table: BTreeMap<Kind, (usize, BTreeMap<u16, usize>)> = BTreeMap::new();
        for s in samples {
            if s.status >= 500 {
                *fivexx
                    .entry((s.function, s.status, s.phase.label()))
                    .or_default() += 1;
            }
            if s.kind.hostile() || s.kind == Kind::FakeId {
                let e = hostile_table.entry(s.kind).or_default();
                e.0 += 1;
                *e.1.entry(s.status).or_default() += 1;
                let in_kill =
                    s.replica == VICTIM && s.sent <= kill.1 && s.sent + s.latency >= kill.0;
                if !(s.kind.expected().contains(&s.status) || (s.status == 0 && in_kill)) {
                    failures.push(format!(
                        "hostile {:?} to replica {} got {} (expected {:?}) {}",
                        s.kind,
                        s.replica,
                        s.status,
                        s.kind.expected(),
                        s.error.as_deref().unwrap_or("")
                    ));
                }
                if s.reflected {
                    failures.push(format!(
                        "hostile {:?}: the reply echoed the payload unescaped",
                        s.kind
                    ));
                }
            } else if s.status == 0 {
                let in_kill = s.replica == VICTIM
                    && s.sent <= kill.1 + Duration::from_secs(2)
                    && s.sent + s.latency >= kill.0;
                *lost
                    .entry((
                        s.replica,
                        if in_kill {
                            "during SIGKILL"
                        } else {
                            "unexpected"
                        },
                    ))
                    .or_default() += 1;
                if !in_kill {
                    failures.push(format!(
                        "no answer from replica {} to {} ({}) outside its kill: {}",
                        s.replica,
                        s.function,
                        s.phase.label(),
                        s.error.as_deref().unwrap_or("")
                    ));
                }
            }
        }
        if !fivexx.is_empty() {
            failures.push(format!("5xx answers: {fivexx:?}"));
        }
        for (i, (status, text)) in health.iter().enumerate() {
            if *status != 200 {
                failures.push(format!(
                    "replica {i}: /api/health/detailed answered {status} at the end: {text}"
                ));
            }
        }
        let _ = writeln!(
            report,
            "\n-- 5xx and lost answers --\n5xx: {fivexx:?}\nno answer: {lost:?}"
        );
        let _ = writeln!(
            report,
            "\n-- hostile input (kind: sent, HTTP statuses; 0 = connection closed) --"
        );
        for (kind, (n, statuses)) in &hostile_table {
            let _ = writeln!(report, "{kind:?}: {n} {statuses:?}");
        }
    }

    /// Logs: no panics, no PII, the outage policy seen; memory bounded; clean SIGTERM.
    fn check_logs(&self, failures: &mut Vec<String>, report: &mut String) {
        let Outcome {
            settings,
            people,
            exits,
            ..
        } = self;
        // 5. Logs: no panics, no PII, the outage policy seen, memory bounded.
        let mut needles: Vec<String> = people.values().flat_map(Person::needles).collect();
        needles.extend([CALCOM_KEY, RETELL_KEY_CALCOM, RETELL_KEY_DEMO].map(str::to_owned));
        needles.sort();
        needles.dedup();
        let finder = aho_corasick::AhoCorasick::new(&needles).unwrap();
        // The search itself must work: a line with one caller's data is found.
        if let Some(person) = people.values().next() {
            let line = format!(
                "attendee {} <{}> {}",
                person.name, person.email, person.phone
            );
            assert_eq!(
                finder.find_iter(line.as_bytes()).count(),
                3,
                "needle search is broken: {line}"
            );
        }
        // With arguments logged at debug level, the callers' data reached the
        // log writer and was redacted there (so the absence below means something).
        let debug_args = settings.log_filter.contains("debug");
        let logs: Vec<PathBuf> = (0..REPLICAS)
            .map(|i| self.log_dir.join(format!("replica-{i}.log")))
            .collect();
        let _ = writeln!(
            report,
            "\n-- replicas --\nreplica | log MiB | lines | PII hits | panics | limiter outage warn/recovered | slot cache store failures | max RSS MiB | exit"
        );
        let rss = self.rss.clone();
        for (i, path) in logs.iter().enumerate() {
            let bytes = std::fs::read(path).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            let hits: Vec<String> = finder
                .find_iter(&bytes)
                .take(5)
                .map(|m| {
                    let from = m.start().saturating_sub(80);
                    let to = (m.end() + 40).min(bytes.len());
                    String::from_utf8_lossy(&bytes[from..to]).into_owned()
                })
                .collect();
            let hit_count = finder.find_iter(&bytes).count();
            let panics = text.matches("panicked at").count();
            // The limiter's Redis outage is logged by its `voxcal_core::OutageGate`
            // (backend "call rate limiter"): one warning, one recovery line.
            let limiter_lines = |what: &str| {
                text.lines()
                    .filter(|l| l.contains(what) && l.contains("call rate limiter"))
                    .count()
            };
            let warned = limiter_lines("backend unreachable");
            let answered = limiter_lines("backend answers again");
            // Slot cache store calls that failed (the source answered instead).
            let cache_failed = text.matches("slot cache store call failed").count();
            let lines = text.lines().count();
            let _ = writeln!(
                report,
                "{i} | {:.1} | {lines} | {hit_count} | {panics} | {warned}/{answered} | {cache_failed} | {:.1} | {:?}",
                bytes.len() as f64 / 1_048_576.0,
                rss[i] as f64 / 1024.0,
                exits[i]
            );
            if hit_count > 0 {
                failures.push(format!(
                    "PII in replica {i}'s log ({hit_count} hits), e.g. {hits:?}"
                ));
            }
            if debug_args
                && !(text.contains("[EMAIL_REDACTED]") && text.contains("[PHONE_REDACTED]"))
            {
                failures.push(format!(
                    "replica {i}: no redacted e-mail or phone in a debug log: the callers' data never reached the log writer"
                ));
            }
            if panics > 0 {
                failures.push(format!("replica {i} panicked {panics} time(s)"));
            }
            if lines < 100 {
                failures.push(format!(
                    "replica {i}'s log has only {lines} lines: logging is not captured"
                ));
            }
            if warned == 0 || answered == 0 {
                failures.push(format!(
                    "replica {i}: the limiter's outage warning ({warned}) or recovery line ({answered}) is missing"
                ));
            }
            if rss[i] == 0 || rss[i] > settings.max_rss_mb * 1024 {
                failures.push(format!(
                    "replica {i}: max RSS {} KiB (bound {} MiB)",
                    rss[i], settings.max_rss_mb
                ));
            }
            if !exits[i].is_some_and(|s| s.success()) {
                failures.push(format!(
                    "replica {i}: did not stop cleanly on SIGTERM: {:?}",
                    exits[i]
                ));
            }
        }
        let _ = writeln!(
            report,
            "PII needles searched: {} (names, e-mails, phones in 3 forms, API keys)",
            needles.len()
        );
    }

    /// Redis outage: served through it, recovered after it.
    fn check_outage(&self, failures: &mut Vec<String>, report: &mut String) {
        let Outcome {
            samples,
            health,
            recovered,
            ..
        } = self;
        // 6. Redis outage: served through it, recovered after it.
        let during: Vec<&Sample> = samples
            .iter()
            .filter(|s| s.phase == Phase::RedisDown && s.kind == Kind::Normal)
            .collect();
        let during_ok = during.iter().filter(|s| s.status == 200).count();
        if during_ok == 0 {
            failures.push(format!(
                "redis outage: no call was served while the master was down ({} sent)",
                during.len()
            ));
        }
        match recovered {
            Some(_) => {}
            None => failures.push(
                "recovery: the breakers did not all close within 30 s after the run".to_owned(),
            ),
        }
        let _ = writeln!(
            report,
            "\n-- redis master killed and restarted --\nserved during the outage {during_ok}/{} (limiter fell back to memory; breaker decided locally; the Cal.com tenant's slot cache, in Redis, bypassed where its keys' master was down)\nafter the run: all breakers closed after {:?}; health: {:?}",
            during.len(),
            recovered,
            health.iter().map(|(s, _)| *s).collect::<Vec<_>>()
        );
    }

    /// Figures: admitted and rejected per limit, bookings, latency per function and phase, the schedule.
    /// A booking made on the website reaches every replica through Cal.com's webhook: no replica offers its slot afterwards.
    fn check_website_booking(&self, failures: &mut Vec<String>, report: &mut String) {
        let w = &self.website;
        let Some(slot) = &w.slot else {
            failures.push("website booking: no replica offered a free slot to book on the website (40 wishes tried)".to_owned());
            return;
        };
        // Without a stale answer before the webhook, the check after it
        // would prove nothing: the cache must have held the day.
        if w.cached_after.is_none() {
            failures.push(format!(
                "website booking: the day of {slot} never reached the shared cache in the Cluster (20 asks over 5 s); see the replicas' slot cache store warnings"
            ));
        } else if w.stale.is_empty() {
            failures.push(format!(
                "website booking: the day of {slot} was in the shared cache, yet no replica offered it from there after the website booked it, so the webhook's effect cannot be told"
            ));
        }
        if w.webhook.0 != 200 || !w.webhook.1.contains("invalidated") {
            failures.push(format!(
                "website booking: the Cal.com webhook got {} {}",
                w.webhook.0, w.webhook.1
            ));
        }
        for (r, reply) in &w.offered_after {
            failures.push(format!(
                "website booking: replica {r} still offers {slot} after the webhook: {reply}"
            ));
        }
        for (r, status, reply) in &w.unanswered_after {
            failures.push(format!(
                "website booking: replica {r} gave no availability answer after the webhook: {status} {reply}"
            ));
        }
        let _ = writeln!(
            report,
            "\n-- booking made on the website --\nslot {slot}; its day in the shared cache after {:?} ask(s); offered from there before the webhook by replicas {:?}; webhook {} {}; offered after it by {} replica(s)",
            w.cached_after,
            w.stale,
            w.webhook.0,
            w.webhook.1,
            w.offered_after.len()
        );
    }

    fn figures(&self, report: &mut String) {
        let Outcome {
            samples, metrics, ..
        } = self;
        // Figures: admitted/rejected per limit, bookings, requests from /metrics.
        let mut rejections: BTreeMap<String, f64> = BTreeMap::new();
        let mut bookings_total = 0.0;
        let mut requests_total = 0.0;
        for text in metrics.iter().chain(std::iter::once(&self.victim_metrics)) {
            for (name, v) in metric_lines(text, "rate_limit_rejections_total") {
                *rejections
                    .entry(
                        name.split("limit=\"")
                            .nth(1)
                            .unwrap_or("?")
                            .trim_end_matches("\"}")
                            .to_owned(),
                    )
                    .or_default() += v;
            }
            bookings_total += metric_lines(text, "bookings_total")
                .iter()
                .map(|(_, v)| v)
                .sum::<f64>();
            requests_total += metric_lines(text, "booking_requests_total")
                .iter()
                .map(|(_, v)| v)
                .sum::<f64>();
        }
        let admitted_all = samples.iter().filter(|s| s.status == 200).count();
        let rejected_all = samples.iter().filter(|s| s.status == 429).count();
        let _ = writeln!(
            report,
            "\n-- figures --\nadmitted (200) {admitted_all}, rate limited (429) {rejected_all}; replicas' rejections per limit {rejections:?}\nreplicas' /metrics: function requests {requests_total}, bookings {bookings_total}"
        );

        // Latency per function and phase.
        let mut lat: BTreeMap<(&str, Phase), Vec<f64>> = BTreeMap::new();
        for s in samples
            .iter()
            .filter(|s| matches!(s.kind, Kind::Normal | Kind::FakeId) && s.status == 200)
        {
            lat.entry((s.function, s.phase))
                .or_default()
                .push(ms(s.latency));
        }
        let _ = writeln!(report, "\nfunction | phase | n | p50 ms | p99 ms");
        for ((function, phase), mut v) in lat {
            v.sort_by(f64::total_cmp);
            let _ = writeln!(
                report,
                "{function} | {} | {} | {:.1} | {:.1}",
                phase.label(),
                v.len(),
                percentile(&v, 50.0),
                percentile(&v, 99.0)
            );
        }
        let events: Vec<String> = self
            .events
            .iter()
            .map(|(n, t)| format!("{n}@{:.1}s", t.duration_since(self.began).as_secs_f64()))
            .collect();
        let _ = writeln!(report, "\nschedule: {}", events.join(", "));
    }
}

/// What the fault schedule acts on.
struct Faults {
    fleet: Arc<Fleet>,
    fake: FakeCalcom,
    cluster: Arc<std::sync::Mutex<testkit::RedisCluster>>,
    replicas: Arc<std::sync::Mutex<Vec<Replica>>>,
    pids: Arc<Mutex<Vec<Option<u32>>>>,
    /// `/metrics` of the victim replica just before it is killed.
    victim_metrics: Arc<Mutex<String>>,
    breaker_key: String,
    scale: f64,
}

/// The four faults, one after the other, with calm phases between them
/// (stretched by `scale`); each start and end is recorded as an event.
async fn fault_schedule(faults: Faults) {
    let Faults {
        fleet,
        fake,
        cluster,
        replicas,
        pids,
        victim_metrics: replica2_metrics,
        breaker_key,
        scale,
    } = faults;
    let scaled = |secs: f64| Duration::from_secs_f64(secs * scale);
    tokio::time::sleep(scaled(6.0)).await;
    fake.set_mode(Mode::Error500);
    fleet.set_phase(Phase::Calcom500, "calcom_500_start");
    tokio::time::sleep(Duration::from_secs(20)).await;
    fake.set_mode(Mode::Normal);
    fleet.set_phase(Phase::Calm, "calcom_500_end");
    tokio::time::sleep(scaled(8.0)).await;
    fake.set_mode(Mode::Slow);
    fleet.set_phase(Phase::CalcomSlow, "calcom_slow_start");
    tokio::time::sleep(Duration::from_secs(10)).await;
    fake.set_mode(Mode::Normal);
    fleet.set_phase(Phase::Calm, "calcom_slow_end");
    tokio::time::sleep(scaled(6.0)).await;
    // Fault 3: the master holding the breaker's state.
    let victim = {
        let cluster = Arc::clone(&cluster);
        tokio::task::spawn_blocking(move || {
            let mut c = cluster.lock().unwrap();
            let node = c.master_for_key(&breaker_key).unwrap_or(0);
            c.node_mut(node).unwrap().kill();
            node
        })
        .await
        .unwrap()
    };
    fleet.set_phase(Phase::RedisDown, "redis_kill");
    tokio::time::sleep(Duration::from_secs(6)).await;
    {
        let cluster = Arc::clone(&cluster);
        tokio::task::spawn_blocking(move || {
            let mut c = cluster.lock().unwrap();
            c.node_mut(victim).unwrap().restart();
            c.wait_ok(Duration::from_secs(30)).unwrap();
        })
        .await
        .unwrap();
    }
    fleet.set_phase(Phase::Calm, "redis_ok");
    tokio::time::sleep(scaled(8.0)).await;
    // Fault 4: SIGKILL one replica, restart it on the same port.
    let (_, before) = get_text(
        &fleet.client,
        format!("http://{}/metrics", fleet.addrs[VICTIM]),
    )
    .await;
    *replica2_metrics.lock() = before;
    fleet.set_phase(Phase::ReplicaKilled, "replica_kill");
    {
        let replicas = Arc::clone(&replicas);
        tokio::task::spawn_blocking(move || replicas.lock().unwrap()[VICTIM].kill())
            .await
            .unwrap();
    }
    // Requests from now on reach the next incarnation (or nothing).
    fleet.generations[VICTIM].fetch_add(1, Ordering::SeqCst);
    pids.lock()[VICTIM] = None;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = {
        let replicas = Arc::clone(&replicas);
        tokio::task::spawn_blocking(move || {
            let mut r = replicas.lock().unwrap();
            r[VICTIM].restart();
            r[VICTIM].pid()
        })
        .await
        .unwrap()
    };
    pids.lock()[VICTIM] = pid;
    fleet.set_phase(Phase::Calm, "replica_ready");
}

/// `fake_ids` requests with distinct fake call ids spread over `load_time`,
/// and every 40th of them one hostile request.
async fn hostile_load(fleet: Arc<Fleet>, fake_ids: usize, load_time: Duration) {
    let spacing = load_time.div_f64((fake_ids.max(1)) as f64 * 1.05);
    let gate = Arc::new(Semaphore::new(32));
    let start = tokio::time::Instant::now();
    let mut handles = Vec::new();
    for j in 0..fake_ids {
        tokio::time::sleep_until(start + spacing.mul_f64(j as f64)).await;
        let permit = Arc::clone(&gate).acquire_owned().await.unwrap();
        let fleet = Arc::clone(&fleet);
        handles.push(tokio::spawn(async move {
            let id = format!("fake_{j:05}_{:x}", j.wrapping_mul(0x9e37_79b9));
            send(
                &fleet,
                Req::call(&id, DEMO, "list_services", json!({}), Kind::FakeId),
            )
            .await;
            // Every 40th fake id, one hostile request too (about 250).
            if j % 40 == 0 {
                let k = j / 40;
                // Only a handful of 10 MB bodies.
                let req = hostile(k);
                if req.kind != Kind::BigBody || k < 9 * 6 * 4 {
                    send(&fleet, req).await;
                }
            }
            drop(permit);
        }));
    }
    for h in handles {
        let _ = h.await;
    }
}

/// After the run: Cal.com calls on fresh days until every replica reports a
/// closed breaker and a healthy state (how long that took, if it did), then
/// a looping agent of 30 concurrent requests.
async fn recover(fleet: &Arc<Fleet>) -> (Option<Duration>, Vec<Sample>) {
    // Recovery: Cal.com calls on fresh days until every replica's breaker
    // is closed again, then a looping agent must be stopped fleet-exactly.
    let mut recovered = None;
    let recovery_start = Instant::now();
    for round in 0..60 {
        for r in 0..REPLICAS {
            let (datum, uhrzeit) = wish(100_000 + round * 3 + r);
            let mut req = Req::call(
                &format!("call_recovery_{round}_{r}"),
                CALCOM,
                "check_availability",
                json!({"datum": datum, "uhrzeit": uhrzeit, "dienstleistung": "Beratung"}),
                Kind::Recovery,
            );
            req.replica = Some(r);
            send(fleet, req).await;
        }
        let mut closed = 0;
        for addr in &fleet.addrs {
            let (_, text) =
                get_text(&fleet.client, format!("http://{addr}/api/health/detailed")).await;
            let health: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            if health["status"] == "healthy" && health["checks"]["breakers"][0]["state"] == "closed"
            {
                closed += 1;
            }
        }
        if closed == REPLICAS {
            recovered = Some(recovery_start.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let final_loop: Vec<Sample> = {
        let tasks: Vec<_> = (0..30)
            .map(|n| {
                let fleet = Arc::clone(fleet);
                let (datum, uhrzeit) = wish(7);
                let mut req = Req::call(
                    "call_final_loop",
                    DEMO,
                    "check_availability",
                    json!({"datum": datum, "uhrzeit": uhrzeit}),
                    Kind::Recovery,
                );
                req.replica = Some(n % REPLICAS);
                tokio::spawn(async move { send(&fleet, req).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    };

    (recovered, final_loop)
}

/// What the fleet answered around a booking made outside the agent.
#[derive(Debug, Default)]
struct WebsiteBooking {
    /// The slot (UTC, RFC 3339), once a replica had offered it as free.
    slot: Option<String>,
    /// How many asks it took until the slot's day was in the shared
    /// cache (read straight from the Cluster), `None` if it never was.
    cached_after: Option<usize>,
    /// Replicas that still offered it after the website booked it and
    /// before the webhook (the shared slot cache held the day).
    stale: Vec<usize>,
    /// The webhook's HTTP status and reply.
    webhook: (u16, String),
    /// Replicas that offered it after the webhook, with their replies.
    offered_after: Vec<(usize, String)>,
    /// Replies after the webhook that were no availability answer at all.
    unanswered_after: Vec<(usize, u16, String)>,
}

/// Whether a `check_availability` reply offers the slot starting at `start`
/// (as the wished slot or as an alternative).
fn offers(reply: &str, start: &str) -> bool {
    reply.contains(&format!("\"start\":\"{start}\""))
}

/// One `check_availability` for the Cal.com tenant on replica `r`: the
/// HTTP status and the reply's text.
async fn availability(
    fleet: &Fleet,
    r: usize,
    call_id: &str,
    datum: &str,
    uhrzeit: &str,
) -> (u16, String) {
    let body = json!({
        "call": {"call_id": call_id},
        "name": "check_availability",
        "args": {"datum": datum, "uhrzeit": uhrzeit, "dienstleistung": "Beratung"},
    })
    .to_string();
    let signature = booking_service::sign(RETELL_KEY_CALCOM, body.as_bytes(), now_ms());
    let result = fleet
        .client
        .post(format!("http://{}/api/retell/function", fleet.addrs[r]))
        .header("content-type", "application/json")
        .header("x-tenant-id", CALCOM)
        .header("x-retell-signature", signature)
        .body(body)
        .send()
        .await;
    match result {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}

/// After the run, with every replica healthy: a replica offers a free slot
/// (its day is now in the shared slot cache), a visitor books that slot on
/// the website, the other replicas still offer it from the cache, Cal.com's
/// signed `BOOKING_CREATED` webhook reaches one replica, and then no
/// replica offers the slot any more.
async fn website_booking(
    fleet: &Arc<Fleet>,
    fake: &FakeCalcom,
    nodes: &[String],
    prefix: &str,
) -> WebsiteBooking {
    let mut out = WebsiteBooking::default();
    // A wish the fleet answers with that very slot free (the load booked
    // many; try fresh ones until one is offered exactly).
    let mut chosen = None;
    for i in 0..40 {
        let (datum, uhrzeit) = wish(500_000 + i);
        let (status, reply) = availability(
            fleet,
            0,
            &format!("call_website_probe_{i}"),
            &datum,
            &uhrzeit,
        )
        .await;
        let local =
            chrono::NaiveDateTime::parse_from_str(&format!("{datum} {uhrzeit}"), "%d.%m.%Y %H:%M")
                .expect("wish() formats a date and a time");
        let Some(start) = local.and_local_timezone(chrono_tz::Europe::Berlin).single() else {
            continue;
        };
        let start = start
            .to_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        if status == 200 && offers(&reply, &start) {
            chosen = Some((datum, uhrzeit, start));
            break;
        }
    }
    let Some((datum, uhrzeit, start)) = chosen else {
        return out;
    };
    out.slot = Some(start.clone());
    // The premise of the check: the day is in the shared cache before the
    // website books the slot. A replica whose cache write failed or timed
    // out (the store's 250 ms budget on a loaded machine) fetched and
    // answered without storing; asking again refills it. Up to 20 asks,
    // 250 ms apart (5 s, far beyond the store's 1 s skip after a failure).
    let day = chrono::NaiveDate::parse_from_str(&datum, "%d.%m.%Y").expect("wish() formats a date");
    // `<redis prefix>:slots:{<tenant>}:<event type slug>:<local day>`
    // (run.rs, `CacheKey::redis_key`; the config's service "beratung").
    let cache_key = format!(
        "{prefix}:slots:{{{CALCOM}}}:beratung:{}",
        day.format("%Y-%m-%d")
    );
    let client = redis::cluster::ClusterClientBuilder::new(nodes.to_vec())
        .connection_timeout(Duration::from_secs(1))
        .response_timeout(Duration::from_secs(1))
        .build()
        .expect("the fleet's Cluster urls");
    for ask in 1..=20 {
        let exists: Option<bool> = match client.get_async_connection().await {
            Ok(mut conn) => redis::cmd("EXISTS")
                .arg(&cache_key)
                .query_async(&mut conn)
                .await
                .ok(),
            Err(_) => None,
        };
        if exists == Some(true) {
            out.cached_after = Some(ask);
            break;
        }
        eprintln!("website booking: ask {ask}: {cache_key} not in the Cluster ({exists:?}); asking replica {} again", ask % REPLICAS);
        tokio::time::sleep(Duration::from_millis(250)).await;
        let _ = availability(
            fleet,
            ask % REPLICAS,
            &format!("call_website_fill_{ask}"),
            &datum,
            &uhrzeit,
        )
        .await;
    }
    let start_utc = chrono::DateTime::parse_from_rfc3339(&start)
        .expect("formatted above")
        .to_utc();
    let Some(uid) = fake.book_outside(start_utc, WEBSITE) else {
        return out;
    };
    for r in 0..REPLICAS {
        let (_, reply) = availability(
            fleet,
            r,
            &format!("call_website_stale_{r}"),
            &datum,
            &uhrzeit,
        )
        .await;
        if offers(&reply, &start) {
            out.stale.push(r);
        }
    }
    let end = (start_utc + chrono::Duration::minutes(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = json!({
        "triggerEvent": "BOOKING_CREATED",
        "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "payload": {
            "uid": uid,
            "title": "Beratung",
            "startTime": start,
            "endTime": end,
            "attendees": [{"name": "Website Besucher", "email": "besucher@website.example", "timeZone": "Europe/Berlin"}],
        },
    })
    .to_string();
    let signature = voxcal_calcom_client::webhook::sign(CALCOM_WEBHOOK_SECRET, body.as_bytes());
    let sent = fleet
        .client
        .post(format!(
            "http://{}/api/webhooks/calcom/{CALCOM}",
            fleet.addrs[1]
        ))
        .header("content-type", "application/json")
        .header("x-cal-signature-256", signature)
        .body(body)
        .send()
        .await;
    out.webhook = match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    };
    for r in 0..REPLICAS {
        let (status, reply) = availability(
            fleet,
            r,
            &format!("call_website_after_{r}"),
            &datum,
            &uhrzeit,
        )
        .await;
        if status != 200 || !reply.contains("\"status\"") {
            out.unanswered_after.push((r, status, reply));
        } else if offers(&reply, &start) {
            out.offered_after.push((r, reply));
        }
    }
    out
}

/// A fresh directory under the system temp dir for configs and logs.
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fleet-{}", testkit::unique_prefix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
