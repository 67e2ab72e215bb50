//! Logging: every line passes through `log-sanitizer` before it leaves the
//! process.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;
use voxcal_log_sanitizer::{Sanitizer, SanitizingMakeWriter};

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line (`LOG_FORMAT=json`).
    Json,
}

impl LogFormat {
    /// `json` (any case) selects JSON, anything else text.
    pub fn from_env_value(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

/// A subscriber writing through a [`SanitizingMakeWriter`] around `writer`,
/// filtered by `filter` (an `EnvFilter` directive such as `info` or
/// `debug,tower_http=trace`).
pub fn subscriber<W>(
    writer: W,
    format: LogFormat,
    filter: &str,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let writer = SanitizingMakeWriter::new(Sanitizer::default(), writer);
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().finish()),
    }
}
