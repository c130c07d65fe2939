"""Render helpers for the chart tests.

Everything runs offline: a real `helm` (v4, installed from PyPI by scripts/install-helm.sh into
.tools/bin) renders the chart; `kubernetes-validate` checks the objects. The cases live in
CASES below, each a named set of values files / --set flags, so every test is table-style and
reports the case name.
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "karmada-takeover"
VALUES_DIR = Path(__file__).resolve().parent / "values"
HELM = os.environ.get("HELM", str(REPO / ".tools" / "bin" / "helm"))
RELEASE = "kt"
NAMESPACE = "karmada-system"
CA_PLACEHOLDER = "__KARMADA_TAKEOVER_CA_BUNDLE__"


@dataclass(frozen=True)
class Case:
    """One rendering of the chart."""

    name: str
    values_files: tuple[str, ...] = ()
    set_args: tuple[str, ...] = ()
    # Generated at run time (never committed): PEMs for certs.custom.{caCrt,crt,key}.
    custom_pem: bool = False
    extra: dict = field(default_factory=dict, hash=False, compare=False)


CASES = [
    Case("defaults"),
    Case("cert-custom-pem", custom_pem=True),
    Case("cert-custom-secret", ("cert-custom-secret.yaml",)),
    Case("cert-manager", ("cert-manager.yaml",)),
    Case("cert-manager-issuer", ("cert-manager-issuer.yaml",)),
    Case("monitoring-netpol", ("monitoring-netpol.yaml",)),
    Case("cpp-takeover", ("cpp-takeover.yaml",)),
    Case("guardrails-fix", ("guardrails-fix.yaml",)),
    Case("placement-guard-off", ("placement-guard-off.yaml",)),
    Case("placement-guard-enforce", set_args=("engine.placementGuard=enforce",)),
    Case("restart-guard-off", ("restart-guard-off.yaml",)),
    Case("restart-guard-warn", set_args=("engine.restartGuard=warn",)),
    Case("custom-kinds", ("custom-kinds.yaml",)),
    Case("rbac-off-fullname", set_args=("karmada.rbac.create=false", "fullnameOverride=takeover", "service.port=9443")),
]

# Values that helm must refuse, with a fragment of the expected error and whether `helm lint`
# refuses them too. Schema violations fail both; the cross-field checks use the template `fail`
# function, which `helm lint` (Helm 4) reports but does not treat as an error.
INVALID_CASES = [
    ("invalid-schema", "invalid-schema.yaml", "guardrails/mode", True),
    ("invalid-tiers", "invalid-tiers.yaml", "applicationMinPriority", False),
    ("invalid-placement-guard", "invalid-placement-guard.yaml", "placementGuard", True),
    ("invalid-restart-guard", "invalid-restart-guard.yaml", "restartGuard", True),
    ("invalid-karmada-name", "invalid-karmada-name.yaml", "configurationName", True),
    ("invalid-termination-grace", "invalid-termination-grace.yaml", "terminationGracePeriodSeconds", False),
    ("invalid-memory-budget", "invalid-memory-budget.yaml", "server.memoryBudgetMiB", False),
]


def case_ids(cases):
    return [c.name for c in cases]


# --------------------------------------------------------------------------------------------
# Certificates for the custom PEM case (generated with `cryptography`, nothing is committed).


@functools.cache
def custom_pems(tmp_root: str) -> dict[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "custom-test-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    host = f"{RELEASE}-karmada-takeover.{NAMESPACE}.svc"
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pems = {
        "caCrt": ca.public_bytes(serialization.Encoding.PEM).decode(),
        "crt": leaf.public_bytes(serialization.Encoding.PEM).decode(),
        "key": leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    }
    out = Path(tmp_root)
    out.mkdir(parents=True, exist_ok=True)
    for k, v in pems.items():
        (out / f"{k}.pem").write_text(v)
    return pems


# --------------------------------------------------------------------------------------------
# Helm


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([HELM, *args], capture_output=True, text=True, check=check)


def case_args(case: Case, tmp_root: Path) -> list[str]:
    args: list[str] = []
    for f in case.values_files:
        args += ["-f", str(VALUES_DIR / f)]
    for s in case.set_args:
        args += ["--set", s]
    if case.custom_pem:
        pem_dir = tmp_root / "custom-pem"
        custom_pems(str(pem_dir))
        args += ["--set", "certs.mode=custom"]
        for k in ("caCrt", "crt", "key"):
            args += ["--set-file", f"certs.custom.{k}={pem_dir / (k + '.pem')}"]
    return args


@dataclass
class Rendered:
    case: Case
    docs: list[dict]
    values: dict  # the merged values the chart saw (defaults + case)

    def find(self, kind: str, name_suffix: str = "") -> list[dict]:
        return [d for d in self.docs if d["kind"] == kind and d["metadata"]["name"].endswith(name_suffix)]

    def one(self, kind: str, name_suffix: str = "") -> dict:
        found = self.find(kind, name_suffix)
        assert len(found) == 1, f"{self.case.name}: expected one {kind} *{name_suffix}, found {len(found)}"
        return found[0]

    @property
    def manifests_cm(self) -> dict:
        return self.one("ConfigMap", "-karmada-manifests")

    @property
    def karmada_docs(self) -> list[dict]:
        """The objects the registration Job applies into karmada-apiserver."""
        text = self.manifests_cm["data"]["manifests.yaml"]
        return [d for d in yaml.safe_load_all(text) if d]

    def karmada_one(self, kind: str) -> dict:
        found = [d for d in self.karmada_docs if d["kind"] == kind]
        assert len(found) == 1, f"{self.case.name}: expected one {kind} in karmada manifests, found {len(found)}"
        return found[0]


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def merged_values(case: Case) -> dict:
    vals = yaml.safe_load((CHART / "values.yaml").read_text())
    for f in case.values_files:
        vals = deep_merge(vals, yaml.safe_load((VALUES_DIR / f).read_text()) or {})
    for s in case.set_args:
        path, _, raw = s.partition("=")
        value = yaml.safe_load(raw)
        node = vals
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    if case.custom_pem:
        vals["certs"]["mode"] = "custom"
    return vals


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("chart")


_render_cache: dict[str, Rendered] = {}


@pytest.fixture(scope="session")
def render(tmp_root):
    def _render(case: Case) -> Rendered:
        if case.name not in _render_cache:
            proc = helm("template", RELEASE, str(CHART), "-n", NAMESPACE, *case_args(case, tmp_root), check=False)
            assert proc.returncode == 0, f"{case.name}: helm template failed:\n{proc.stderr}"
            docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
            _render_cache[case.name] = Rendered(case, docs, merged_values(case))
        return _render_cache[case.name]

    return _render


def b64decode(s: str) -> str:
    return base64.b64decode(s).decode()
