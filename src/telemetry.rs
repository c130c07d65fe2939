//! tracing subscriber setup: `RUST_LOG` filter (default `info`), plain or JSON lines on stdout.
//!
//! The webhook logs one event per review, so at tens of thousands of reviews per second a
//! `write(2)` per line is a measurable share of a core. Lines are therefore collected in a buffer
//! and written when it holds [`FLUSH_BYTES`], every [`FLUSH_INTERVAL`] (a background thread), on
//! every WARN/ERROR event, and on [`flush`]. A crash can lose at most the last interval's INFO
//! lines.

use std::{
    io::{IsTerminal, Write},
    sync::{Arc, OnceLock},
    time::Duration,
};

use parking_lot::Mutex;
use tracing_subscriber::{EnvFilter, fmt, fmt::MakeWriter, prelude::*};

/// Buffered log bytes are written once the buffer holds this much.
pub const FLUSH_BYTES: usize = 32 * 1024;
/// Buffered log bytes are written at least this often.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// The process-wide log sink (set by [`init`]).
static SINK: OnceLock<Arc<Sink>> = OnceLock::new();

/// Buffered stdout.
#[derive(Debug, Default)]
struct Sink {
    buffer: Mutex<Vec<u8>>,
}

impl Sink {
    fn flush(&self) {
        let mut buffer = self.buffer.lock();
        Self::write_out(&mut buffer);
    }

    fn write_out(buffer: &mut Vec<u8>) {
        if buffer.is_empty() {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        // Nowhere to report a failing stdout; drop the lines rather than grow without bound.
        let _ = stdout.write_all(buffer);
        let _ = stdout.flush();
        buffer.clear();
    }
}

/// One event's writer: appends to the sink; `urgent` events are written at once.
struct SinkWriter<'a> {
    sink: &'a Sink,
    urgent: bool,
}

impl Write for SinkWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut buffer = self.sink.buffer.lock();
        buffer.extend_from_slice(data);
        if self.urgent || buffer.len() >= FLUSH_BYTES {
            Sink::write_out(&mut buffer);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `MakeWriter` over the shared sink.
#[derive(Clone)]
struct SinkMaker(Arc<Sink>);

impl<'a> MakeWriter<'a> for SinkMaker {
    type Writer = SinkWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        SinkWriter {
            sink: &self.0,
            urgent: false,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        SinkWriter {
            sink: &self.0,
            urgent: *meta.level() <= tracing::Level::WARN,
        }
    }
}

/// Writes out buffered log lines (call before the process exits).
pub fn flush() {
    if let Some(sink) = SINK.get() {
        sink.flush();
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Plain,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// Telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// `--log-format` is not `plain` or `json`.
    #[error("--log-format {0:?}: expected `plain` or `json`")]
    Format(String),
    /// `RUST_LOG` does not parse as a filter.
    #[error("RUST_LOG: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    /// A global subscriber is already installed (telemetry initialised twice).
    #[error("tracing subscriber already installed: {0}")]
    Init(#[from] tracing_subscriber::util::TryInitError),
}

impl std::str::FromStr for LogFormat {
    type Err = TelemetryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "plain" => Ok(Self::Plain),
            "json" => Ok(Self::Json),
            other => Err(TelemetryError::Format(other.to_owned())),
        }
    }
}

/// Installs the global subscriber. The filter comes from `RUST_LOG`, `info` when unset.
pub fn init(format: LogFormat) -> Result<(), TelemetryError> {
    let filter = match std::env::var(EnvFilter::DEFAULT_ENV) {
        Ok(value) if !value.trim().is_empty() => EnvFilter::try_new(value)?,
        _ => EnvFilter::new("info"),
    };
    let sink = Arc::new(Sink::default());
    let writer = SinkMaker(sink.clone());
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Plain => registry
            .with(
                fmt::layer()
                    .with_target(false)
                    .with_ansi(std::io::stdout().is_terminal())
                    .with_writer(writer),
            )
            .try_init()?,
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_writer(writer),
            )
            .try_init()?,
    }
    if SINK.set(sink.clone()).is_ok() {
        // A plain thread: the flusher must keep running even if the async runtime is saturated.
        let spawned = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(FLUSH_INTERVAL);
                    sink.flush();
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start the log flusher; logs are written when the buffer fills");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_format_names_the_flag_when_unknown() {
        assert_eq!("json".parse::<LogFormat>().unwrap(), LogFormat::Json);
        let err = "yaml".parse::<LogFormat>().unwrap_err().to_string();
        assert!(err.contains("--log-format"), "{err}");
    }
}
