//! The engine configuration file (YAML, hot reloaded by `serve`, shipped by the chart as a ConfigMap).
//!
//! Every field has a default, so an empty file (or no file) is a valid configuration. Unknown keys
//! are rejected: a typo such as `preemptiongate` would otherwise silently keep the default.
//!
//! ```yaml
//! kinds:                       # the resource templates the takeover/re-promotion webhooks act on
//!   - {apiVersion: apps/v1, kind: Deployment}
//! namespaces:
//!   include: []                # empty = every namespace; `*` at the end is a prefix match
//!   exclude: [legacy-*]        # added to the always-excluded karmada-system, karmada-cluster, karmada-es-*, kube-*
//! takeover:
//!   policyKind: PropagationPolicy   # or ClusterPropagationPolicy
//!   priority: 0                # must not exceed tiers.batchMaxPriority
//!   propagateDeps: true
//!   preserveResourcesOnDeletion: true
//!   deletionProtection: false
//! tiers:
//!   batchMaxPriority: 0
//!   applicationMinPriority: 1
//! guardrails:
//!   mode: enforce              # enforce | warn | fix
//! preemptionGate: false        # does karmada-controller-manager run with PropagationPolicyPreemption=true?
//! placementGuard: warn         # warn | enforce | off: placements Karmada's scheduler cannot satisfy
//! discovery:
//!   timeout: 2s
//! restartGuard: enforce        # enforce | warn | off: takeovers that would roll pods, rescale or change config
//! ```

use std::{path::Path, time::Duration};

use serde::{Deserialize, Serialize};

pub mod reload;

use crate::karmada::namespaces;

/// A configuration file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML did not parse or had unknown keys / wrong types.
    #[error("config file {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why, with the field path, line and column.
        source: crate::yaml::Error,
    },
    /// The values parse but contradict each other or Karmada's rules.
    #[error("config file {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The whole configuration. See the module docs for the file format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Config {
    /// Resource templates the takeover and re-promotion webhooks act on.
    #[serde(deserialize_with = "crate::yaml::null_as_default")]
    pub kinds: Vec<KindRef>,
    /// Namespace scoping.
    #[serde(deserialize_with = "crate::yaml::null_as_default")]
    pub namespaces: Namespaces,
    /// Shape of the takeover policies the engine creates.
    #[serde(deserialize_with = "crate::yaml::null_as_default")]
    pub takeover: Takeover,
    /// Priority bands of the two policy tiers.
    #[serde(deserialize_with = "crate::yaml::null_as_default")]
    pub tiers: Tiers,
    /// What to do with a policy that breaks the tier rules.
    #[serde(deserialize_with = "crate::yaml::null_as_default")]
    pub guardrails: Guardrails,
    /// Whether karmada-controller-manager runs with the `PropagationPolicyPreemption` feature
    /// gate (Alpha, off by default). When off, the engine releases takeover policies itself so
    /// that application policies can claim their templates.
    pub preemption_gate: bool,
    /// What admission does with a placement Karmada's scheduler cannot satisfy: an application
    /// policy that places its kind in no cluster or names a cluster that does not exist, a
    /// takeover policy whose source cluster the scheduler would filter out
    /// (the engine's `rules::placement::guard`).
    pub placement_guard: PlacementGuard,
    /// API discovery.
    #[serde(deserialize_with = "crate::yaml::null_as_default")]
    pub discovery: Discovery,
    /// What the restart guard does with a takeover that would roll pods, rescale, change config
    /// or Service ports, or fail (`enforce` denies, `warn` admits with warnings, `off` skips it).
    pub restart_guard: RestartGuardMode,
}

/// What the restart guard does with a takeover that would disrupt what runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RestartGuardMode {
    /// Deny it, with the difference per cluster (unless the template carries
    /// `karmada-takeover.io/allow-rollout: "true"`).
    #[default]
    Enforce,
    /// Admit it with the difference per cluster as warnings.
    Warn,
    /// Compare nothing.
    Off,
}

