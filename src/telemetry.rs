//! tracing subscriber setup.
