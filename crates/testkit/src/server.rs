use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::resp::{self, Reply};
use voxcal_core::random_u64;

use crate::HarnessError;

/// How long a starting server may take to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How many ports to try when another process grabs ours between probe and bind.
const START_ATTEMPTS: usize = 8;

/// The shell wrapper that owns each `redis-server`.
///
/// It starts the server in the background, prints its pid, then blocks reading
/// its own stdin, which is a pipe held by the test process. When the test
/// process closes the pipe (on [`RedisServer::kill`], on drop, or because the
/// test process died, even by `SIGKILL`), `read` returns and the wrapper kills
/// and reaps the server. So no server outlives its test.
const WRAPPER: &str = r#"redis-server "$@" >>"$TESTKIT_LOG" 2>&1 &
pid=$!
echo "$pid"
read -r _ignored
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
exit 0"#;

/// Settings of one private server.
#[derive(Debug, Clone)]
pub(crate) struct ServerSpec {
    pub(crate) cluster: Option<ClusterNodeSpec>,
}

/// Cluster-mode settings of one node.
#[derive(Debug, Clone)]
pub(crate) struct ClusterNodeSpec {
    pub(crate) node_timeout_ms: u64,
    pub(crate) require_full_coverage: bool,
}

/// A private `redis-server` child process on a free loopback port.
///
/// Nothing is persisted (`save ""`, `appendonly no`); its working directory is
/// a temporary directory removed on drop. The process is killed when the handle
/// drops, also while a test unwinds from a panic, and also when the test process
/// itself is killed (see the module docs of the crate).
///
/// ```no_run
/// let mut server = testkit::RedisServer::start();
/// assert!(server.ping());
/// server.kill();          // simulate an outage
/// assert!(!server.ping());
/// server.restart();       // same port, empty data set
/// assert!(server.ping());
/// ```
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    spec: ServerSpec,
    dir: tempfile::TempDir,
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    wrapper: Child,
    stdin: Option<ChildStdin>,
    pid: u32,
}

impl RedisServer {
    /// Starts a private server on a free port, or panics with a message that
    /// says how to install `redis-server`.
    #[track_caller]
    pub fn start() -> Self {
        match Self::try_start() {
            Ok(server) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts a private server on a free port.
    pub fn try_start() -> Result<Self, HarnessError> {
        Self::start_with(ServerSpec { cluster: None }, false)
    }

    pub(crate) fn start_with(spec: ServerSpec, needs_bus_port: bool) -> Result<Self, HarnessError> {
        crate::redis_server_binary()?;
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port(needs_bus_port)?;
            let dir = tempfile::Builder::new()
                .prefix("testkit-redis-")
                .tempdir()
                .map_err(|e| HarnessError::Io("creating a temporary directory", e))?;
            let mut server = RedisServer {
                port,
                spec: spec.clone(),
                dir,
                running: None,
            };
            match server.spawn() {
                Ok(()) => return Ok(server),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or(HarnessError::NoFreePort))
    }

    /// The loopback port the server listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The socket address of the server.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port))
    }

    /// A `redis://` URL for clients.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The pid of the `redis-server` process while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.running.as_ref().map(|r| r.pid)
    }

    /// The server's working directory (its log is `redis.log` in there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Whether the server answers `PING` with `PONG` right now.
    pub fn ping(&self) -> bool {
        matches!(
            resp::command(self.addr(), &["PING"], Duration::from_millis(500)),
            Ok(Reply::Status(s)) if s == "PONG"
        )
    }

    /// Sends one command and returns the reply.
    pub fn command(&self, args: &[&str]) -> Result<Reply, HarnessError> {
        resp::command(self.addr(), args, Duration::from_secs(5))
            .map_err(|e| HarnessError::Io("talking to redis-server", e))
    }

    /// Whether the server process is alive.
    pub fn is_running(&self) -> bool {
        self.pid().is_some_and(process_alive)
    }