/// An `apiVersion` + `kind` pair, compared by exact string like Karmada's resource selectors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KindRef {
    /// `apps/v1`, `v1`, `batch/v1`...
    pub api_version: String,
    /// `Deployment`, `ConfigMap`...
    pub kind: String,
}

impl KindRef {
    /// Builds a kind reference.
    pub fn new(api_version: &str, kind: &str) -> Self {
        Self {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
        }
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        crate::karmada::api::group_of(&self.api_version)
    }
}

/// Namespace include/exclude lists. A pattern ending in `*` matches by prefix.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Namespaces {
    /// When non-empty, only these namespaces are acted on.
    #[serde(deserialize_with = "crate::yaml::null_as_default")]
    pub include: Vec<String>,
    /// Never acted on (in addition to [`namespaces::ALWAYS_EXCLUDED_PATTERNS`]).
    #[serde(deserialize_with = "crate::yaml::null_as_default")]
    pub exclude: Vec<String>,
}

/// Which policy kind the engine creates for a takeover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TakeoverPolicyKind {
    /// A namespaced PropagationPolicy in the template's namespace (the default).
    PropagationPolicy,
    /// A ClusterPropagationPolicy. Any matching PropagationPolicy beats it, so application
    /// teams can take over without priority tuning.
    ClusterPropagationPolicy,
}

/// Fields of the takeover policies the engine creates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Takeover {
    /// PropagationPolicy or ClusterPropagationPolicy.
    pub policy_kind: TakeoverPolicyKind,
    /// `spec.priority` of takeover policies (batch tier).
    pub priority: i32,
    /// `spec.propagateDeps`: ConfigMaps/Secrets/ServiceAccounts/PVCs follow the workload.
    pub propagate_deps: bool,
    /// `spec.preserveResourcesOnDeletion`: deleting the template never deletes member workloads.
    pub preserve_resources_on_deletion: bool,
    /// Label templates `resourcetemplate.karmada.io/deletion-protected: Always` when adopting
    /// them, so Karmada's webhook refuses to delete them (default off).
    pub deletion_protection: bool,
}

impl Default for Takeover {
    fn default() -> Self {
        Self {
            policy_kind: TakeoverPolicyKind::PropagationPolicy,
            priority: 0,
            propagate_deps: true,
            preserve_resources_on_deletion: true,
            deletion_protection: false,
        }
    }
}

/// Priority bands. Batch policies must stay at or below `batch_max_priority`; the fix mode
/// raises application policies to at least `application_min_priority`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Tiers {
    /// Highest `spec.priority` a batch (takeover) policy may have.
    pub batch_max_priority: i32,
    /// Lowest `spec.priority` the fix mode gives an application policy that competes with batch ones.
    pub application_min_priority: i32,
}

impl Default for Tiers {
    fn default() -> Self {
        Self {
            batch_max_priority: 0,
            application_min_priority: 1,
        }
    }
}

/// Guardrail behaviour for PropagationPolicy / ClusterPropagationPolicy admission.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Guardrails {
    /// enforce, warn or fix.
    pub mode: GuardrailMode,
}

/// What the guardrails do with a policy that breaks the tier rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuardrailMode {
    /// Deny it, saying what to change.
    #[default]
    Enforce,
    /// Admit it with warnings.
    Warn,
    /// Patch it to the smallest priority/preemption that makes it correct; deny what no patch can fix.
    Fix,
}

/// The placement guard's mode (config `placementGuard`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlacementGuard {
    /// Admit, with a warning per problem that gives the reason per cluster.
    #[default]
    Warn,
    /// Deny, with the same message.
    Enforce,
    /// Do not check placements.
    Off,
}

impl PlacementGuard {
    /// `warn`, `enforce` or `off`, as the config file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementGuard::Warn => "warn",
            PlacementGuard::Enforce => "enforce",
            PlacementGuard::Off => "off",
        }
    }
}

/// API discovery settings (used with `--kubeconfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Discovery {
    /// Longest wait for one API discovery call (for kinds outside the built-in table) in
    /// karmada-apiserver or through a member cluster's proxy; slower calls are retried with backoff.
    #[serde(with = "humantime_serde_compat")]
    pub timeout: Duration,
}

