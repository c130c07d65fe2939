//! karmada-takeover: a TLS admission webhook and policy engine for the Karmada control plane.
//!
//! ```text
//!             HTTPS (rustls, h2/http1.1)                         admin HTTP
//!  karmada-apiserver ──► server ──► admission ──► rules (pure) ◄── fleet view ◄── adapters: files | karmada
//!                                       │              │
//!                                       ▼              ▼
//!                                AdmissionResponse   Decision { verdict, patch, warnings, actions }
//!                                                      │
//!                                                      ▼
//!                                      writer: applies/release policies (never on dryRun)
//! ```
//!
//! [`rules`] is the engine: pure functions, no I/O. Every other module adapts the world to it.

pub mod admission;
pub mod cli;
pub mod config;
pub mod fleet;
pub mod karmada;
pub mod metrics;
pub mod poll;
pub mod reconciler;
pub mod rules;
pub mod server;
pub mod telemetry;
pub mod tls;
pub mod writer;
pub mod yaml;
