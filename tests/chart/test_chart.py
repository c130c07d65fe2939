"""Chart tests: lint, render, offline schema validation and field assertions.

Run through scripts/chart-tests.sh (installs helm and the Python tools). Every test is
parametrised over named cases from conftest.CASES.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from conftest import (
    CA_PLACEHOLDER,
    CASES,
    CHART,
    INVALID_CASES,
    NAMESPACE,
    RELEASE,
    REPO,
    VALUES_DIR,
    b64decode,
    case_args,
    case_ids,
    custom_pems,
    helm,
)

# Kubernetes version whose OpenAPI schemas kubernetes-validate checks against (strict: unknown
# fields are errors).
K8S_VERSION = "1.35.0"

by_case = pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))

# The contract with the binary: path -> (webhook name, configuration kind, rule target).
WEBHOOKS = {
    "/mutate/workload": ("takeover.workload.karmada-takeover.io", "MutatingWebhookConfiguration", "kinds"),
    "/validate/workload": ("repromotion.workload.karmada-takeover.io", "ValidatingWebhookConfiguration", "kinds"),
    "/mutate/policy": ("fix.policy.karmada-takeover.io", "MutatingWebhookConfiguration", "policies"),
    "/validate/policy": ("guardrails.policy.karmada-takeover.io", "ValidatingWebhookConfiguration", "policies"),
}
VALUES_KEY = {
    "/mutate/workload": "takeover",
    "/validate/workload": "repromotion",
    "/mutate/policy": "policyFix",
    "/validate/policy": "guardrails",
}
POLICY_RULES = {
    ("policy.karmada.io", "v1alpha1", "propagationpolicies", "CREATE", "Namespaced"),
    ("policy.karmada.io", "v1alpha1", "propagationpolicies", "UPDATE", "Namespaced"),
    ("policy.karmada.io", "v1alpha1", "clusterpropagationpolicies", "CREATE", "Cluster"),
    ("policy.karmada.io", "v1alpha1", "clusterpropagationpolicies", "UPDATE", "Cluster"),
}
RESERVED_NAMESPACES = {"karmada-system", "karmada-cluster", "kube-system", "kube-public", "kube-node-lease"}


def fullname(r) -> str:
    return r.values.get("fullnameOverride") or f"{RELEASE}-karmada-takeover"


def expected_paths(r) -> set[str]:
    paths = {"/mutate/workload", "/validate/workload", "/validate/policy"}
    if r.values["engine"]["guardrails"]["mode"] == "fix":
        paths.add("/mutate/policy")
    return paths


def all_webhooks(r):
    """(configuration kind, webhook) for every webhook in karmada-apiserver."""
    out = []
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for wh in r.karmada_one(kind)["webhooks"]:
            out.append((kind, wh))
    return out


def path_of(wh) -> str:
    m = re.fullmatch(r"https://[^/]+(/.*)", wh["clientConfig"]["url"])
    assert m, wh["clientConfig"]["url"]
    return m.group(1)


def expand_rules(rules) -> set[tuple]:
    out = set()
    for rule in rules:
        for g in rule["apiGroups"]:
            for v in rule["apiVersions"]:
                for res in rule["resources"]:
                    for op in rule["operations"]:
                        out.add((g, v, res, op, rule["scope"]))
    return out


# ------------------------------------------------------------------------------------------------
# lint and refusal


@by_case
@pytest.mark.parametrize("strict", [False, True], ids=["lint", "lint-strict"])
def test_helm_lint(case, strict, tmp_root):
    args = ["lint", str(CHART), "-n", NAMESPACE, *case_args(case, tmp_root)]
    if strict:
        args.append("--strict")
    proc = helm(*args, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name,values_file,fragment,lint_refuses", INVALID_CASES, ids=[c[0] for c in INVALID_CASES])
def test_invalid_values_are_refused(name, values_file, fragment, lint_refuses):
    for cmd in (["template", RELEASE], ["install", RELEASE, "--dry-run=client"]) + ((["lint"],) if lint_refuses else ()):
        proc = helm(*cmd, str(CHART), "-n", NAMESPACE, "-f", str(VALUES_DIR / values_file), check=False)
        assert proc.returncode != 0, f"helm {cmd[0]} accepted {values_file}"
        assert fragment in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_schema_rejects_unknown_keys_and_subresources():
    proc = helm("template", RELEASE, str(CHART), "-f", str(VALUES_DIR / "invalid-schema.yaml"), check=False)
    err = proc.stderr
    assert "preemptiongate" in err, err
    assert "/kinds/0/resource" in err, err


# ------------------------------------------------------------------------------------------------
# offline validation of every rendered object

# Custom resources kubernetes-validate has no schema for. Each gets an explicit structural check
# below; a kind that is neither a built-in nor listed here fails the test.
CRD_KINDS = {"ServiceMonitor", "Issuer", "Certificate"}


def k8s_validate(doc: dict, where: str):
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        pytest.fail(f"{where}: {doc['kind']}/{doc['metadata'].get('name')}: {e.message} at {list(e.path)}")


@by_case
def test_every_host_object_validates(case, render):
    r = render(case)
    assert r.docs
    for doc in r.docs:
        if doc["kind"] in CRD_KINDS:
            continue  # test_custom_resources_structure
        k8s_validate(doc, f"{case.name} (host cluster)")


@by_case
def test_every_karmada_apiserver_object_validates(case, render):
    r = render(case)
    text = r.manifests_cm["data"]["manifests.yaml"]
    # The runtime placeholder is substituted by the Job; validate with a real base64 value there.
    text = text.replace(CA_PLACEHOLDER, base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode())
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert docs
    for doc in docs:
        assert doc["kind"] not in CRD_KINDS
        k8s_validate(doc, f"{case.name} (karmada-apiserver)")


@by_case
def test_custom_resources_structure(case, render):
    """Minimal structural checks for CRD kinds kubernetes-validate does not know."""
    r = render(case)
    labels = r.one("Service")["metadata"]["labels"]
    for doc in r.docs:
        kind = doc["kind"]
        if kind not in CRD_KINDS:
            continue
        assert set(doc) <= {"apiVersion", "kind", "metadata", "spec"}, doc.keys()
        assert doc["metadata"]["namespace"] == NAMESPACE
        spec = doc["spec"]
        if kind == "ServiceMonitor":
            assert doc["apiVersion"] == "monitoring.coreos.com/v1"
            sel = spec["selector"]["matchLabels"]
            assert all(labels.get(k) == v for k, v in sel.items()), "selector must match the Service"
            ports = {p["name"] for p in r.one("Service")["spec"]["ports"]}
            for ep in spec["endpoints"]:
                assert ep["port"] in ports and ep["path"] == "/metrics" and ep["scheme"] == "http"
        elif kind == "Issuer":
            assert doc["apiVersion"] == "cert-manager.io/v1"
            assert len(set(spec) & {"selfSigned", "ca", "vault", "acme", "venafi"}) == 1, spec
            if "ca" in spec:
                secrets = [c["spec"]["secretName"] for c in r.find("Certificate") if c["spec"].get("isCA")]
                assert spec["ca"]["secretName"] in secrets
        elif kind == "Certificate":
            assert doc["apiVersion"] == "cert-manager.io/v1"
            assert spec["secretName"] and spec["issuerRef"]["name"]
            assert spec["issuerRef"]["kind"] in {"Issuer", "ClusterIssuer"}
            assert spec["privateKey"]["algorithm"] in {"RSA", "ECDSA", "Ed25519"}
            if not spec.get("isCA"):
                assert f"{fullname(r)}.{NAMESPACE}.svc" in spec["dnsNames"]
                assert "server auth" in spec["usages"]
                if spec["issuerRef"]["kind"] == "Issuer":
                    issuers = {i["metadata"]["name"] for i in r.find("Issuer")}
                    assert spec["issuerRef"]["name"] in issuers


def test_crd_kinds_are_rendered_somewhere(render):
    """The structural checks above are not vacuous: each CRD kind appears in some case."""
    seen = {d["kind"] for c in CASES for d in render(c).docs}
    assert CRD_KINDS <= seen, CRD_KINDS - seen


# ------------------------------------------------------------------------------------------------
# webhook configurations in karmada-apiserver


@by_case
def test_configuration_names_are_ours(case, render):
    r = render(case)
    expected = r.values["webhooks"]["configurationName"] or fullname(r)
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        name = r.karmada_one(kind)["metadata"]["name"]
        assert name == expected
        assert name not in {"mutating-config", "validating-config"}


@by_case
def test_webhook_paths_names_and_urls(case, render):
    r = render(case)
    port = r.values["service"]["port"]
    host = f"{fullname(r)}.{NAMESPACE}.svc"
    seen = {}
    for kind, wh in all_webhooks(r):
        path = path_of(wh)
        assert wh["clientConfig"]["url"] == f"https://{host}:{port}{path}"
        assert "service" not in wh["clientConfig"]
        name, want_kind, _ = WEBHOOKS[path]
        assert (wh["name"], kind) == (name, want_kind)
        assert path not in seen, f"{path} registered twice"
        seen[path] = wh
    assert set(seen) == expected_paths(r)


@by_case
def test_webhook_rules_are_exact(case, render):
    r = render(case)
    kinds = set()
    for k in r.values["kinds"]:
        for op in ("CREATE", "UPDATE"):
            kinds.add((k["group"], k["version"], k["resource"], op, k.get("scope", "Namespaced")))
    for _, wh in all_webhooks(r):
        target = WEBHOOKS[path_of(wh)][2]
        got = expand_rules(wh["rules"])
        assert got == (kinds if target == "kinds" else POLICY_RULES)
        for g, v, res, op, scope in got:
            assert "*" not in (g, v, res, scope) and "/" not in res, "no wildcards, no subresources"


@by_case
def test_webhook_side_effects_versions_and_match_policy(case, render):
    r = render(case)
    for _, wh in all_webhooks(r):
        path = path_of(wh)
        assert wh["sideEffects"] == ("NoneOnDryRun" if path == "/mutate/workload" else "None"), path
        assert wh["admissionReviewVersions"] == ["v1"]
        assert wh["matchPolicy"] == "Equivalent"
        assert "objectSelector" not in wh


@by_case
def test_webhook_failure_policy_and_timeouts(case, render):
    r = render(case)
    for _, wh in all_webhooks(r):
        conf = r.values["webhooks"][VALUES_KEY[path_of(wh)]]
        assert wh["failurePolicy"] == conf["failurePolicy"]
        assert wh["timeoutSeconds"] == conf["timeoutSeconds"]


def test_default_failure_policies():
    """The defaults documented in values.yaml: takeover never blocks applies."""
    vals = yaml.safe_load((CHART / "values.yaml").read_text())["webhooks"]
    assert vals["takeover"] == {"failurePolicy": "Ignore", "timeoutSeconds": 5}
    assert vals["repromotion"]["failurePolicy"] == "Ignore"
    assert vals["guardrails"]["failurePolicy"] == "Fail"


@by_case
def test_namespace_selector(case, render):
    r = render(case)
    exact_excludes = {n for n in r.values["engine"]["namespaces"]["exclude"] if not n.endswith("*")}
    extra = set(r.values["webhooks"]["namespaceSelector"]["extraExcludedNamespaces"])
    for _, wh in all_webhooks(r):
        sel = wh["namespaceSelector"]
        assert set(sel) == {"matchExpressions"}
        exprs = {(e["key"], e["operator"]): e["values"] for e in sel["matchExpressions"]}
        assert exprs[("karmada-takeover.io/admission", "NotIn")] == ["disabled"]
        names = exprs[("kubernetes.io/metadata.name", "NotIn")]
        assert set(names) == RESERVED_NAMESPACES | exact_excludes | extra
        # karmada-es-<cluster>: labelled karmada.io/system=true by Karmada >= 1.11.
        assert exprs[("karmada.io/system", "NotIn")] == ["true"]
        assert len(exprs) == 3


# ------------------------------------------------------------------------------------------------
# certificates and caBundle


def ca_bundles(r) -> set[str]:
    return {wh["clientConfig"]["caBundle"] for _, wh in all_webhooks(r)}


@by_case
def test_ca_bundle_comes_from_the_serving_certificate_source(case, render, tmp_root):
    r = render(case)
    bundles = ca_bundles(r)
    assert len(bundles) == 1, "all webhooks share one caBundle"
    bundle = bundles.pop()
    assert bundle
    mode = r.values["certs"]["mode"]
    secret_name = f"{fullname(r)}-tls"
    runtime = r.manifests_cm["metadata"]["annotations"]["karmada-takeover.io/ca-bundle"]
    if mode == "auto":
        assert runtime == "rendered"
        secret = r.one("Secret", "-tls")
        assert secret["metadata"]["name"] == secret_name
        assert secret["type"] == "kubernetes.io/tls"
        assert b64decode(bundle) == b64decode(secret["data"]["ca.crt"])
    elif mode == "custom" and case.custom_pem:
        assert runtime == "rendered"
        pems = custom_pems(str(tmp_root / "custom-pem"))
        assert b64decode(bundle) == pems["caCrt"]
        secret = r.one("Secret", "-tls")
        assert b64decode(secret["data"]["ca.crt"]) == pems["caCrt"]
        assert b64decode(secret["data"]["tls.crt"]) == pems["crt"]
    else:
        # Existing Secret or cert-manager: the Job substitutes ca.crt of the mounted Secret.
        assert runtime == "runtime"
        assert bundle == CA_PLACEHOLDER
        assert not r.find("Secret"), "the chart must not render the TLS Secret in this mode"
        if mode == "custom":
            secret_name = r.values["certs"]["custom"]["existingSecret"]
        else:
            serving = [c for c in r.find("Certificate") if not c["spec"].get("isCA")]
            assert [c["spec"]["secretName"] for c in serving] == [secret_name]
        job = r.one("Job", "-register")
        pod = job["spec"]["template"]["spec"]
        ca_vol = next(v for v in pod["volumes"] if v["name"] == "ca")
        assert ca_vol["secret"] == {"secretName": secret_name, "items": [{"key": "ca.crt", "path": "ca.crt"}]}
        script = pod["containers"][0]["args"][0]
        assert "base64 < /etc/karmada-takeover/ca/ca.crt" in script
        assert f's|{CA_PLACEHOLDER}|${{ca_bundle}}|g' in script
    # The Deployment serves the certificate from the same Secret.
    dep = r.one("Deployment")
    tls_vol = next(v for v in dep["spec"]["template"]["spec"]["volumes"] if v["name"] == "tls")
    assert tls_vol["secret"]["secretName"] == secret_name


def _auto_cert_files(r, tmp_root: Path):
    secret = r.one("Secret", "-tls")
    out = tmp_root / f"auto-{r.case.name}"
    out.mkdir(exist_ok=True)
    for key in ("ca.crt", "tls.crt", "tls.key"):
        (out / key).write_text(b64decode(secret["data"][key]))
    return out


@pytest.mark.parametrize("case", [c for c in CASES if c.name in {"defaults", "rbac-off-fullname"}], ids=lambda c: c.name)
def test_auto_mode_leaf_is_signed_by_the_ca_bundle(case, render, tmp_root):
    from cryptography import x509

    r = render(case)
    files = _auto_cert_files(r, tmp_root)
    ca = x509.load_pem_x509_certificate((files / "ca.crt").read_bytes())
    leaf = x509.load_pem_x509_certificate((files / "tls.crt").read_bytes())
    leaf.verify_directly_issued_by(ca)
    assert x509.load_pem_x509_certificate(b64decode(ca_bundles(r).pop()).encode()) == ca
    sans = set(leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName))
    svc = fullname(r)
    assert sans == {svc, f"{svc}.{NAMESPACE}", f"{svc}.{NAMESPACE}.svc", f"{svc}.{NAMESPACE}.svc.cluster.local"}
    if shutil.which("openssl"):
        proc = subprocess.run(["openssl", "verify", "-CAfile", str(files / "ca.crt"), str(files / "tls.crt")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_auto_certs_are_kept_stable_across_upgrades():
    """`lookup` needs a live cluster (helm template always sees nothing), so this asserts the
    template's reuse logic: it looks up the Secret the Deployment mounts, in the release namespace,
    reuses its tls.crt/tls.key/ca.crt unless it is near expiry or forceRotate is set, and keeps the
    old CA in the caBundle when it does rotate."""
    src = (CHART / "templates" / "karmada-apiserver-objects.yaml").read_text()
    assert '{{- $secretName := include "karmada-takeover.tlsSecretName" . -}}' in src
    assert 'lookup "v1" "Secret" .Release.Namespace $secretName' in src
    assert '(index $d "tls.crt" | b64dec)' in src and '(index $d "tls.key" | b64dec)' in src
    assert "forceRotate" in src and "renewBeforeDays" in src
    assert '"bundle" $oldCa' in src and '(trimSuffix "\\n" $ca.Cert) $oldCa' in src
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    assert 'printf "%s-tls" (include "karmada-takeover.fullname" .)' in helpers


def test_auto_certs_without_lookup_are_fresh_each_render(render):
    """Without a cluster each render mints a new CA; the not-after annotation drives renewal."""
    a = render(CASES[0]).one("Secret", "-tls")
    proc = helm("template", RELEASE, str(CHART), "-n", NAMESPACE)
    b = next(d for d in yaml.safe_load_all(proc.stdout) if d and d["kind"] == "Secret")
    assert a["data"]["ca.crt"] != b["data"]["ca.crt"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a["metadata"]["annotations"]["karmada-takeover.io/not-after"])


# ------------------------------------------------------------------------------------------------
# RBAC in karmada-apiserver


def expected_cluster_rules(values) -> set[tuple]:
    rules = {
        ("policy.karmada.io", ("clusterpropagationpolicies", "propagationpolicies"),
         ("create", "delete", "get", "list", "patch", "update", "watch")),
        ("cluster.karmada.io", ("clusters",), ("get", "list", "watch")),
        ("cluster.karmada.io", ("clusters/proxy",), ("get",)),
        ("", ("configmaps", "secrets"), ("create",)),
        ("", ("namespaces",), ("get", "list", "watch")),
    }
    groups: dict[str, set[str]] = {}
    for k in values["kinds"]:
        groups.setdefault(k["group"], set()).add(k["resource"])
    for g, res in groups.items():
        # patch: the reconciler's sweep and linger passes.
        rules.add((g, tuple(sorted(res)), ("get", "list", "patch", "watch")))
    return rules


def rule_set(role) -> set[tuple]:
    out = set()
    for rule in role["rules"]:
        assert set(rule) == {"apiGroups", "resources", "verbs"}, "no resourceNames/nonResourceURLs"
        assert len(rule["apiGroups"]) == 1
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], f"wildcard in {field}"
        out.add((rule["apiGroups"][0], tuple(sorted(rule["resources"])), tuple(sorted(rule["verbs"]))))
    assert len(out) == len(role["rules"]), "duplicate rules"
    return out


@by_case
def test_rbac_is_exact(case, render):
    r = render(case)
    kinds = {d["kind"] for d in r.karmada_docs}
    if not r.values["karmada"]["rbac"]["create"]:
        assert kinds == {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
        return
    assert kinds == {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
                     "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
    name = r.values["karmada"]["rbac"]["name"] or fullname(r)
    lease_ns = r.values["karmada"]["leaseNamespace"] or NAMESPACE
    assert rule_set(r.karmada_one("ClusterRole")) == expected_cluster_rules(r.values)
    role = r.karmada_one("Role")
    assert role["metadata"]["namespace"] == lease_ns
    assert rule_set(role) == {("coordination.k8s.io", ("leases",), ("create", "get", "update"))}
    want_subjects = []
    for s in r.values["karmada"]["rbac"]["subjects"]:
        if s["kind"] == "ServiceAccount":
            want_subjects.append({"kind": "ServiceAccount", "name": s["name"], "namespace": s["namespace"]})
        else:
            want_subjects.append({"kind": s["kind"], "name": s["name"], "apiGroup": "rbac.authorization.k8s.io"})
    for kind, ref_kind in (("ClusterRoleBinding", "ClusterRole"), ("RoleBinding", "Role")):
        b = r.karmada_one(kind)
        assert b["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": name}
        assert b["subjects"] == want_subjects
    assert r.karmada_one("RoleBinding")["metadata"]["namespace"] == lease_ns


@by_case
def test_no_rbac_in_the_host_cluster(case, render):
    """The webhook and the Jobs never talk to the host cluster API."""
    r = render(case)
    assert not {d["kind"] for d in r.docs} & {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
    for d in r.find("Deployment") + r.find("Job"):
        assert d["spec"]["template"]["spec"]["automountServiceAccountToken"] is False


# ------------------------------------------------------------------------------------------------
# Deployment and friends


def container(dep):
    cs = dep["spec"]["template"]["spec"]["containers"]
    assert len(cs) == 1
    return cs[0]


@by_case
def test_deployment_hardening_and_availability(case, render):
    r = render(case)
    v = r.values
    dep = r.one("Deployment")
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    sel = spec["selector"]["matchLabels"]
    assert spec["replicas"] == v["replicaCount"]
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    # PodDisruptionBudget over the same pods.
    pdb = r.one("PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"] == sel
    if v["podDisruptionBudget"]["minAvailable"] is not None:
        assert pdb["spec"]["minAvailable"] == v["podDisruptionBudget"]["minAvailable"]
    else:
        assert pdb["spec"]["maxUnavailable"] == 1
    # Anti-affinity.
    anti = pod["affinity"]["podAntiAffinity"]
    if v["podAntiAffinity"]["type"] == "hard":
        term = anti["requiredDuringSchedulingIgnoredDuringExecution"][0]
    else:
        term = anti["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
    assert term["labelSelector"]["matchLabels"] == sel
    assert term["topologyKey"] == "kubernetes.io/hostname"
    # Topology spread over zones and nodes, selecting our pods.
    tsc = pod["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in tsc} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    for c in tsc:
        assert c["labelSelector"]["matchLabels"] == sel and c["matchLabelKeys"] == ["pod-template-hash"]
    # Non-root, read-only, no capabilities, RuntimeDefault seccomp.
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    c = container(dep)
    sc = c["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
    assert c["resources"]["limits"]["memory"]
    assert c["image"] == "ghcr.io/karmada-takeover/karmada-takeover:0.1.0"
    assert c["args"] == ["serve"]
    # Probes on the admin port.
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"https": 8443, "admin": 8080}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "admin", "scheme": "HTTP"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "admin", "scheme": "HTTP"}


@by_case
def test_deployment_flags_and_mounts(case, render):
    r = render(case)
    dep = r.one("Deployment")
    pod = dep["spec"]["template"]["spec"]
    c = container(dep)
    env = {e["name"]: e["value"] for e in c["env"]}
    key = r.values["karmada"]["kubeconfig"]["key"]
    assert env == {
        "KARMADA_TAKEOVER_LISTEN": "0.0.0.0:8443",
        "KARMADA_TAKEOVER_ADMIN_LISTEN": "0.0.0.0:8080",
        "KARMADA_TAKEOVER_TLS_CERT": "/etc/karmada-takeover/tls/tls.crt",
        "KARMADA_TAKEOVER_TLS_KEY": "/etc/karmada-takeover/tls/tls.key",
        "KARMADA_TAKEOVER_CONFIG": "/etc/karmada-takeover/config/config.yaml",
        "KARMADA_TAKEOVER_KUBECONFIG": f"/etc/karmada-takeover/kubeconfig/{key}",
        # The reconciler's Lease lives where the chart's Lease Role grants access.
        "KARMADA_TAKEOVER_LEASE_NAMESPACE": r.values["karmada"]["leaseNamespace"] or NAMESPACE,
        "KARMADA_TAKEOVER_MAX_BODY_BYTES": str(8 * 1024 * 1024),
        "KARMADA_TAKEOVER_MEMORY_BUDGET": str(64 * 1024 * 1024),
        "KARMADA_TAKEOVER_MAX_CONNECTIONS": "128",
        "KARMADA_TAKEOVER_IDLE_TIMEOUT": "120s",
        "KARMADA_TAKEOVER_SHUTDOWN_DELAY": "5s",
        "KARMADA_TAKEOVER_SHUTDOWN_GRACE_PERIOD": "25s",
        # Templates applied while the webhook was down are taken over by the reconciler.
        "KARMADA_TAKEOVER_SWEEP_EXISTING_TEMPLATES": str(r.values["reconciler"]["sweepExistingTemplates"]).lower(),
        "KARMADA_TAKEOVER_LOG_FORMAT": "json",
        "RUST_LOG": "info",
    }
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    for m in mounts.values():
        assert "subPath" not in m, "directories only: the binary reloads on the ..data symlink swap"
        assert m["readOnly"] is True
    assert mounts["tls"]["mountPath"] == "/etc/karmada-takeover/tls"
    assert mounts["config"]["mountPath"] == "/etc/karmada-takeover/config"
    assert mounts["kubeconfig"]["mountPath"] == "/etc/karmada-takeover/kubeconfig"
    vols = {v["name"]: v for v in pod["volumes"]}
    assert vols["kubeconfig"]["secret"]["secretName"] == r.values["karmada"]["kubeconfig"]["secretName"]
    assert vols["config"]["configMap"]["name"] == f"{fullname(r)}-config"
    svc = r.one("Service")
    assert {p["name"]: (p["port"], p["targetPort"]) for p in svc["spec"]["ports"]} == {
        "https": (r.values["service"]["port"], "https"), "admin": (8080, "admin")}
    assert svc["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]


def mebibytes(quantity: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "k": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor
    return float(quantity) / 2**20


@by_case
def test_shutdown_timing_and_memory_limit_follow_the_server_limits(case, render):
    r = render(case)
    v = r.values
    s = v["server"]
    dep = r.one("Deployment")
    pod = dep["spec"]["template"]["spec"]
    # The binary keeps serving for the delay, then drains for the grace period: the kubelet must
    # wait longer than both, or it kills the pod in the middle of the drain.
    assert pod["terminationGracePeriodSeconds"] == v["terminationGracePeriodSeconds"]
    assert pod["terminationGracePeriodSeconds"] > s["shutdownDelaySeconds"] + s["shutdownGracePeriodSeconds"]
    env = {e["name"]: e["value"] for e in container(dep)["env"]}
    assert env["KARMADA_TAKEOVER_SHUTDOWN_DELAY"] == f"{s['shutdownDelaySeconds']}s"
    assert env["KARMADA_TAKEOVER_SHUTDOWN_GRACE_PERIOD"] == f"{s['shutdownGracePeriodSeconds']}s"
    assert "lifecycle" not in container(dep), "no preStop hook: the binary delays its own shutdown"
    # README, "Security and limits": fleet state (64 MB = 61 MiB) + 3.2 × the memory budget +
    # 0.1 MiB per connection must fit the memory limit.
    assert int(env["KARMADA_TAKEOVER_MEMORY_BUDGET"]) >= 4 * int(env["KARMADA_TAKEOVER_MAX_BODY_BYTES"])
    needed = 61 + 3.2 * s["memoryBudgetMiB"] + 0.1 * s["maxConnections"]
    limit = mebibytes(container(dep)["resources"]["limits"]["memory"])
    assert limit >= needed, f"memory limit {limit} MiB < {needed} MiB needed by the server limits"


@by_case
def test_engine_config_matches_values(case, render):
    r = render(case)
    v = r.values
    cfg = yaml.safe_load(r.one("ConfigMap", "-config")["data"]["config.yaml"])
    want_kinds = [{"apiVersion": f"{k['group']}/{k['version']}" if k["group"] else k["version"], "kind": k["kind"]}
                  for k in v["kinds"]]
    assert cfg == {
        "kinds": want_kinds,
        "namespaces": v["engine"]["namespaces"],
        "takeover": v["engine"]["takeover"],
        "tiers": v["engine"]["tiers"],
        "guardrails": v["engine"]["guardrails"],
        "preemptionGate": v["engine"]["preemptionGate"],
        # A bare `off` in values is YAML's false; the chart writes the mode the binary reads.
        "placementGuard": "off" if v["engine"]["placementGuard"] is False else v["engine"]["placementGuard"],
        "restartGuard": "off" if v["engine"]["restartGuard"] is False else v["engine"]["restartGuard"],
        "discovery": v["engine"]["discovery"],
    }


@by_case
def test_optional_objects(case, render):
    r = render(case)
    assert bool(r.find("ServiceMonitor")) == r.values["serviceMonitor"]["enabled"]
    assert bool(r.find("NetworkPolicy")) == r.values["networkPolicy"]["enabled"]
    if r.find("NetworkPolicy"):
        np = r.one("NetworkPolicy")
        assert np["spec"]["podSelector"]["matchLabels"] == r.one("Deployment")["spec"]["selector"]["matchLabels"]
        ports = {p["ports"][0]["port"] for p in np["spec"]["ingress"]}
        assert ports == {8443, 8080}


# ------------------------------------------------------------------------------------------------
# registration Jobs


@by_case
def test_registration_jobs(case, render):
    r = render(case)
    v = r.values
    reg_secret = v["registration"]["kubeconfig"]["secretName"] or v["karmada"]["kubeconfig"]["secretName"]
    reg_key = v["registration"]["kubeconfig"]["key"] if v["registration"]["kubeconfig"]["secretName"] \
        else v["karmada"]["kubeconfig"]["key"]
    config_name = v["webhooks"]["configurationName"] or fullname(r)
    rbac_name = v["karmada"]["rbac"]["name"] or fullname(r)
    lease_ns = v["karmada"]["leaseNamespace"] or NAMESPACE
    hooks = {}
    for job in r.find("Job"):
        ann = job["metadata"]["annotations"]
        hooks[job["metadata"]["name"]] = ann["helm.sh/hook"]
        assert ann["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        pod = job["spec"]["template"]["spec"]
        c = pod["containers"][0]
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["runAsNonRoot"] is True
        vols = {vol["name"]: vol for vol in pod["volumes"]}
        assert vols["kubeconfig"]["secret"]["secretName"] == reg_secret
        script = c["args"][0]
        assert f'kubectl --kubeconfig "/etc/karmada-takeover/kubeconfig/{reg_key}"' in script
        if ann["helm.sh/hook"] == "post-install,post-upgrade":
            assert vols["manifests"]["configMap"]["name"] == f"{fullname(r)}-karmada-manifests"
            assert "k apply --server-side --force-conflicts" in script
            assert f"k create namespace {lease_ns}" in script
            assert "secret" not in vols.get("ca", {}) or vols["ca"]["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
        else:
            deletes = set(re.findall(r"delete --ignore-not-found (\S+) (\S+)", script))
            want = {("mutatingwebhookconfiguration", config_name), ("validatingwebhookconfiguration", config_name)}
            if v["karmada"]["rbac"]["create"]:
                want |= {("clusterrolebinding", rbac_name), ("clusterrole", rbac_name),
                         ("rolebinding", rbac_name), ("role", rbac_name)}
            assert deletes == want
            assert "namespace" not in {k for k, _ in deletes}, "never delete the lease namespace"
    assert hooks == {f"{fullname(r)}-register": "post-install,post-upgrade",
                     f"{fullname(r)}-unregister": "pre-delete"}


# ------------------------------------------------------------------------------------------------
# values.yaml documents every key; the schema knows every key


def _values_keys(node, prefix=""):
    if isinstance(node, dict):
        for k, v in node.items():
            path = f"{prefix}.{k}" if prefix else k
            yield path, v
            if isinstance(v, dict) and v:
                yield from _values_keys(v, path)


def test_every_values_key_is_in_the_schema():
    import json

    schema = json.loads((CHART / "values.schema.json").read_text())
    vals = yaml.safe_load((CHART / "values.yaml").read_text())
    for path, _ in _values_keys(vals):
        node = schema
        for part in path.split("."):
            if "properties" not in node:
                break  # a free-form Kubernetes object (resources, securityContext, ...), documented as a whole
            assert part in node["properties"], f"values key {path} is missing from values.schema.json"
            node = node["properties"][part]


def test_every_values_key_has_a_comment():
    """Every key the schema describes field by field has a comment right above it. Keys inside
    free-form Kubernetes objects (resources, securityContext, ...) are documented by the comment
    on the object itself."""
    import json

    schema = json.loads((CHART / "values.schema.json").read_text())
    lines = (CHART / "values.yaml").read_text().splitlines()
    missing = []
    stack: list[tuple[int, dict | None]] = []  # (indent, schema node of that key)
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)([A-Za-z][A-Za-z0-9]*):", line)
        if not m:
            continue
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else schema
        node = parent["properties"].get(m.group(2)) if parent and "properties" in parent else None
        stack.append((indent, node))
        if node is None:
            continue  # inside a free-form object
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        prev = lines[j].strip() if j >= 0 else ""
        if not prev.startswith("#"):
            missing.append(f"line {i + 1}: {m.group(2)}")
    assert not missing, "undocumented values keys:\n" + "\n".join(missing)


# ------------------------------------------------------------------------------------------------
# certs/gen-dev-certs.sh


def test_gen_dev_certs_script(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed: certs/gen-dev-certs.sh needs it (apt-get install openssl)")
    out = tmp_path / "dev"
    proc = subprocess.run([str(REPO / "certs" / "gen-dev-certs.sh"), str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in out.iterdir()} == {"ca.crt", "ca.key", "tls.crt", "tls.key"}
    assert (out / "tls.key").stat().st_mode & 0o077 == 0, "private key must not be group/world readable"
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(out / "ca.crt"), str(out / "tls.crt")],
                            capture_output=True, text=True)
    assert verify.returncode == 0 and verify.stdout.strip().endswith(": OK"), verify.stdout + verify.stderr
    text = subprocess.run(["openssl", "x509", "-in", str(out / "tls.crt"), "-noout", "-ext", "subjectAltName"],
                          capture_output=True, text=True, check=True).stdout
    for san in ("DNS:karmada-takeover", "DNS:karmada-takeover.karmada-system",
                "DNS:karmada-takeover.karmada-system.svc",
                "DNS:karmada-takeover.karmada-system.svc.cluster.local", "DNS:localhost", "IP Address:127.0.0.1"):
        assert re.search(re.escape(san) + r"(,|\s|$)", text), f"missing SAN {san} in {text}"
    # The key matches the certificate.
    pub_cert = subprocess.run(["openssl", "x509", "-in", str(out / "tls.crt"), "-noout", "-pubkey"],
                              capture_output=True, text=True, check=True).stdout
    pub_key = subprocess.run(["openssl", "pkey", "-in", str(out / "tls.key"), "-pubout"],
                             capture_output=True, text=True, check=True).stdout
    assert pub_cert == pub_key


def test_no_private_key_is_tracked():
    tracked = subprocess.run(["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True, check=True).stdout
    for f in tracked.splitlines():
        if f.startswith(("charts/", "certs/", "tests/chart/")):
            assert "PRIVATE " + "KEY-----" not in (REPO / f).read_text(errors="ignore"), f