impl Default for Discovery {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(2),
        }
    }
}

/// `Duration` as a humantime string (`2s`, `500ms`).
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!("{text:?} is not a duration like 2s or 500ms: {e}"))
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            kinds: default_kinds(),
            namespaces: Namespaces::default(),
            takeover: Takeover::default(),
            tiers: Tiers::default(),
            guardrails: Guardrails::default(),
            preemption_gate: false,
            placement_guard: PlacementGuard::default(),
            discovery: Discovery::default(),
            restart_guard: RestartGuardMode::default(),
        }
    }
}

/// Deployment, StatefulSet, DaemonSet, Job, CronJob, Service, ConfigMap, Secret.
pub fn default_kinds() -> Vec<KindRef> {
    [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("v1", "Service"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
    ]
    .into_iter()
    .map(|(v, k)| KindRef::new(v, k))
    .collect()
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::from_yaml(&text, &shown)
    }

    /// Parses and validates config text; `origin` names the source in error messages.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            crate::yaml::from_str(text).map_err(|source| ConfigError::Parse {
                path: origin.to_owned(),
                source,
            })?
        };
        config.validate().map_err(|message| ConfigError::Invalid {
            path: origin.to_owned(),
            message,
        })?;
        Ok(config)
    }

    /// Checks the values against each other and against Karmada's rules.
    pub fn validate(&self) -> Result<(), String> {
        if self.kinds.is_empty() {
            return Err(
                "kinds must name at least one apiVersion/kind (or be left out for the defaults)".into(),
            );
        }
        for (i, k) in self.kinds.iter().enumerate() {
            if k.api_version.is_empty() || k.kind.is_empty() {
                return Err(format!("kinds[{i}] needs both apiVersion and kind"));
            }
        }
        if self.takeover.priority > self.tiers.batch_max_priority {
            return Err(format!(
                "takeover.priority {} is above tiers.batchMaxPriority {}: takeover policies are batch policies \
                 and must stay at or below the batch maximum",
                self.takeover.priority, self.tiers.batch_max_priority
            ));
        }
        if self.tiers.application_min_priority <= self.tiers.batch_max_priority {
            return Err(format!(
                "tiers.applicationMinPriority {} must be greater than tiers.batchMaxPriority {}, otherwise \
                 application policies cannot be guaranteed to win",
                self.tiers.application_min_priority, self.tiers.batch_max_priority
            ));
        }
        for pattern in self.namespaces.include.iter().chain(&self.namespaces.exclude) {
            if pattern.is_empty() || pattern[..pattern.len() - 1].contains('*') {
                return Err(format!(
                    "namespace pattern {pattern:?} is not valid: use a name, or a prefix ending in a single `*`"
                ));
            }
        }
        if self.discovery.timeout.is_zero() || self.discovery.timeout > Duration::from_secs(30) {
            return Err(
                "discovery.timeout must be between 1ms and 30s (admission itself times out at 30s)".into(),
            );
        }
        Ok(())
    }

    /// Whether `kind` is one of the selected kinds.
    pub fn selects(&self, api_version: &str, kind: &str) -> bool {
        self.kinds
            .iter()
            .any(|k| k.api_version == api_version && k.kind == kind)
    }

    /// Whether the engine may act in `namespace` (before the namespace's own opt-out label).
    pub fn namespace_allowed(&self, namespace: &str) -> bool {
        let hit = |patterns: &[String]| patterns.iter().any(|p| pattern_matches(p, namespace));
        if namespaces::is_always_excluded(namespace) || hit(&self.namespaces.exclude) {
            return false;
        }
        self.namespaces.include.is_empty() || hit(&self.namespaces.include)
    }
}

