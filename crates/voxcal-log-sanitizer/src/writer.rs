//! A `tracing_subscriber` writer that sanitizes every formatted event.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

use crate::Sanitizer;

/// Events larger than this are sanitized and written in pieces, cut at a line
/// end, so a runaway event cannot hold unbounded memory.
const MAX_BUFFER: usize = 64 * 1024;

/// Wraps any [`MakeWriter`] (stdout, a file, a non-blocking appender) so that
/// everything a `tracing_subscriber::fmt` layer writes goes through
/// [`Sanitizer::sanitize`] first. It works with every formatter (full,
/// compact, pretty, JSON): the formatter renders the whole event, the writer
/// redacts it, and only then does it reach the inner writer. (A tracing
/// `Layer` cannot rewrite events for other layers; a writer can.)
///
/// ```
/// use voxcal_log_sanitizer::{Sanitizer, SanitizingMakeWriter};
///
/// let writer = SanitizingMakeWriter::new(Sanitizer::default(), std::io::stdout);
/// let subscriber = tracing_subscriber::fmt()
///     .with_writer(writer)
///     .with_ansi(false)
///     .finish();
/// tracing::subscriber::with_default(subscriber, || {
///     // Printed as: ... booking confirmed email="[EMAIL_REDACTED]"
///     tracing::info!(email = "max@gmx.de", "booking confirmed");
/// });
/// ```
///
/// The JSON formatter works the same way, and the output stays valid JSON:
///
/// ```
/// use voxcal_log_sanitizer::{Sanitizer, SanitizingMakeWriter};
///
/// let writer = SanitizingMakeWriter::new(Sanitizer::default(), std::io::stderr);
/// let subscriber = tracing_subscriber::fmt()
///     .json()
///     .with_writer(writer)
///     .finish();
/// tracing::subscriber::with_default(subscriber, || {
///     // {"timestamp":…,"level":"INFO","fields":{"message":"caller","phone":"[PHONE_REDACTED]"},…}
///     tracing::info!(phone = "+49 30 1234567", "caller");
/// });
/// ```
#[derive(Clone, Debug)]
pub struct SanitizingMakeWriter<M> {
    sanitizer: Sanitizer,
    inner: M,
}

impl<M> SanitizingMakeWriter<M> {
    /// Wraps `inner`; every event is redacted by `sanitizer`.
    pub fn new(sanitizer: Sanitizer, inner: M) -> Self {
        SanitizingMakeWriter { sanitizer, inner }
    }

    /// The wrapped `MakeWriter`.
    pub fn get_ref(&self) -> &M {
        &self.inner
    }
}

impl<'a, M> MakeWriter<'a> for SanitizingMakeWriter<M>
where
    M: MakeWriter<'a>,
{
    type Writer = SanitizingWriter<'a, M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        SanitizingWriter::new(&self.sanitizer, self.inner.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        SanitizingWriter::new(&self.sanitizer, self.inner.make_writer_for(meta))
    }
}

/// The writer made by [`SanitizingMakeWriter`]: it collects one event, and
/// sanitizes and forwards it on [`flush`](Write::flush) or drop.
#[derive(Debug)]
pub struct SanitizingWriter<'a, W: Write> {
    sanitizer: &'a Sanitizer,
    buf: Vec<u8>,
    inner: W,
}

impl<'a, W: Write> SanitizingWriter<'a, W> {
    fn new(sanitizer: &'a Sanitizer, inner: W) -> Self {
        SanitizingWriter {
            sanitizer,
            buf: Vec::new(),
            inner,
        }
    }

    fn forward(&mut self, upto: usize) -> io::Result<()> {
        if upto == 0 {
            return Ok(());
        }
        let clean = self.sanitizer.sanitize_bytes(&self.buf[..upto]);
        let res = self.inner.write_all(clean.as_bytes());
        drop(clean);
        self.buf.drain(..upto);
        res
    }
}

impl<W: Write> Write for SanitizingWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() > MAX_BUFFER {
            if let Some(nl) = self.buf.iter().rposition(|&c| c == b'\n') {
                self.forward(nl + 1)?;
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.forward(self.buf.len())?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for SanitizingWriter<'_, W> {
    fn drop(&mut self) {
        // Errors cannot be reported from drop; the inner writer sees what it got.
        let _ = self.forward(self.buf.len());
    }
}
