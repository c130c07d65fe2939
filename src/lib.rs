//! karmada-takeover: a TLS admission webhook and policy engine for the Karmada control plane.
//!
//! ```text
//!             HTTPS (rustls, h2/http1.1)                         admin HTTP
//!  karmada-apiserver ──► server ──► admission ──► rules (pure) ◄── fleet view ◄── adapters: files | watches
//!                                       │              │
//!                                       ▼              ▼
//!                                AdmissionResponse   Decision { verdict, patch, warnings, actions }
//!                                                      │
//!                                                      ▼
//!                                      writer: applies/releases policies (never on dryRun)
//! ```
//!
//! The modules, in layers that point one way (a module imports only its own layer or lower ones;
//! `tests/layers.rs` fails otherwise):
//!
//! | layer | module | holds |
//! |---|---|---|
//! | domain | [`karmada`] | Karmada's types, keys and name algorithms; the rules its labels encode (managed, opted out, ours), reserved namespaces, API coordinates |
//! | | [`kube`] | Kubernetes API server behaviour the engine must reproduce: defaulting on create, quantity text |
//! | | [`config`] | the engine config file and its reload |
//! | | [`poll`], [`telemetry`], [`yaml`] | the reload ticker and file fingerprints; logging; YAML in and out |
//! | | [`memory`] | handing freed memory back to the OS after a burst of frees (a watch's re-list) |
//! | engine | [`rules`] | pure decisions: claim resolution, takeover, re-promotion, guardrails, placement (the scheduler preview and guard); reads the fleet through [`rules::view::FleetView`] |
//! | adapters | [`fleet`] | the indexed fleet view, filled from a fleet directory ([`fleet::files`]) or Karmada watches ([`fleet::watch`]) |
//! | | [`writer`] | carries the engine's actions out: in memory, or server-side apply into karmada-apiserver |
//! | | [`reconciler`] | leader-elected healing passes: ensure, release, gc, linger, promote, sweep |
//! | | [`metrics`] | the Prometheus registry |
//! | protocol | [`admission`] | AdmissionReview decode → rules → response |
//! | | [`tls`] | serving certificates, their validation and rotation |
//! | serving | [`server`] | the HTTPS webhook listener and the admin listener |
//! | entry points | [`cli`] | `serve`, `demo` (with its HTTPS client), `explain`, `check`, `placement`, `deps` |

// `print!` panics when stdout is closed or full: output goes through `cli::output::print`, errors
// to `main`, logs through `telemetry`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

// domain
pub mod config;
pub mod karmada;
pub mod kube;
pub mod memory;
pub mod poll;
pub mod telemetry;
pub mod yaml;

// engine
pub mod rules;

// adapters
pub mod fleet;
pub mod metrics;
pub mod reconciler;
pub mod writer;

// protocol
pub mod admission;
pub mod tls;

// serving
pub mod server;

// entry points
pub mod cli;
