use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::resp::Reply;
use crate::server::{ClusterNodeSpec, RedisServer, ServerSpec};
use crate::HarnessError;

/// How long a new or healed cluster may take to report `cluster_state:ok`.
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Shape of a test cluster.
///
/// The defaults give the smallest real Cluster: 3 masters, no replicas, a 2 s
/// node timeout, and Redis' default of refusing queries while any slot is
/// uncovered.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Number of masters (Redis needs at least 3).
    pub masters: usize,
    /// Replicas per master.
    pub replicas_per_master: usize,
    /// `cluster-node-timeout` in milliseconds.
    pub node_timeout_ms: u64,
    /// `cluster-require-full-coverage`.
    pub require_full_coverage: bool,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            masters: 3,
            replicas_per_master: 0,
            node_timeout_ms: 2_000,
            require_full_coverage: true,
        }
    }
}

/// A private Redis Cluster of `redis-server` processes on free loopback ports,
/// created with `redis-cli --cluster create` and torn down on drop.
///
/// ```no_run
/// let cluster = testkit::RedisCluster::start();
/// let urls = cluster.urls(); // one redis:// URL per node, masters first
/// assert_eq!(urls.len(), 3);
/// assert!(cluster.is_ok());
/// ```
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
    config: ClusterConfig,
}

impl RedisCluster {
    /// Starts a 3-master cluster, or panics with a message that says what is
    /// missing.
    #[track_caller]
    pub fn start() -> Self {
        match Self::try_start(ClusterConfig::default()) {
            Ok(cluster) => cluster,
            Err(e) => panic!("{e}"),
        }
    }

    /// Starts a cluster of the given shape.
    pub fn try_start(config: ClusterConfig) -> Result<Self, HarnessError> {
        if config.masters < 3 {
            return Err(HarnessError::Cluster(format!(
                "a Redis Cluster needs at least 3 masters, {} requested",
                config.masters
            )));
        }
        crate::redis_cli_binary()?;
        let total = config.masters * (1 + config.replicas_per_master);
        let spec = ServerSpec {
            cluster: Some(ClusterNodeSpec {
                node_timeout_ms: config.node_timeout_ms,
                require_full_coverage: config.require_full_coverage,
            }),
        };
        let mut nodes = Vec::with_capacity(total);
        for _ in 0..total {
            nodes.push(RedisServer::start_with(spec.clone(), true)?);
        }
        let cluster = RedisCluster { nodes, config };
        cluster.create()?;
        cluster.wait_ok(CONVERGE_TIMEOUT)?;
        Ok(cluster)
    }

    fn create(&self) -> Result<(), HarnessError> {
        let mut cmd = Command::new("redis-cli");
        cmd.arg("--cluster").arg("create");
        for node in &self.nodes {
            cmd.arg(format!("127.0.0.1:{}", node.port()));
        }
        cmd.args([
            "--cluster-replicas",
            &self.config.replicas_per_master.to_string(),
            "--cluster-yes",
        ]);
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| HarnessError::Io("running redis-cli --cluster create", e))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(HarnessError::Cluster(format!(
                "redis-cli --cluster create failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )))
        }
    }

    /// Waits until every running node reports `cluster_state:ok` and knows
    /// every slot.
    pub fn wait_ok(&self, timeout: Duration) -> Result<(), HarnessError> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let states: Vec<String> = self
                    .nodes
                    .iter()
                    .map(|n| format!("{}: {}", n.port(), n.cluster_info_line("cluster_state")))
                    .collect();
                return Err(HarnessError::Cluster(format!(
                    "cluster did not converge within {timeout:?}: {}",
                    states.join(", ")
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether every running node reports `cluster_state:ok` with all 16384
    /// slots assigned and reachable.
    pub fn is_ok(&self) -> bool {
        self.nodes.iter().filter(|n| n.is_running()).all(|n| {
            n.cluster_info_line("cluster_state") == "ok"
                && n.cluster_info_line("cluster_slots_ok") == "16384"
        })
    }

    /// `CLUSTER INFO` of the first running node.
    pub fn info(&self) -> Result<String, HarnessError> {
        let node = self
            .nodes
            .iter()
            .find(|n| n.is_running())
            .ok_or_else(|| HarnessError::Cluster("no node is running".to_owned()))?;
        node.cluster_info()
    }

    /// One `redis://` URL per node, in start order (masters first when there
    /// are replicas, as `redis-cli` assigns them).
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes, for killing and restarting one (see [`RedisServer::kill`]).
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// One node, mutably, for [`RedisServer::kill`] and
    /// [`RedisServer::restart`]. A restarted node keeps its identity and
    /// slots through `nodes.conf`; call [`wait_ok`](Self::wait_ok) after it.
    pub fn node_mut(&mut self, index: usize) -> Option<&mut RedisServer> {
        self.nodes.get_mut(index)
    }

    /// The index of the node that serves `key` as master right now, found
    /// with `CLUSTER KEYSLOT` and `CLUSTER SLOTS`.
    pub fn master_for_key(&self, key: &str) -> Result<usize, HarnessError> {
        let node = self
            .nodes
            .iter()
            .find(|n| n.is_running())
            .ok_or_else(|| HarnessError::Cluster("no node is running".to_owned()))?;
        let slot = match node.command(&["CLUSTER", "KEYSLOT", key])? {
            Reply::Integer(slot) => slot,
            other => {
                return Err(HarnessError::Cluster(format!(
                    "CLUSTER KEYSLOT answered {other:?}"
                )))
            }
        };
        let Reply::Array(Some(ranges)) = node.command(&["CLUSTER", "SLOTS"])? else {
            return Err(HarnessError::Cluster(
                "CLUSTER SLOTS answered no array".to_owned(),
            ));
        };
        for range in ranges {
            let Reply::Array(Some(parts)) = range else {
                continue;
            };
            let (
                Some(Reply::Integer(lo)),
                Some(Reply::Integer(hi)),
                Some(Reply::Array(Some(master))),
            ) = (parts.first(), parts.get(1), parts.get(2))
            else {
                continue;
            };
            if (*lo..=*hi).contains(&slot) {
                if let Some(Reply::Integer(port)) = master.get(1) {
                    if let Some(i) = self.nodes.iter().position(|n| i64::from(n.port()) == *port) {
                        return Ok(i);
                    }
                }
            }
        }
        Err(HarnessError::Cluster(format!(
            "no master serves slot {slot}"
        )))
    }
}

impl RedisServer {
    /// `CLUSTER INFO` of this node.
    pub fn cluster_info(&self) -> Result<String, HarnessError> {
        match self.command(&["CLUSTER", "INFO"])? {
            Reply::Error(e) => Err(HarnessError::Cluster(e)),
            reply => reply
                .as_text()
                .ok_or_else(|| HarnessError::Cluster(format!("CLUSTER INFO answered {reply:?}"))),
        }
    }

    fn cluster_info_line(&self, field: &str) -> String {
        self.cluster_info()
            .ok()
            .and_then(|info| {
                info.lines().find_map(|line| {
                    line.strip_prefix(field)
                        .and_then(|rest| rest.strip_prefix(':'))
                        .map(|v| v.trim().to_owned())
                })
            })
            .unwrap_or_else(|| "unreachable".to_owned())
    }
}
