//! One connection type for a standalone Redis and a Redis Cluster.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

use super::slot::key_slot;

/// How a [`RedisConnection`] connects and how long a command may take.
///
/// The defaults suit a store that falls back to local decisions: 500 ms to
/// connect, 500 ms per answer, two retries with at most 500 ms between
/// them. A store's own per-decision timeout (if it has one) applies on top.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    connection_timeout: Duration,
    response_timeout: Duration,
    retries: u32,
    max_delay: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            connection_timeout: Duration::from_millis(500),
            response_timeout: Duration::from_millis(500),
            retries: 2,
            max_delay: Duration::from_millis(500),
        }
    }
}

impl ConnectOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long connecting (and reconnecting) may take.
    pub fn with_connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// How long one answer may take.
    pub fn with_response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How often a failed (re)connection is retried.
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The longest pause between two retries.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }
}

/// A connection to a standalone Redis or a Redis Cluster, shared by every
/// Redis store of the family.
///
/// Clones share the underlying connection (they are cheap: hand one to each
/// store). It implements [`ConnectionLike`], so commands, pipelines and
/// scripts run on it as on any `redis` connection. A standalone connection
/// reconnects by itself after an outage; a Cluster connection follows the
/// Cluster's topology.
///
/// ```no_run
/// # async fn run() -> redis::RedisResult<()> {
/// use voxcal_core::redis::RedisConnection;
///
/// let standalone = RedisConnection::connect("redis://127.0.0.1:6379/").await?;
/// let cluster = RedisConnection::connect_cluster([
///     "redis://127.0.0.1:7000/",
///     "redis://127.0.0.1:7001/",
///     "redis://127.0.0.1:7002/",
/// ])
/// .await?;
/// assert!(!standalone.is_cluster() && cluster.is_cluster());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisConnection {
    kind: Kind,
    /// The addresses it was made from (empty for a wrapped connection).
    nodes: Arc<[String]>,
}

#[derive(Clone)]
enum Kind {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

impl RedisConnection {
    /// Connects to a standalone server with the default [`ConnectOptions`].
    pub async fn connect(url: &str) -> RedisResult<Self> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    /// Connects to a standalone server.
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connection_timeout))
            .set_response_timeout(Some(options.response_timeout))
            .set_number_of_retries(options.retries as usize)
            .set_max_delay(options.max_delay);
        let manager = client.get_connection_manager_with_config(config).await?;
        Ok(RedisConnection {
            kind: Kind::Standalone(manager),
            nodes: Arc::from([url.to_owned()]),
        })
    }

    /// Connects to a Redis Cluster through any of its nodes, with the
    /// default [`ConnectOptions`].
    pub async fn connect_cluster<I, U>(nodes: I) -> RedisResult<Self>
    where
        I: IntoIterator<Item = U>,
        U: AsRef<str>,
    {
        Self::connect_cluster_with(nodes, &ConnectOptions::default()).await
    }

    /// Connects to a Redis Cluster through any of its nodes.
    pub async fn connect_cluster_with<I, U>(nodes: I, options: &ConnectOptions) -> RedisResult<Self>
    where
        I: IntoIterator<Item = U>,
        U: AsRef<str>,
    {
        let nodes: Vec<String> = nodes.into_iter().map(|u| u.as_ref().to_owned()).collect();
        let client = ClusterClientBuilder::new(nodes.clone())
            .connection_timeout(options.connection_timeout)
            .response_timeout(options.response_timeout)
            .retries(options.retries)
            .build()?;
        let conn = client.get_async_connection().await?;
        Ok(RedisConnection {
            kind: Kind::Cluster(conn),
            nodes: Arc::from(nodes),
        })
    }

    /// Connects to one URL as a standalone server, or to several as the
    /// nodes of a Cluster (as a service's configuration lists them).
    ///
    /// An empty list is an error of kind `InvalidClientConfig`.
    pub async fn connect_any<I, U>(urls: I, options: &ConnectOptions) -> RedisResult<Self>
    where
        I: IntoIterator<Item = U>,
        U: AsRef<str>,
    {
        let urls: Vec<String> = urls.into_iter().map(|u| u.as_ref().to_owned()).collect();
        match urls.as_slice() {
            [] => Err(redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "no Redis URL given",
            ))),
            [one] => Self::connect_with(one, options).await,
            _ => Self::connect_cluster_with(urls, options).await,
        }
    }

    /// Whether this is a Cluster connection.
    pub fn is_cluster(&self) -> bool {
        matches!(self.kind, Kind::Cluster(_))
    }

    /// The slot `key` lives on for this connection: its Cluster
    /// [`key_slot`] on a Cluster, 0 on a standalone server (which has one).
    #[inline]
    pub fn slot(&self, key: &[u8]) -> u16 {
        match self.kind {
            Kind::Standalone(_) => 0,
            Kind::Cluster(_) => key_slot(key),
        }
    }

    /// The Cluster connection underneath (a clone), for what only a Cluster
    /// offers, such as routing a command to one chosen node; `None` on a
    /// standalone server.
    pub fn cluster_connection(&self) -> Option<ClusterConnection> {
        match &self.kind {
            Kind::Standalone(_) => None,
            Kind::Cluster(c) => Some(c.clone()),
        }
    }

    /// The URLs the connection was made from, in the order given (empty for
    /// a connection made from an existing manager or Cluster connection). A
    /// store that needs its own connections, such as a pub/sub subscriber,
    /// opens them from these.
    ///
    /// They may carry a password: never log them.
    pub fn node_urls(&self) -> &[String] {
        &self.nodes
    }
}

