//! `apps/v1` (`pkg/apis/apps/v1/defaults.go`) and `batch/v1` (`pkg/apis/batch/v1/defaults.go`)
//! workloads: their own defaults, then their pod template's.

use serde_json::Value;

use super::{Obj, child, child_or_new, default_nil, default_str, is_nil, items, pod, str_of};

/// `SetObjectDefaults_Deployment`: `SetDefaults_Deployment`, then the pod template.
pub(super) fn deployment(root: &mut Obj) {
    let Some(spec) = child_or_new(root, "spec") else {
        return;
    };
    default_nil(spec, "replicas", Value::from(1));
    if let Some(strategy) = child_or_new(spec, "strategy") {
        default_str(strategy, "type", "RollingUpdate");
        if str_of(strategy, "type") == "RollingUpdate"
            && let Some(rolling) = child_or_new(strategy, "rollingUpdate")
        {
            default_nil(rolling, "maxUnavailable", Value::from("25%"));
            default_nil(rolling, "maxSurge", Value::from("25%"));
        }
    }
    default_nil(spec, "revisionHistoryLimit", Value::from(10));
    default_nil(spec, "progressDeadlineSeconds", Value::from(600));
    pod_template(spec);
}

/// `SetObjectDefaults_DaemonSet`: `SetDefaults_DaemonSet` (rolling update of 1 unavailable, 0
/// surge), then the pod template.
pub(super) fn daemon_set(root: &mut Obj) {
    let Some(spec) = child_or_new(root, "spec") else {
        return;
    };
    if let Some(strategy) = child_or_new(spec, "updateStrategy") {
        default_str(strategy, "type", "RollingUpdate");
        if str_of(strategy, "type") == "RollingUpdate"
            && let Some(rolling) = child_or_new(strategy, "rollingUpdate")
        {
            default_nil(rolling, "maxUnavailable", Value::from(1));
            default_nil(rolling, "maxSurge", Value::from(0));
        }
    }
    default_nil(spec, "revisionHistoryLimit", Value::from(10));
    pod_template(spec);
}

/// `SetObjectDefaults_StatefulSet`: `SetDefaults_StatefulSet`, the pod template, and each
/// volume claim template.
///
/// `rollingUpdate.maxUnavailable` (1) is defaulted only with the `MaxUnavailableStatefulSet` gate,
/// beta and off by default in v1.36 (on by default in v1.35): not set here.
pub(super) fn stateful_set(root: &mut Obj) {
    let Some(spec) = child_or_new(root, "spec") else {
        return;
    };
    default_str(spec, "podManagementPolicy", "OrderedReady");
    if let Some(strategy) = child_or_new(spec, "updateStrategy") {
        if super::is_empty_str(strategy, "type") {
            strategy.insert("type".to_owned(), Value::from("RollingUpdate"));
            default_nil(strategy, "rollingUpdate", Value::Object(Obj::new()));
        }
        if str_of(strategy, "type") == "RollingUpdate"
            && let Some(rolling) = child(strategy, "rollingUpdate")
        {
            default_nil(rolling, "partition", Value::from(0));
        }
    }
    if let Some(retention) = child_or_new(spec, "persistentVolumeClaimRetentionPolicy") {
        default_str(retention, "whenDeleted", "Retain");
        default_str(retention, "whenScaled", "Retain");
    }
    default_nil(spec, "replicas", Value::from(1));
    default_nil(spec, "revisionHistoryLimit", Value::from(10));
    pod_template(spec);
    for claim in items(spec, "volumeClaimTemplates") {
        // `Convert_apps_StatefulSetSpec_To_v1_StatefulSetSpec` writes each claim's type meta.
        claim.insert("apiVersion".to_owned(), Value::from("v1"));
        claim.insert("kind".to_owned(), Value::from("PersistentVolumeClaim"));
        pod::claim_template(claim);
        // SetDefaults_PersistentVolumeClaim: a claim's phase starts Pending, in the template too.
        if let Some(status) = child_or_new(claim, "status") {
            default_str(status, "phase", "Pending");
        }
    }
}

