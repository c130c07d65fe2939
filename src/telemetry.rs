//! tracing subscriber setup: `RUST_LOG` filter (default `info`), plain or JSON lines on stdout.
//!
//! Field values come from requests (a review's uid, name, namespace), so a value must never be able
//! to end its line. The JSON format escapes by construction; the plain format writes values
//! through [`EscapedFields`], which escapes line breaks and every other control character.
//!
//! The webhook logs one event per review, so at tens of thousands of reviews per second a
//! `write(2)` per line is a measurable share of a core. Lines are therefore collected in a buffer
//! and written when it holds [`FLUSH_BYTES`], every [`FLUSH_INTERVAL`] (a background thread), on
//! every WARN/ERROR event, and on [`flush`]. A crash can lose at most the last interval's INFO
//! lines.

use std::{
    fmt::Write as _,
    io::{IsTerminal, Write},
    sync::{Arc, OnceLock},
    time::Duration,
};

use parking_lot::Mutex;
use tracing::field::{Field, Visit};
use tracing_subscriber::{
    EnvFilter,
    field::RecordFields,
    fmt,
    fmt::{
        FormatFields, MakeWriter,
        format::{Format, Writer},
    },
    prelude::*,
};

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
            .with(plain_layer(writer, std::io::stdout().is_terminal()))
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

/// The plain format: tracing-subscriber's default line, with fields written by [`EscapedFields`].
pub fn plain_layer<S, W>(writer: W, ansi: bool) -> fmt::Layer<S, EscapedFields, Format, W>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fmt::layer()
        .with_target(false)
        .with_ansi(ansi)
        .fmt_fields(EscapedFields)
        .with_writer(writer)
}

/// Formats fields as tracing-subscriber's [`DefaultFields`] does (`message`, then `name=value`
/// separated by spaces), with control characters in values escaped: `\n`, `\r`, `\t`, and
/// `\x1b`-style escapes for the other C0 controls and DEL, `\u{85}`-style for C1 controls and the
/// Unicode line and paragraph separators. A value can then neither end its line (a forged log
/// line) nor drive the terminal (ANSI escape sequences).
///
/// [`DefaultFields`]: tracing_subscriber::fmt::format::DefaultFields
#[derive(Debug, Default, Clone, Copy)]
pub struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> std::fmt::Result {
        let mut visitor = EscapingVisitor {
            writer,
            first: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct EscapingVisitor<'writer> {
    writer: Writer<'writer>,
    first: bool,
    result: std::fmt::Result,
}

impl EscapingVisitor<'_> {
    fn value(&mut self, value: &dyn std::fmt::Debug) -> std::fmt::Result {
        write!(Escaping(&mut self.writer), "{value:?}")
    }
}

impl Visit for EscapingVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record_debug(field, &format_args!("{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.record_debug(field, &format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let name = field.name();
        // Metadata of `log` records, already shown in the line's prefix (as DefaultFields does).
        if self.result.is_err() || name.starts_with("log.") {
            return;
        }
        let pad = if self.first { "" } else { " " };
        self.first = false;
        self.result = if name == "message" {
            self.writer.write_str(pad).and_then(|()| self.value(value))
        } else {
            let name = name.strip_prefix("r#").unwrap_or(name);
            let written = if self.writer.has_ansi_escapes() {
                // Italic name, dimmed `=`, as DefaultFields paints them.
                write!(self.writer, "{pad}\x1b[3m{name}\x1b[0m\x1b[2m=\x1b[0m")
            } else {
                write!(self.writer, "{pad}{name}=")
            };
            written.and_then(|()| self.value(value))
        };
    }
}

/// Passes text through, escaping control characters (see [`EscapedFields`]).
struct Escaping<'a, W: std::fmt::Write>(&'a mut W);

impl<W: std::fmt::Write> std::fmt::Write for Escaping<'_, W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        // Almost every value is printable ASCII: one scan, one write.
        if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return self.0.write_str(s);
        }
        let mut clean = 0;
        for (i, c) in s.char_indices() {
            let escape: Option<&str> = match c {
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                _ => None,
            };
            let control = c.is_control() || c == '\u{2028}' || c == '\u{2029}';
            if escape.is_none() && !control {
                continue;
            }
            self.0.write_str(&s[clean..i])?;
            match escape {
                Some(e) => self.0.write_str(e)?,
                None if (c as u32) < 0x80 => write!(self.0, "\\x{:02x}", c as u32)?,
                None => write!(self.0, "\\u{{{:x}}}", c as u32)?,
            }
            clean = i + c.len_utf8();
        }
        self.0.write_str(&s[clean..])
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::fmt::format::DefaultFields;

    use super::*;

    /// Captures what a layer writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn plain_lines(ansi: bool, log: impl FnOnce()) -> String {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(plain_layer(captured.clone(), ansi));
        tracing::subscriber::with_default(subscriber, log);
        let bytes = captured.0.lock().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_value_cannot_forge_a_plain_log_line() {
        let uid = "u-1\n2025-01-01T00:00:00.000000Z ERROR forged: rotate the admin password";
        let name = "web\r\x1b[31mred\x1b[0m\u{85}\u{2028}end\tx\x00";
        let out = plain_lines(false, || {
            tracing::info!(uid = %uid, name = %name, kind = "Deploy\nment", "review {}", "of\nfoo");
        });
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(out.ends_with('\n'), "{out:?}");
        assert!(
            out.contains(r"uid=u-1\n2025-01-01T00:00:00.000000Z ERROR forged"),
            "{out}"
        );
        assert!(
            out.contains(r"name=web\r\x1b[31mred\x1b[0m\u{85}\u{2028}end\tx\x00"),
            "{out}"
        );
        assert!(out.contains(r#"kind="Deploy\nment""#), "{out}");
        assert!(out.contains(r"review of\nfoo"), "{out}");
        assert!(!out.contains('\x1b') && !out.contains('\r'), "{out:?}");
    }

    #[test]
    fn plain_fields_read_as_the_default_format() {
        let ours = plain_lines(false, || {
            tracing::info!(uid = %"u-1", n = 3, flag = true, s = "x y", opt = ?Some(1), r#type = "t", "review");
        });
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(
            fmt::layer()
                .with_target(false)
                .with_ansi(false)
                .fmt_fields(DefaultFields::new())
                .with_writer(captured.clone()),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(uid = %"u-1", n = 3, flag = true, s = "x y", opt = ?Some(1), r#type = "t", "review");
        });
        let default = String::from_utf8(captured.0.lock().clone()).unwrap();
        // Drop the timestamps.
        let tail = |s: &str| s.split_once(' ').map(|(_, t)| t.to_owned()).unwrap_or_default();
        assert_eq!(tail(&ours), tail(&default));
        let painted = plain_lines(true, || tracing::info!(uid = %"u\n1", "review"));
        assert!(
            painted.contains("\x1b[3muid\x1b[0m\x1b[2m=\x1b[0mu\\n1"),
            "{painted:?}"
        );
    }

    #[test]
    fn log_format_names_the_flag_when_unknown() {
        assert_eq!("json".parse::<LogFormat>().unwrap(), LogFormat::Json);
        let err = "yaml".parse::<LogFormat>().unwrap_err().to_string();
        assert!(err.contains("--log-format"), "{err}");
    }
}