    /// Kills the server with `SIGKILL` and waits until the process is gone.
    /// Clients see connection errors until [`restart`](Self::restart).
    /// Killing a stopped server does nothing.
    pub fn kill(&mut self) {
        if let Some(mut running) = self.running.take() {
            // Closing the pipe tells the wrapper to kill and reap the server.
            drop(running.stdin.take());
            let _ = running.wrapper.wait();
            // Belt and braces: the wrapper reaped it, so this only guards
            // against a wrapper that died before it could.
            let deadline = Instant::now() + Duration::from_secs(5);
            while process_alive(running.pid) && Instant::now() < deadline {
                let _ = Command::new("kill")
                    .args(["-9", &running.pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Starts the server again on the same port and directory (a cluster node
    /// keeps its identity through `nodes.conf`; data is gone). Panics if it
    /// cannot start.
    #[track_caller]
    pub fn restart(&mut self) {
        if let Err(e) = self.try_restart() {
            panic!("{e}");
        }
    }

    /// Like [`restart`](Self::restart), returning the error.
    pub fn try_restart(&mut self) -> Result<(), HarnessError> {
        self.kill();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return Ok(()),
                // The port can be held briefly by a client's TIME_WAIT or by a
                // stranger; keep trying until the deadline.
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn spawn(&mut self) -> Result<(), HarnessError> {
        let log = self.log_path();
        let mut args: Vec<String> = vec![
            "--port".into(),
            self.port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
            "--daemonize".into(),
            "no".into(),
            "--dir".into(),
            self.dir.path().display().to_string(),
            "--loglevel".into(),
            "notice".into(),
        ];
        if let Some(cluster) = &self.spec.cluster {
            args.extend([
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                "nodes.conf".into(),
                "--cluster-node-timeout".into(),
                cluster.node_timeout_ms.to_string(),
                "--cluster-require-full-coverage".into(),
                if cluster.require_full_coverage {
                    "yes"
                } else {
                    "no"
                }
                .into(),
            ]);
        }
        let mut wrapper = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg("testkit-redis")
            .args(&args)
            .env("TESTKIT_LOG", &log)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| HarnessError::Io("spawning sh to run redis-server", e))?;
        let stdin = wrapper.stdin.take();
        let pid = match wrapper.stdout.take().map(read_pid) {
            Some(Ok(pid)) => pid,
            other => {
                drop(stdin);
                let _ = wrapper.wait();
                let why = match other {
                    Some(Err(e)) => e,
                    _ => "no stdout".to_owned(),
                };
                return Err(HarnessError::StartFailed {
                    port: self.port,
                    log: format!("could not read the server pid: {why}"),
                });
            }
        };
        self.running = Some(Running {
            wrapper,
            stdin,
            pid,
        });
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.ping() {
                return Ok(());
            }
            if !self.is_running() || Instant::now() >= deadline {
                let log = self.log_tail();
                self.kill();
                return Err(HarnessError::StartFailed {
                    port: self.port,
                    log,
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read_pid(stdout: std::process::ChildStdout) -> Result<u32, String> {
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    line.trim().parse().map_err(|e| format!("{e} in {line:?}"))
}

/// Whether a process with this pid exists and is not a zombie.
pub(crate) fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// A loopback port that is free now (and, for cluster nodes, whose bus port
/// `port + 10000` is free too). Another process may still take it before the
/// server binds; callers retry on a start failure.
fn free_port(needs_bus_port: bool) -> Result<u16, HarnessError> {
    for _ in 0..200 {
        let port = if needs_bus_port {
            // The cluster bus listens on port + 10000, so stay below 55536.
            20_000 + (random_u64() % 35_000) as u16
        } else {
            match TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| l.local_addr()) {
                Ok(addr) => addr.port(),
                Err(_) => continue,
            }
        };
        let free = |p: u16| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok();
        if free(port) && (!needs_bus_port || free(port + 10_000)) {
            return Ok(port);
        }
    }
    Err(HarnessError::NoFreePort)
}