fn pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_documented_defaults() {
        let c = Config::from_yaml("", "test").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.kinds.len(), 8);
        assert_eq!(c.guardrails.mode, GuardrailMode::Enforce);
        assert!(!c.preemption_gate);
        assert_eq!(c.placement_guard, PlacementGuard::Warn);
    }

    /// `placementGuard` takes the three modes as written; `off` is the string, not YAML 1.1's
    /// boolean, and anything else is an error naming the field, the line and the variants.
    #[rstest::rstest]
    #[case::warn("placementGuard: warn\n", PlacementGuard::Warn)]
    #[case::enforce("placementGuard: enforce\n", PlacementGuard::Enforce)]
    #[case::off("placementGuard: off\n", PlacementGuard::Off)]
    #[case::quoted_off("placementGuard: \"off\"\n", PlacementGuard::Off)]
    fn placement_guard_modes_parse(#[case] text: &str, #[case] want: PlacementGuard) {
        let c = Config::from_yaml(text, "c").unwrap();
        assert_eq!(c.placement_guard, want);
        assert_eq!(
            c.placement_guard.as_str(),
            text.split(':').nth(1).unwrap().trim().trim_matches('"')
        );
    }

    /// `restartGuard` likewise: `off` is the mode, the chart's rendering of a bare `off` included.
    #[rstest::rstest]
    #[case::enforce("restartGuard: enforce\n", RestartGuardMode::Enforce)]
    #[case::warn("restartGuard: warn\n", RestartGuardMode::Warn)]
    #[case::off("restartGuard: off\n", RestartGuardMode::Off)]
    #[case::quoted_off("restartGuard: \"off\"\n", RestartGuardMode::Off)]
    fn restart_guard_modes_parse(#[case] text: &str, #[case] want: RestartGuardMode) {
        assert_eq!(Config::from_yaml(text, "c").unwrap().restart_guard, want);
    }

    #[rstest::rstest]
    #[case::yaml_boolean("restartGuard: false\n", "restartGuard")]
    #[case::deny_is_not_a_mode("restartGuard: deny\n", "unknown variant `deny`")]
    fn restart_guard_rejects_other_values(#[case] text: &str, #[case] what: &str) {
        let err = Config::from_yaml(text, "cfg.yaml").unwrap_err().to_string();
        assert!(err.starts_with("config file cfg.yaml: restartGuard"), "{err}");
        assert!(err.contains(what), "{err}");
    }

    #[rstest::rstest]
    #[case::capitalised("placementGuard: Warn\n", "unknown variant `Warn`")]
    #[case::yaml_boolean("placementGuard: false\n", "placementGuard")]
    #[case::deny_is_not_a_mode("# guard\nplacementGuard: deny\n", "unknown variant `deny`")]
    fn placement_guard_rejects_other_values(#[case] text: &str, #[case] what: &str) {
        let err = Config::from_yaml(text, "cfg.yaml").unwrap_err().to_string();
        assert!(err.starts_with("config file cfg.yaml: placementGuard"), "{err}");
        assert!(err.contains(what), "{err}");
        assert!(err.contains("at line "), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name_and_line() {
        let err = Config::from_yaml("tiers:\n  batchMax: 3\n", "cfg.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("cfg.yaml"), "{err}");
        assert!(err.contains("batchMax"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    /// The chart's defaults, written the way Helm's `toYaml` writes them into the ConfigMap (keys
    /// sorted, lists at their key's indentation, empty lists as `[]`).
    const CHART_DEFAULTS: &str = "discovery:
  timeout: 2s
guardrails:
  mode: enforce
kinds:
- apiVersion: apps/v1
  kind: Deployment
- apiVersion: apps/v1
  kind: StatefulSet
- apiVersion: apps/v1
  kind: DaemonSet
- apiVersion: batch/v1
  kind: Job
- apiVersion: batch/v1
  kind: CronJob
- apiVersion: v1
  kind: Service
- apiVersion: v1
  kind: ConfigMap
- apiVersion: v1
  kind: Secret
namespaces:
  exclude: []
  include: []
placementGuard: warn
preemptionGate: false
restartGuard: enforce
takeover:
  policyKind: PropagationPolicy
  preserveResourcesOnDeletion: true
  priority: 0
  propagateDeps: true
tiers:
  applicationMinPriority: 1
  batchMaxPriority: 0
";

    #[test]
    fn the_chart_config_reads_as_the_defaults() {
        assert_eq!(Config::from_yaml(CHART_DEFAULTS, "c").unwrap(), Config::default());
    }

    /// A key left empty (its entries commented out) is its default, as serde_yaml read it.
    #[rstest::rstest]
    #[case::empty_section("tiers:\n")]
    #[case::every_section_empty("namespaces:\ntakeover:\ntiers:\nguardrails:\ndiscovery:\n")]
    #[case::commented_out_list("namespaces:\n  exclude:\n  # - legacy-*\n  include:\n")]
    fn empty_values_are_the_defaults(#[case] text: &str) {
        assert_eq!(Config::from_yaml(text, "c").unwrap(), Config::default());
    }

    #[test]
    fn empty_kinds_are_reported_as_empty() {
        let err = Config::from_yaml("kinds:\n", "c").unwrap_err().to_string();
        assert!(err.contains("kinds must name at least one"), "{err}");
    }

    /// Parse errors name the file, the field and the line.
    #[rstest::rstest]
    #[case::unknown_variant("guardrails:\n  mode: Fix\n", "guardrails.mode: unknown variant `Fix`", 2)]
    #[case::yaml_1_1_boolean("# gate\npreemptionGate: yes\n", "preemptionGate: invalid boolean", 2)]
    #[case::not_a_number(
        "tiers:\n  batchMaxPriority: 0\n  applicationMinPriority: high\n",
        "tiers.applicationMinPriority: invalid i32",
        3
    )]
    #[case::not_a_duration(
        "discovery:\n  timeout: 2\n",
        "discovery.timeout: \"2\" is not a duration like 2s or 500ms",
        2
    )]
    #[case::null_pattern(
        "namespaces:\n  exclude:\n  - ~\n",
        "namespaces.exclude[0]: null is not allowed here",
        3
    )]
    #[case::syntax(
        "guardrails: {mode: warn}\ntiers:\n  batchMaxPriority: 0\n applicationMinPriority: 1\n",
        "while parsing a block mapping, did not find expected key",
        4
    )]
    fn parse_errors_name_file_field_and_line(#[case] text: &str, #[case] what: &str, #[case] line: u32) {
        let err = Config::from_yaml(text, "cfg.yaml").unwrap_err().to_string();
        assert!(err.starts_with(&format!("config file cfg.yaml: {what}")), "{err}");
        assert!(err.contains(&format!("at line {line}, column ")), "{err}");
    }

    #[test]
    fn takeover_priority_above_batch_max_is_invalid() {
        let err = Config::from_yaml("takeover: {priority: 5}\n", "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("batchMaxPriority"), "{err}");
    }

    #[test]
    fn tiers_must_not_overlap() {
        let err = Config::from_yaml("tiers: {batchMaxPriority: 2, applicationMinPriority: 2}", "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("applicationMinPriority"), "{err}");
    }

    #[test]
    fn durations_parse_and_bad_ones_are_explained() {
        let c = Config::from_yaml("discovery: {timeout: 500ms}", "c").unwrap();
        assert_eq!(c.discovery.timeout, Duration::from_millis(500));
        let err = Config::from_yaml("discovery: {timeout: soon}", "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a duration"), "{err}");
    }

    #[test]
    fn reserved_namespaces_are_always_excluded() {
        let c = Config::from_yaml("namespaces: {include: ['*']}", "c").unwrap();
        for ns in [
            "karmada-system",
            "karmada-cluster",
            "karmada-es-member1",
            "kube-system",
            "kube-public",
        ] {
            assert!(!c.namespace_allowed(ns), "{ns}");
        }
        assert!(c.namespace_allowed("default"));
    }

    #[test]
    fn include_and_exclude_patterns() {
        let c = Config::from_yaml("namespaces: {include: [team-*], exclude: [team-legacy]}", "c").unwrap();
        assert!(c.namespace_allowed("team-a"));
        assert!(!c.namespace_allowed("team-legacy"));
        assert!(!c.namespace_allowed("default"));
        let err = Config::from_yaml("namespaces: {exclude: ['a*b']}", "c")
            .unwrap_err()
            .to_string();
        assert!(err.contains("a*b"), "{err}");
    }
}
