//! The decision engine: pure, synchronous functions of (request, fleet state, config).
//!
//! Nothing in here performs I/O, spawns tasks or knows about HTTP: every other module adapts the
//! world to these functions. `rules` depends only on the domain ([`crate::karmada`],
//! [`crate::config`]) and reads the fleet through the [`view::FleetView`] trait it defines, which
//! the fleet adapters implement.

use serde::Serialize;

use crate::karmada::{Policy, PolicyKind};

/// Something the engine wants done outside admission: the caller (policy writer / reconciler)
/// carries it out, never on `dryRun`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "action")]
pub enum Action {
    /// Create or update (server-side apply) a takeover policy.
    EnsurePolicy {
        /// The full policy object to apply (boxed: it is far larger than the other variant).
        policy: Box<Policy>,
    },
    /// Delete a takeover policy so that an application policy can claim its template
    /// (Karmada's preemption gate is off).
    ReleasePolicy {
        /// `PropagationPolicy` or `ClusterPropagationPolicy`.
        kind: PolicyKind,
        /// Empty for a ClusterPropagationPolicy.
        namespace: String,
        /// Policy name.
        name: String,
    },
}

pub use kube::core::{DynamicObject, ObjectMeta, admission::Operation};

use self::view::FleetView;
use crate::config::Config;

/// The four webhooks the engine serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Webhook {
    /// Takeover on apply: patches the template and decides the takeover policy (mutating).
    MutateWorkload,
    /// No re-promotion: rejects templates that are already multicloud (validating).
    ValidateWorkload,
    /// Guardrails in `fix` mode: patches priority/preemption (mutating).
    MutatePolicy,
    /// Guardrails in `enforce`/`warn` mode (validating).
    ValidatePolicy,
}

impl Webhook {
    /// Every webhook, in the order they are documented.
    pub const ALL: [Webhook; 4] = [
        Webhook::MutateWorkload,
        Webhook::ValidateWorkload,
        Webhook::MutatePolicy,
        Webhook::ValidatePolicy,
    ];

    /// The HTTPS path the webhook is served on.
    pub fn path(self) -> &'static str {
        match self {
            Webhook::MutateWorkload => "/mutate/workload",
            Webhook::ValidateWorkload => "/validate/workload",
            Webhook::MutatePolicy => "/mutate/policy",
            Webhook::ValidatePolicy => "/validate/policy",
        }
    }

    /// The webhook served on `path`, if any.
    pub fn from_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.path() == path)
    }

    /// Metric label and log field value.
    pub fn label(self) -> &'static str {
        match self {
            Webhook::MutateWorkload => "mutate-workload",
            Webhook::ValidateWorkload => "validate-workload",
            Webhook::MutatePolicy => "mutate-policy",
            Webhook::ValidatePolicy => "validate-policy",
        }
    }
}

/// One admission request as the engine sees it.
#[derive(Debug, Clone)]
pub struct Review<'a> {
    /// CREATE, UPDATE, DELETE or CONNECT.
    pub operation: Operation,
    /// `apps/v1`, `v1`, `policy.karmada.io/v1alpha1`... (from the request's `kind`).
    pub api_version: String,
    /// `Deployment`, `PropagationPolicy`...
    pub kind: &'a str,
    /// Empty for cluster-scoped objects.
    pub namespace: &'a str,
    /// May be empty on CREATE with `generateName`.
    pub name: &'a str,
    /// The object being admitted (absent on DELETE).
    pub object: Option<Admitted<'a>>,
    /// The stored object (UPDATE and DELETE).
    pub old_object: Option<Admitted<'a>>,
    /// Nothing may be written for a dry run.
    pub dry_run: bool,
}

/// An object in a review: its metadata, typed, and the rest of its JSON (`spec`, `data`,
/// `status`...) from whichever parser read it ([`json`] says why there are two).
#[derive(Debug, Clone, Copy)]
pub struct Admitted<'a> {
    /// `metadata`.
    pub metadata: &'a ObjectMeta,
    /// Every key but `apiVersion`, `kind` and `metadata`.
    pub body: json::Json<'a>,
}

impl<'a> From<&'a DynamicObject> for Admitted<'a> {
    fn from(o: &'a DynamicObject) -> Self {
        Admitted {
            metadata: &o.metadata,
            body: json::Json::Serde(&o.data),
        }
    }
}

