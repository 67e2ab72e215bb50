//! A booking-service replica as a real process (`fleet-replica`), its output
//! appended to one log file across restarts, killable with SIGKILL.

use std::fs::OpenOptions;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fleet-replica");

#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) index: usize,
    pub(crate) addr: SocketAddr,
    pub(crate) log: PathBuf,
    config: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// Incremented by every start.
    pub(crate) generation: u32,
}

impl Replica {
    pub(crate) fn start(
        index: usize,
        config: &Path,
        log_dir: &Path,
        env: Vec<(String, String)>,
    ) -> Replica {
        let log = log_dir.join(format!("replica-{index}.log"));
        let mut replica = Replica {
            index,
            addr: "127.0.0.1:0".parse().unwrap(),
            log,
            config: config.to_owned(),
            env,
            child: None,
            generation: 0,
        };
        replica.spawn();
        replica
    }

    fn spawn(&mut self) {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let before = std::fs::metadata(&self.log).map_or(0, |m| m.len());
        let mut cmd = Command::new(BIN);
        cmd.arg(&self.config)
            .env_remove("BOOKING_CONFIG")
            .env_remove("REDIS_URL")
            .env_remove("REDIS_CLUSTER_NODES")
            .env_remove("BOOKING_REDIS_PREFIX")
            .env_remove("BOOKING_REDIS_TIMEOUT_MS")
            .env("BOOKING_BIND", self.addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        self.child = Some(child);
        self.generation += 1;
        // Wait for "listening on http://<addr>" in the new part of the log.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read(&self.log).unwrap_or_default();
            let new =
                String::from_utf8_lossy(&text[usize::try_from(before).unwrap()..]).into_owned();
            if let Some(line) = new.lines().find(|l| l.contains("listening on http://")) {
                self.addr = line
                    .rsplit("http://")
                    .next()
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("replica {} exited at start ({status}):\n{new}", self.index);
            }
            assert!(
                Instant::now() < deadline,
                "replica {} did not start:\n{new}",
                self.index
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL, then wait for the process to be gone.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same address, appending to the same log.
    pub(crate) fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// SIGTERM and wait (graceful shutdown); the exit status.
    pub(crate) fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return child.wait().ok();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Resident set size of a process in KiB (`VmRSS` in `/proc/<pid>/status`).
pub(crate) fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}
