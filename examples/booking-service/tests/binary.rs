//! The real binary: configuration errors, and a whole call over a socket.

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{Datelike, Duration as Days, Utc, Weekday};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_booking-service");

fn command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("BOOKING_CONFIG")
        .env_remove("BOOKING_BIND")
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "warn");
    cmd
}

const SERVICE: &str =
    "\n[[tenants.services]]\nevent_type = \"b\"\nname = \"Beratung\"\nduration_minutes = 30\n";

#[test]
fn invalid_configs_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, String, &str)> = vec![
        ("syntax", "bind = \n".to_owned(), "booking.toml:1"),
        ("unknown key", format!("colour = \"blue\"\n[[tenants]]\nid = \"a\"{SERVICE}"), "unknown field"),
        ("bad bind", format!("bind = \"localhost\"\n[[tenants]]\nid = \"a\"{SERVICE}"), "bind:"),
        ("no tenants", "bind = \"127.0.0.1:0\"\n".to_owned(), "tenants:"),
        ("bad zone", format!("[[tenants]]\nid = \"a\"\ntime_zone = \"Mars/Olympus\"{SERVICE}"), "tenants[0].time_zone:"),
        ("bad hours", format!("[[tenants]]\nid = \"a\"\n[tenants.hours]\nmon = [\"18:00-09:00\"]{SERVICE}"), "tenants[0].hours.mon:"),
        ("bad weekday", format!("[[tenants]]\nid = \"a\"\n[tenants.hours]\nmonday = [\"09:00-18:00\"]{SERVICE}"), "tenants[0].hours.monday:"),
        ("bad holidays", format!("[[tenants]]\nid = \"a\"\nholidays = \"XX\"{SERVICE}"), "tenants[0].holidays:"),
        ("bad closed date", format!("[[tenants]]\nid = \"a\"\nclosed_dates = [\"24.12.\"]{SERVICE}"), "tenants[0].closed_dates:"),
        ("no services", "[[tenants]]\nid = \"a\"\n".to_owned(), "tenants[0].services:"),
        ("bad tenant id", format!("[[tenants]]\nid = \"a b\"{SERVICE}"), "tenants[0].id:"),
        ("duplicate tenant", format!("[[tenants]]\nid = \"a\"{SERVICE}[[tenants]]\nid = \"a\"{SERVICE}"), "tenants[1].id:"),
        ("bad duration", "[[tenants]]\nid = \"a\"\n[[tenants.services]]\nevent_type = \"b\"\nname = \"B\"\nduration_minutes = 0\n".to_owned(), "tenants[0].services[0].duration_minutes:"),
        ("unknown calendar", format!("[[tenants]]\nid = \"a\"\ncalendar = \"outlook\"{SERVICE}"), "tenants[0].calendar:"),
        ("missing key env", format!("[[tenants]]\nid = \"a\"\nretell_api_key_env = \"BOOKING_TEST_UNSET_KEY\"{SERVICE}"), "tenants[0].retell_api_key_env:"),
        ("bad timeout", format!("request_timeout_ms = 1\n[[tenants]]\nid = \"a\"{SERVICE}"), "request_timeout_ms:"),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join("booking.toml");
        std::fs::write(&path, text).unwrap();
        let out = command()
            .env_remove("BOOKING_TEST_UNSET_KEY")
            .current_dir(dir.path())
            .args(["--config", "booking.toml"])
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{name}: expected {expected:?} in {stderr}"
        );
    }
    // A missing file and a bad override, without a file.
    let out = command()
        .args(["--config", "/nonexistent/booking.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/booking.toml"));
    let out = command().env("BOOKING_BIND", "nowhere").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BOOKING_BIND"));
}

#[test]
fn the_committed_example_config_is_valid() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/booking.toml")).unwrap();
    let config =
        booking_service::ServiceConfig::from_toml("booking.toml", &text, |_| None).unwrap();
    assert_eq!(config.tenants.len(), 2);
    booking_service::AppState::builder(config).build().unwrap();
}

struct Server {
    child: Child,
    addr: String,
}

/// The last bytes of a child's stderr, read by a thread so the child never
/// blocks on a full pipe.
struct StderrTail {
    kept: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl StderrTail {
    const KEEP: usize = 16 * 1024;

    fn of(child: &mut Child) -> StderrTail {
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let kept = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&kept);
        let reader = std::thread::spawn(move || {
            let mut buf = [0_u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buf) {
                let mut kept = sink.lock().unwrap();
                kept.extend_from_slice(&buf[..n]);
                let over = kept.len().saturating_sub(Self::KEEP);
                kept.drain(..over);
            }
        });
        StderrTail { kept, reader }
    }

    /// Everything kept, once the child has exited (its stderr is closed).
    fn after_exit(self) -> String {
        let _ = self.reader.join();
        let kept = self.kept.lock().unwrap();
        String::from_utf8_lossy(&kept).into_owned()
    }
}

/// Spawns `cmd` with piped stdout and stderr and reads the service's first
/// line (`listening on http://…`). If stdout closes first, the panic says
/// how the child exited and what it wrote to stderr.
fn spawn_listening(cmd: &mut Command) -> (Child, String, Lines<BufReader<ChildStdout>>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = StderrTail::of(&mut child);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    match lines.next() {
        Some(Ok(first)) => (child, first, lines),
        other => {
            let exit = child.wait();
            panic!(
                "the service closed stdout before its first line ({other:?}); exit: {exit:?}; stderr:\n{}",
                stderr.after_exit()
            );
        }
    }
}