impl From<ConnectionManager> for RedisConnection {
    fn from(manager: ConnectionManager) -> Self {
        RedisConnection {
            kind: Kind::Standalone(manager),
            nodes: Arc::from([]),
        }
    }
}

impl From<ClusterConnection> for RedisConnection {
    fn from(conn: ClusterConnection) -> Self {
        RedisConnection {
            kind: Kind::Cluster(conn),
            nodes: Arc::from([]),
        }
    }
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match &mut self.kind {
            Kind::Standalone(c) => c.req_packed_command(cmd),
            Kind::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match &mut self.kind {
            Kind::Standalone(c) => c.req_packed_commands(pipeline, offset, count),
            Kind::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match &self.kind {
            Kind::Standalone(c) => c.get_db(),
            Kind::Cluster(c) => c.get_db(),
        }
    }
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Standalone(_) => "standalone",
            Kind::Cluster(_) => "cluster",
        };
        // The URLs may hold a password: only their number is shown.
        f.debug_struct("RedisConnection")
            .field("kind", &kind)
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{ConnectOptions, RedisConnection};

    #[tokio::test]
    async fn an_empty_node_list_is_a_clear_error() {
        let none: [&str; 0] = [];
        let err = RedisConnection::connect_any(none, &ConnectOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), redis::ErrorKind::InvalidClientConfig);
        assert!(err.to_string().contains("no Redis URL"), "{err}");
    }

    #[tokio::test]
    async fn a_bad_url_is_an_error_not_a_panic() {
        let err = RedisConnection::connect("not a url").await.unwrap_err();
        assert_eq!(err.kind(), redis::ErrorKind::InvalidClientConfig, "{err}");
    }

    #[tokio::test]
    async fn one_url_is_standalone_and_debug_hides_the_urls() {
        let server = testkit::RedisServer::start();
        let url = server.url();
        let conn = RedisConnection::connect_any([url.as_str()], &ConnectOptions::default())
            .await
            .unwrap();
        assert!(!conn.is_cluster());
        assert!(conn.cluster_connection().is_none());
        assert_eq!(conn.slot(b"{a}b"), 0);
        assert_eq!(conn.node_urls(), std::slice::from_ref(&url));
        // URLs may carry a password: Debug shows only how many there are.
        let shown = format!("{conn:?}");
        assert!(!shown.contains(&server.port().to_string()), "{shown}");
        assert!(shown.contains("nodes: 1"), "{shown}");
    }
}
