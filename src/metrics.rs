//! Prometheus metrics with an explicit registry.
