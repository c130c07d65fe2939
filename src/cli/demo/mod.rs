//! `karmada-takeover demo`: the main job end to end on this machine, with nothing installed.
//!
//! Starts the webhook server on loopback over real TLS (a throwaway CA), with the example fleet
//! (`examples/fleet`, embedded), sends real AdmissionReview requests for each interesting case
//! with a real HTTPS client, and prints what the webhook answered and which policy it would create.
//! The same cases are the golden fixtures of `tests/golden_reviews.rs`.

use std::{fmt::Write as _, path::PathBuf, process::ExitCode, sync::Arc, time::Instant};

use anyhow::Context;
use arc_swap::ArcSwap;
use serde_json::Value;

pub mod client;

use client::{Client, ClientOptions, HttpVersion};

use super::output::{self, OutputError};
use crate::{
    admission,
    config::{Config, GuardrailMode},
    fleet::{SharedFleet, files},
    metrics::Metrics,
    rules::{Action, Webhook},
    server::{RunningServer, Server, Settings, State},
    tls::{self, TlsFiles},
    writer::{MemoryWriter, Writer},
    yaml,
};

/// Options of `demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Fleet directory to serve (default: the embedded copy of examples/fleet).
    #[arg(long, value_name = "DIR")]
    pub fleet: Option<PathBuf>,
    /// Also print every AdmissionReview request and response in full.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

/// What a case must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Admitted with a JSON patch.
    Patched,
    /// Admitted unchanged.
    Allowed,
    /// Denied with this reason label.
    Denied(&'static str),
}

/// One interesting request.
#[derive(Debug, Clone)]
pub struct Case {
    /// File stem of its golden fixtures.
    pub name: &'static str,
    /// One line for the transcript.
    pub title: &'static str,
    /// The webhook it is sent to.
    pub webhook: Webhook,
    /// Guardrail mode the server runs with for this case.
    pub mode: GuardrailMode,
    /// Whether the server runs with `takeover.deletionProtection` for this case.
    pub deletion_protection: bool,
    /// The AdmissionReview request.
    pub review: Value,
    /// The outcome that shows the case is decided correctly.
    pub expect: Expect,
}

fn manifest(text: &str) -> Value {
    yaml::from_str(text).unwrap_or(Value::Null)
}

/// The placement preview after the cases: where Karmada's scheduler would put shop/catalog under
/// the catalog team's application policy (the case that releases our takeover policy), over the
/// fleet's clusters.
pub fn placement_preview(fleet: &crate::fleet::Fleet) -> String {
    let policy: Option<crate::karmada::Policy> = serde_json::from_value(manifest(include_str!(
        "../../../examples/manifests/application-policy-for-catalog.yaml"
    )))
    .ok();
    let clusters: Vec<crate::karmada::Cluster> = fleet.clusters().map(|c| c.to_cluster()).collect();
    let template = template_from_fleet("catalog");
    let mut out = String::new();
    let Some(placement) = policy.as_ref().and_then(|p| p.spec.placement.as_deref()) else {
        return out;
    };
    let outcome = crate::rules::placement::schedule(
        placement,
        &clusters,
        &crate::rules::placement::Workload::from_template(&template),
    );
    let _ = writeln!(
        out,
        "\nplacement preview: shop/catalog under PropagationPolicy shop/catalog-app (karmada-takeover placement)"
    );
    for line in super::placement::table(&outcome).lines() {
        let _ = writeln!(
            out,
            "{}",
            if line.is_empty() {
                String::new()
            } else {
                format!("  {line}")
            }
        );
    }
    out
}

fn template_from_fleet(name: &str) -> Value {
    let text = include_str!("../../../examples/fleet/karmada/templates.yaml");
    files::parse_objects(text, "templates.yaml")
        .unwrap_or_default()
        .into_iter()
        .find(|o| o.value["metadata"]["name"] == name)
        .map_or(Value::Null, |o| o.value)
}

