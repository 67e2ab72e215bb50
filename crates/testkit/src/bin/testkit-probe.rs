//! A helper process for the harness's own tests (`tests/harness.rs`):
//!
//! - `testkit-probe missing`: asks for a [`testkit::TestRedis`] and exits 1
//!   with the harness's error on stderr (run with an empty `PATH`).
//! - `testkit-probe orphan`: starts a private server, prints `PID <pid>` and
//!   sleeps, so the test can `SIGKILL` this process and check that the server
//!   died with it.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("missing") => match testkit::TestRedis::try_new() {
            Ok(_) => {
                eprintln!("a server was found; expected none");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Some("orphan") => {
            let server = match testkit::RedisServer::try_start() {
                Ok(server) => server,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            };
            if let Some(pid) = server.pid() {
                println!("PID {pid}");
            }
            std::thread::sleep(Duration::from_secs(60));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: testkit-probe missing|orphan");
            ExitCode::from(2)
        }
    }
}