impl Server {
    fn start() -> Server {
        let (child, first, mut lines) =
            spawn_listening(command().env("BOOKING_BIND", "127.0.0.1:0"));
        let addr = first.rsplit("http://").next().unwrap().trim().to_owned();
        let rest: Vec<String> = lines.by_ref().take(3).map(Result::unwrap).collect();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let server = Server { child, addr };
        assert!(
            rest.iter().any(|l| l.contains("signature checking: off")),
            "{rest:?}"
        );
        assert!(
            rest.iter().any(|l| l == "call limits: in-memory"),
            "{rest:?}"
        );
        server
    }

    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        post(&self.addr, path, body)
    }

    fn call(&self, name: &str, args: Value) -> Value {
        let body =
            json!({"call": {"call_id": "call_e2e_1"}, "name": name, "args": args}).to_string();
        let (status, json) = self.post("/api/retell/function", &body);
        assert_eq!(status, 200, "{name}: {json}");
        json
    }
}

fn post(addr: &str, path: &str, body: &str) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        addr,
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status: u16 = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn whole_call_over_a_socket_then_sigterm() {
    let server = Server::start();
    // A weekday at least two days ahead: the demo blocks 10:00–11:00 there.
    let mut day = (Utc::now() + Days::days(2)).date_naive();
    while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        day = day.succ_opt().unwrap();
    }
    let date = day.format("%d.%m.%Y").to_string();

    let check = server.call(
        "check_availability",
        json!({"datum": date, "uhrzeit": "10:00"}),
    );
    assert_eq!(check["status"], "unavailable", "{check}");
    let alt = check["data"]["alternatives"][0].clone();
    let args = json!({"datum": alt["date"], "uhrzeit": alt["time"], "name": "Max"});
    let collect = server.call("collect_appointment", args.clone());
    assert_eq!(collect["status"], "awaiting_confirmation", "{collect}");
    let mut confirmed = args;
    confirmed["bestaetigung"] = json!(true);
    let booked = server.call("collect_appointment", confirmed);
    assert_eq!(booked["status"], "booked", "{booked}");
    let slot = json!({"datum": alt["date"], "uhrzeit": alt["time"]});
    assert_eq!(
        server.call("check_availability", slot.clone())["status"],
        "unavailable"
    );
    let cancel = server.call(
        "cancel_appointment",
        json!({"booking_id": booked["data"]["booking_id"]}),
    );
    assert_eq!(cancel["status"], "cancelled", "{cancel}");
    assert_eq!(
        server.call("check_availability", slot)["status"],
        "available"
    );

    let (status, _) = server.post("/api/retell/function", "{broken");
    assert_eq!(status, 400);

    // SIGTERM: graceful shutdown, exit code 0.
    let mut server = server;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}

/// SIGTERM while a request waits on a slow Cal.com: the request still gets
/// its answer, then the process exits 0.
#[test]
fn sigterm_lets_the_request_in_flight_finish() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let calcom = runtime.block_on(async {
        let server = MockServer::start().await;
        let free =
            || ResponseTemplate::new(200).set_body_json(json!({"status": "success", "data": {}}));
        // The first question is slow; the finder's further days are not.
        Mock::given(method("GET"))
            .respond_with(free().set_delay(Duration::from_millis(1500)))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(free())
            .mount(&server)
            .await;
        server
    });
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "bind = \"127.0.0.1:0\"\n[[tenants]]\nid = \"slow\"\ncalendar = \"calcom\"\napi_key_env = \"SLOW_CALCOM_KEY\"\nbase_url = \"{}\"\n[[tenants.services]]\nevent_type = \"b\"\nname = \"Beratung\"\nduration_minutes = 30\nevent_type_id = 7\n",
        calcom.uri()
    );
    std::fs::write(dir.path().join("booking.toml"), config).unwrap();
    let (child, first, lines) = spawn_listening(
        command()
            .env("SLOW_CALCOM_KEY", "cal_test_key")
            .current_dir(dir.path())
            .args(["--config", "booking.toml"]),
    );
    let addr = first.rsplit("http://").next().unwrap().trim().to_owned();
    std::thread::spawn(move || for _ in lines {});
    let server = Server { child, addr };

    let in_flight = {
        let addr = server.addr.clone();
        std::thread::spawn(move || {
            let body = json!({"call": {"call_id": "call_slow_1"}, "name": "check_availability",
                "args": {"datum": "morgen", "uhrzeit": "10 Uhr"}})
            .to_string();
            post(&addr, "/api/retell/function", &body)
        })
    };
    // Wait until the service is inside the request (Cal.com was asked).
    let asked = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        !runtime
            .block_on(calcom.received_requests())
            .unwrap_or_default()
            .is_empty()
    });
    assert!(asked, "the service never asked Cal.com");
    let mut server = server;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let (status, reply) = in_flight.join().unwrap();
    assert_eq!(status, 200, "{reply}");
    assert!(reply["status"].is_string(), "a whole reply: {reply}");
    let exit = server.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
}