/// The demo's cases, in transcript order (also the golden fixtures).
pub fn cases() -> Vec<Case> {
    let uid = |n: u32| format!("7a3c1e52-0d4b-4f6a-9c2e-{n:012}");
    let frontend = manifest(include_str!("../../../examples/manifests/takeover-frontend.yaml"));
    let cart = manifest(include_str!("../../../examples/manifests/repromote-cart.yaml"));
    let reports = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "reports", "namespace": "payments", "labels": {"app": "reports"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "reports"}},
                 "template": {"metadata": {"labels": {"app": "reports"}}, "spec": {"containers": [{"name": "reports", "image": "registry.example.com/payments/reports:3.2.0"}]}}}
    });
    let ledger = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "ledger", "namespace": "payments", "labels": {"app": "ledger"}},
        "spec": {"serviceName": "ledger", "replicas": 3, "selector": {"matchLabels": {"app": "ledger"}},
                 "template": {"metadata": {"labels": {"app": "ledger"}}, "spec": {"containers": [{"name": "ledger", "image": "registry.example.com/payments/ledger:5.0.1",
                     "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "ledger-db", "key": "password"}}}]}]}}}
    });
    let billing = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "billing", "namespace": "payments", "labels": {"app": "billing", "team": "payments"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "billing"}},
                 "template": {"metadata": {"labels": {"app": "billing"}}, "spec": {"containers": [{"name": "billing", "image": "registry.example.com/payments/billing:1.4.2"}]}}}
    });
    let batch = manifest(include_str!(
        "../../../examples/manifests/batch-policy-too-high.yaml"
    ));
    let weak = manifest(include_str!(
        "../../../examples/manifests/weak-application-policy.yaml"
    ));
    let cpp = manifest(include_str!(
        "../../../examples/manifests/cluster-policy-cannot-win.yaml"
    ));
    let catalog = manifest(include_str!(
        "../../../examples/manifests/application-policy-for-catalog.yaml"
    ));
    let checkout = manifest(include_str!(
        "../../../examples/manifests/application-policy-unknown-cluster.yaml"
    ));
    let case = |name, title, webhook, mode, review, expect| Case {
        name,
        title,
        webhook,
        mode,
        deletion_protection: false,
        review,
        expect,
    };
    use GuardrailMode::{Enforce, Fix};
    vec![
        case(
            "takeover-frontend",
            "Takeover on apply: shop/frontend runs unmanaged in member1 and member2",
            Webhook::MutateWorkload,
            Enforce,
            admission::review_request(&uid(1), &frontend, None, false),
            Expect::Patched,
        ),
        case(
            "repromotion-exported-copy",
            "No re-promotion: shop/cart exported from member2 (Karmada's markers) and applied again",
            Webhook::ValidateWorkload,
            Enforce,
            admission::review_request(&uid(2), &cart, Some(&template_from_fleet("cart")), false),
            Expect::Denied("member-markers"),
        ),
        case(
            "repromotion-managed-in-member",
            "No re-promotion: payments/reports is managed by Karmada in member3",
            Webhook::ValidateWorkload,
            Enforce,
            admission::review_request(&uid(3), &reports, None, false),
            Expect::Denied("managed-in-member"),
        ),
        case(
            "application-policy-precedence",
            "No takeover: the application policy payments/payments-app selects payments/billing",
            Webhook::MutateWorkload,
            Enforce,
            admission::review_request(&uid(4), &billing, None, false),
            Expect::Allowed,
        ),
        case(
            "batch-policy-too-high",
            "Guardrail: a batch ClusterPropagationPolicy at priority 50",
            Webhook::ValidatePolicy,
            Enforce,
            admission::review_request(&uid(5), &batch, None, false),
            Expect::Denied("guardrail"),
        ),
        case(
            "weak-application-policy",
            "Guardrail: an application policy that cannot win over the batch policy shop/shop-batch",
            Webhook::ValidatePolicy,
            Enforce,
            admission::review_request(&uid(6), &weak, None, false),
            Expect::Denied("guardrail"),
        ),
        case(
            "weak-application-policy-fix",
            "Guardrail, fix mode: the same policy gets the smallest sufficient priority",
            Webhook::MutatePolicy,
            Fix,
            admission::review_request(&uid(7), &weak, None, false),
            Expect::Patched,
        ),
        case(
            "cluster-policy-cannot-win",
            "Guardrail: a ClusterPropagationPolicy can never beat a PropagationPolicy",
            Webhook::ValidatePolicy,
            Enforce,
            admission::review_request(&uid(8), &cpp, None, false),
            Expect::Denied("guardrail"),
        ),
        case(
            "release-takeover-policy",
            "Preemption gate off: an application policy for shop/catalog releases its takeover policy",
            Webhook::ValidatePolicy,
            Enforce,
            admission::review_request(&uid(9), &catalog, None, false),
            Expect::Allowed,
        ),
        case(
            "dry-run-takeover",
            "dryRun: payments/ledger would be taken over from member3, and nothing is written",
            Webhook::MutateWorkload,
            Enforce,
            admission::review_request(&uid(10), &ledger, None, true),
            Expect::Patched,
        ),
        Case {
            deletion_protection: true,
            ..case(
                "takeover-deletion-protected",
                "Takeover with takeover.deletionProtection: shop/frontend is also labelled deletion-protected: Always",
                Webhook::MutateWorkload,
                Enforce,
                admission::review_request(&uid(11), &frontend, None, false),
                Expect::Patched,
            )
        },
        case(
            "placement-unknown-cluster",
            "Placement guard: an application policy names membr2, which is no member cluster",
            Webhook::ValidatePolicy,
            Enforce,
            admission::review_request(&uid(12), &checkout, None, false),
            Expect::Allowed,
        ),
    ]
}