/// `SetObjectDefaults_ReplicaSet`: `SetDefaults_ReplicaSet` (replicas 1), then the pod template.
pub(super) fn replica_set(root: &mut Obj) {
    let Some(spec) = child_or_new(root, "spec") else {
        return;
    };
    default_nil(spec, "replicas", Value::from(1));
    pod_template(spec);
}

/// `SetObjectDefaults_Job`: `SetDefaults_Job`, then the pod template.
pub(super) fn job(root: &mut Obj) {
    // SetDefaults_Job: a Job without labels takes its pod template's (before the registry adds
    // the generated controller-uid and job-name labels to the template).
    let template_labels = root
        .get("spec")
        .and_then(|s| s.get("template"))
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .filter(|l| l.is_object())
        .cloned();
    let own_labels_empty = root
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .is_none_or(Obj::is_empty);
    if let Some(labels) = template_labels
        && own_labels_empty
        && let Some(metadata) = child_or_new(root, "metadata")
    {
        metadata.insert("labels".to_owned(), labels);
    }
    let Some(spec) = child_or_new(root, "spec") else {
        return;
    };
    job_spec(spec);
    pod_template(spec);
}

/// The spec part of `SetDefaults_Job`, and `SetDefaults_PodFailurePolicyOnPodConditionsPattern`.
fn job_spec(spec: &mut Obj) {
    if is_nil(spec, "completions") && is_nil(spec, "parallelism") {
        spec.insert("completions".to_owned(), Value::from(1));
        spec.insert("parallelism".to_owned(), Value::from(1));
    }
    default_nil(spec, "parallelism", Value::from(1));
    if is_nil(spec, "backoffLimit") {
        // With a backoffLimitPerIndex, the Job-wide limit is MaxInt32.
        let limit = if is_nil(spec, "backoffLimitPerIndex") {
            6
        } else {
            i64::from(i32::MAX)
        };
        spec.insert("backoffLimit".to_owned(), Value::from(limit));
    }
    default_nil(spec, "completionMode", Value::from("NonIndexed"));
    default_nil(spec, "suspend", Value::from(false));
    // Gate JobPodReplacementPolicy: GA and locked on in v1.36.
    if is_nil(spec, "podReplacementPolicy") {
        let policy = if is_nil(spec, "podFailurePolicy") {
            "TerminatingOrFailed"
        } else {
            "Failed"
        };
        spec.insert("podReplacementPolicy".to_owned(), Value::from(policy));
    }
    default_nil(spec, "manualSelector", Value::from(false));
    pod_failure_policy(spec);
}

/// `SetDefaults_PodFailurePolicyOnPodConditionsPattern`: a condition pattern's status is `True`.
fn pod_failure_policy(spec: &mut Obj) {
    if let Some(policy) = child(spec, "podFailurePolicy") {
        for rule in items(policy, "rules") {
            for pattern in items(rule, "onPodConditions") {
                default_str(pattern, "status", "True");
            }
        }
    }
}

/// `SetObjectDefaults_CronJob`: `SetDefaults_CronJob`, the job template's pod failure policy and
/// its pod template. `SetDefaults_Job` does **not** run on the job template: its completions,
/// backoffLimit, ... stay unset until the CronJob controller creates a Job.
pub(super) fn cron_job(root: &mut Obj) {
    let Some(spec) = child_or_new(root, "spec") else {
        return;
    };
    default_str(spec, "concurrencyPolicy", "Allow");
    default_nil(spec, "suspend", Value::from(false));
    default_nil(spec, "successfulJobsHistoryLimit", Value::from(3));
    default_nil(spec, "failedJobsHistoryLimit", Value::from(1));
    // `jobTemplate`, its `metadata` and its `spec` are structs Go always writes.
    if let Some(job_template) = child_or_new(spec, "jobTemplate") {
        child_or_new(job_template, "metadata");
        if let Some(job_spec) = child_or_new(job_template, "spec") {
            pod_failure_policy(job_spec);
            pod_template(job_spec);
        }
    }
}

/// `spec.template`, a struct Go always writes.
fn pod_template(spec: &mut Obj) {
    if let Some(template) = child_or_new(spec, "template") {
        pod::template(template);
    }
}