/// Allowed or denied, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "verdict")]
pub enum Verdict {
    /// Admit (possibly with a patch and warnings).
    Allow,
    /// Reject with a message written for the person who applied the object.
    Deny {
        /// Metric label.
        reason: DenyReason,
        /// One sentence: what was found, where, what to do instead.
        message: String,
    },
}

/// Why a request was denied: the label of `karmada_takeover_denials_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DenyReason {
    /// The template carries member-side Karmada markers (exported from a managed member).
    MemberMarkers,
    /// A member cluster holds a Karmada-managed copy of the workload.
    ManagedInMember,
    /// Takeover requested on a template an application policy already claims.
    ClaimedByApplication,
    /// The `karmada-takeover.io/clusters` annotation is malformed or names unknown clusters.
    InvalidClusters,
    /// A label or annotation of ours has a value we cannot use.
    InvalidMarker,
    /// The object could not be read as the kind it claims to be.
    MalformedObject,
    /// A policy breaks the tier rules (enforce mode, or fix mode with no possible fix).
    Guardrail,
    /// The takeover would roll pods, rescale, change config or Service ports, or fail
    /// (`restartGuard: enforce`).
    RestartGuard,
    /// A placement Karmada's scheduler cannot satisfy (`placementGuard: enforce`).
    Placement,
}

impl DenyReason {
    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            DenyReason::MemberMarkers => "member-markers",
            DenyReason::ManagedInMember => "managed-in-member",
            DenyReason::ClaimedByApplication => "claimed-by-application",
            DenyReason::InvalidClusters => "invalid-clusters",
            DenyReason::InvalidMarker => "invalid-marker",
            DenyReason::MalformedObject => "malformed-object",
            DenyReason::Guardrail => "guardrail",
            DenyReason::RestartGuard => "restart-guard",
            DenyReason::Placement => "placement",
        }
    }
}

/// What the engine answers for one review.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Allow or deny.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// JSON patch against the original object (mutating webhooks only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patch: Vec<json_patch::PatchOperation>,
    /// Shown to the client by kubectl.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Writes to carry out after admission (skipped on dryRun).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    /// The takeover the engine decided, for transcripts and `check` output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub takeover: Option<takeover::TakeoverPlan>,
    /// The restart guard's verdict per source cluster, when it compared anything (also on a
    /// denial).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<restart::RestartCheck>,
    /// The placement guard's verdict (`placementGuard`), for `check` output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<placement::guard::PlacementVerdict>,
}

impl Decision {
    /// Admit unchanged.
    pub fn allow() -> Self {
        Self {
            verdict: Verdict::Allow,
            patch: Vec::new(),
            warnings: Vec::new(),
            actions: Vec::new(),
            takeover: None,
            restart: None,
            placement: None,
        }
    }

    /// Reject.
    pub fn deny(reason: DenyReason, message: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Deny {
                reason,
                message: message.into(),
            },
            ..Self::allow()
        }
    }

    /// Adds a warning.
    #[must_use]
    pub fn warn(mut self, warning: impl Into<String>) -> Self {
        self.warnings.push(warning.into());
        self
    }

    /// Whether the request is admitted.
    pub fn allowed(&self) -> bool {
        matches!(self.verdict, Verdict::Allow)
    }
}

/// Decides one review for one webhook.
pub fn decide(webhook: Webhook, review: &Review<'_>, fleet: &impl FleetView, config: &Config) -> Decision {
    match webhook {
        Webhook::MutateWorkload | Webhook::ValidateWorkload => {
            workload::decide(webhook, review, fleet, config)
        }
        Webhook::MutatePolicy | Webhook::ValidatePolicy => {
            guardrails::decide_dynamic(webhook, review, fleet, config)
        }
    }
}

pub mod adopt;
pub mod claim;
pub mod dependencies;
pub mod echo;
pub mod guardrails;
pub mod json;
pub mod linger;
pub mod patch;
pub mod placement;
pub mod restart;
pub mod selector;
pub mod takeover;
#[cfg(test)]
pub(crate) mod testing;
pub mod tier;
pub mod view;
pub mod workload;