impl Case {
    /// The engine config the server runs with for this case.
    pub fn config(&self) -> Config {
        let mut c = Config::default();
        c.guardrails.mode = self.mode;
        c.takeover.deletion_protection = self.deletion_protection;
        c
    }
}

/// `(allowed, patched)` of an AdmissionReview response body.
pub fn outcome(response: &Value) -> (bool, bool) {
    let r = &response["response"];
    (r["allowed"].as_bool().unwrap_or(false), r.get("patch").is_some())
}

/// A webhook server on loopback, serving a throwaway certificate for `localhost` and `127.0.0.1`.
pub struct LocalServer {
    /// The running server.
    pub server: RunningServer,
    /// The throwaway CA that signed its certificate (what a client trusts).
    pub ca_pem: String,
    /// Holds the certificate files for as long as the server runs.
    pub _dir: tempfile::TempDir,
}

/// Starts the webhook server on loopback with a throwaway CA (demo, golden tests).
pub async fn start_local(state: State) -> anyhow::Result<LocalServer> {
    let certs = tls::dev::throwaway_ca_and_cert(&["localhost", "127.0.0.1"])?;
    let dir = tempfile::tempdir().context("creating a temporary directory for the throwaway certificate")?;
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::write(&cert, &certs.cert_pem)?;
    std::fs::write(&key, &certs.key_pem)?;
    let server = Server::start(
        Settings::loopback(TlsFiles {
            cert,
            key,
            client_ca: None,
        }),
        state,
    )
    .await?;
    Ok(LocalServer {
        server,
        ca_pem: certs.ca_pem,
        _dir: dir,
    })
}

/// Runs `demo`.
pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    tls::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(demo(args))
}

async fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let fleet = match &args.fleet {
        Some(dir) => files::load_dir(dir)?,
        None => files::embedded(),
    };
    let counts = fleet.counts();
    let preview = placement_preview(&fleet);
    let config = Arc::new(ArcSwap::from_pointee(Config::default()));
    let writer = Arc::new(MemoryWriter::default());
    let metrics = Arc::new(Metrics::new()?);
    let state = State {
        fleet: SharedFleet::new(fleet),
        config: Arc::clone(&config),
        writer: Arc::clone(&writer) as Arc<dyn Writer>,
        metrics,
    };
    let LocalServer { server, ca_pem, _dir } = start_local(state).await?;
    let addr = server.local_addr();
    let mut client = Client::connect(
        addr,
        &ClientOptions::new(ca_pem.as_bytes()).http(HttpVersion::Http2),
    )
    .await?;
    let negotiated = client
        .tls()
        .map(|t| {
            let version = t
                .version
                .map_or("TLS".to_owned(), |v| format!("{v:?}").replace("TLSv1_", "TLS 1."));
            format!(
                "{version}, ALPN {}",
                t.alpn.as_deref().map(String::from_utf8_lossy).unwrap_or_default()
            )
        })
        .unwrap_or_default();

    let mut out = String::new();
    let _ = writeln!(out, "karmada-takeover demo");
    let _ = writeln!(
        out,
        "  webhook  https://{addr} ({negotiated}, throwaway CA, ready in {:.0?})",
        started.elapsed()
    );
    let _ = writeln!(
        out,
        "  fleet    {} (3 member clusters: {} policies, {} templates, {} member objects)",
        args.fleet
            .as_ref()
            .map_or("examples/fleet (embedded)".to_owned(), |d| d
                .display()
                .to_string()),
        counts.policies,
        counts.templates,
        counts.member_entries
    );
    let _ = writeln!(
        out,
        "  config   defaults: guardrails enforce, Karmada preemption gate off, takeover policies are PropagationPolicies at priority 0"
    );
    output::print(out)?;

    let cases = cases();
    let mut failures = 0;
    for (i, case) in cases.iter().enumerate() {
        config.store(Arc::new(case.config()));
        let before = writer.recorded().len();
        let body = serde_json::to_vec(&case.review)?;
        let (status, response) = client.post_json(case.webhook.path(), body).await?;
        let response: Value =
            serde_json::from_slice(&response).context("the webhook's response is not JSON")?;
        let written: Vec<Action> = writer.recorded().split_off(before);
        let ok = print_case(
            i + 1,
            cases.len(),
            case,
            status.as_u16(),
            &response,
            &written,
            args.verbose,
        )?;
        if !ok {
            failures += 1;
        }
    }
    output::print(&preview)?;
    let mut metrics_client = Client::connect_plain(server.admin_addr()).await?;
    let (_, text) = metrics_client.get("/metrics").await?;
    let text = String::from_utf8_lossy(&text);
    let mut out = format!("\nmetrics (http://{}/metrics, excerpt):\n", server.admin_addr());
    for line in text.lines().filter(|l| {
        l.starts_with("karmada_takeover_admission_requests_total")
            || l.starts_with("karmada_takeover_denials_total")
            || l.starts_with("karmada_takeover_takeovers_total")
    }) {
        let _ = writeln!(out, "  {line}");
    }
    output::print(out)?;
    server.shutdown().await;
    output::print(format!(
        "\n{} cases, {} decided as expected{}\n",
        cases.len(),
        cases.len() - failures,
        if failures == 0 {
            "".to_owned()
        } else {
            format!(", {failures} NOT")
        }
    ))?;
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_case(
    n: usize,
    total: usize,
    case: &Case,
    status: u16,
    response: &Value,
    written: &[Action],
    verbose: bool,
) -> Result<bool, OutputError> {
    let req = &case.review["request"];
    let shown = match req["namespace"].as_str() {
        Some(ns) => format!("{ns}/{}", req["name"].as_str().unwrap_or_default()),
        None => req["name"].as_str().unwrap_or_default().to_owned(),
    };
    let mut out = String::new();
    let _ = writeln!(out, "\n[{n}/{total}] {}", case.title);
    let _ = writeln!(
        out,
        "  → POST {}  {} {} {}{}{}",
        case.webhook.path(),
        req["operation"].as_str().unwrap_or_default(),
        req["kind"]["kind"].as_str().unwrap_or_default(),
        shown,
        if req["dryRun"].as_bool() == Some(true) {
            "  dryRun"
        } else {
            ""
        },
        match (case.mode == GuardrailMode::Fix, case.deletion_protection) {
            (true, _) => "  (guardrails: fix)",
            (false, true) => "  (takeover.deletionProtection: true)",
            (false, false) => "",
        },
    );
    if verbose {
        let _ = writeln!(
            out,
            "{}",
            indent(
                &serde_json::to_string_pretty(&case.review).unwrap_or_default(),
                "    "
            )
        );
    }
    let r = &response["response"];
    let (allowed, patched) = outcome(response);
    let uid_ok = r["uid"] == req["uid"];
    let verdict = if !allowed {
        format!("DENIED ({})", r["status"]["code"])
    } else if patched {
        "ALLOWED with a JSON patch".to_owned()
    } else {
        "ALLOWED".to_owned()
    };
    let _ = writeln!(
        out,
        "  ← HTTP {status}  {verdict}{}",
        if uid_ok { "" } else { "  (uid MISMATCH)" }
    );
    if let Some(message) = r["status"]["message"].as_str().filter(|m| !m.is_empty()) {
        let _ = writeln!(out, "    message: {message}");
    }
    if let Some(patch) = r["patch"].as_str() {
        use base64::Engine as _;
        let ops: Value = base64::engine::general_purpose::STANDARD
            .decode(patch)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        for op in ops.as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "    patch: {} {} {}",
                op["op"].as_str().unwrap_or_default(),
                op["path"].as_str().unwrap_or_default(),
                op["value"]
            );
        }
    }
    for w in r["warnings"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "    warning: {}", w.as_str().unwrap_or_default());
    }
    for action in written {
        match action {
            Action::EnsurePolicy { policy } => {
                let _ = writeln!(out, "    policy to create (recorded by the writer):");
                // Through a JSON value: the transcript lists the fields in sorted order.
                let text = serde_json::to_value(policy)
                    .ok()
                    .and_then(|v| yaml::to_string(&v).ok())
                    .unwrap_or_default();
                let _ = write!(out, "{}", indent(&text, "      "));
            }
            Action::ReleasePolicy {
                kind,
                namespace,
                name,
            } => {
                let _ = writeln!(
                    out,
                    "    policy to release (recorded by the writer): {kind} {namespace}/{name}"
                );
            }
        }
    }
    if req["dryRun"].as_bool() == Some(true) {
        let _ = writeln!(out, "    dryRun: the writer recorded {} action(s)", written.len());
    }
    if verbose {
        let _ = writeln!(
            out,
            "{}",
            indent(
                &serde_json::to_string_pretty(response).unwrap_or_default(),
                "    "
            )
        );
    }
    let reason_ok = match case.expect {
        Expect::Patched => allowed && patched,
        Expect::Allowed => allowed && !patched,
        Expect::Denied(_) => !allowed && r["status"]["code"] == 403,
    };
    let dry_ok = req["dryRun"].as_bool() != Some(true) || written.is_empty();
    let ok = uid_ok && reason_ok && dry_ok && status == 200;
    let _ = writeln!(
        out,
        "  {}",
        if ok {
            "✓ decided as expected"
        } else {
            "✗ NOT as expected"
        }
    );
    output::print(out)?;
    Ok(ok)
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|l| format!("{prefix}{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placement_preview_shows_the_catalog_policy_picking_its_two_clusters() {
        let text = placement_preview(&files::embedded());
        assert!(text.contains("schedulable"), "{text}");
        assert!(text.contains("member1         1  picked"), "{text}");
        assert!(text.contains("member2         1  picked"), "{text}");
        assert!(text.contains("member3         -  cluster(s) did not match the placement cluster affinity constraint (not in clusterNames)"), "{text}");
    }
}
