"""The `adopt` scenario of the end-to-end suite (issue 13): a namespace of 20 Deployments that run
unmanaged in the members (10 in both, 5 only in member1, 5 only in member2; every fourth with a
ConfigMap, a Secret and a NodePort Service) is adopted with `karmada-takeover adopt -n NS`, with
the webhook installed. Checked on the real objects: every template and its takeover policy exist
in Karmada, each member copy becomes `karmada.io/managed`, and nothing running was replaced: the
same Deployment uid, the same ReplicaSets (pod-template-hash), the same replicas and Pods, and
the Services keep their nodePorts. A second run adopts nothing and writes nothing new.
"""
import json
import os
import subprocess

import scenarios as s


def binary():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(s.ROOT, "target")
    if not os.path.isabs(target):
        target = os.path.join(s.ROOT, target)
    return os.path.join(target, "debug", "karmada-takeover")


def adopt(*args):
    cmd = [binary(), "adopt", *args, "--kubeconfig", s.KUBECONFIG, "--context", s.KARMADA, "-o", "json"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    try:
        return p.returncode, json.loads(p.stdout), p.stderr
    except json.JSONDecodeError:
        raise s.Fail(f"adopt {' '.join(args)} exited {p.returncode} without JSON: {p.stdout[-1500:]} {p.stderr[-1500:]}")


def workloads(ns, port0):
    """name -> (members, docs): the layout of the namespace."""
    out = {}
    for i in range(20):
        name = f"w{i:02d}"
        members = s.MEMBERS if i < 10 else (["member1"] if i < 15 else ["member2"])
        if i % 4 == 0:
            docs = s.app_docs(ns, name, replicas=1 + i % 3)
            svc = docs[3]
            svc["spec"]["type"] = "NodePort"
            svc["spec"]["ports"][0]["nodePort"] = port0 + i
        else:
            docs = [d for d in s.app_docs(ns, name, replicas=1 + i % 3) if d["kind"] == "Deployment"]
            c = docs[0]["spec"]["template"]["spec"]
            c["containers"][0].pop("envFrom")
            c["containers"][0].pop("volumeMounts")
            c.pop("volumes")
        out[name] = (members, docs)
    return out


def node_ports(m, ns, name):
    svc = s.get(m, "service", name, "-n", ns)
    return [p.get("nodePort") for p in svc["spec"]["ports"]] if svc else None


def s_adopt():
    ns = s.nsname("adopt")
    # node ports unique to this run, so that `test` can run again against the same `up`
    port0 = 30000 + (int(s.RUN, 16) % 100) * 25
    layout = workloads(ns, port0)
    s.ensure_namespace(ns, s.MEMBERS)
    for name, (members, docs) in layout.items():
        for m in members:
            s.apply(m, s.as_yaml(docs))
    before = {}
    for name, (members, docs) in layout.items():
        replicas = next(d for d in docs if d["kind"] == "Deployment")["spec"]["replicas"]
        for m in members:
            before[(m, name)] = s.wait(f"{m}: {ns}/{name} with {replicas} pods", 90, lambda m=m, name=name, r=replicas: (
                lambda st: st if st and len(st["rs"]) == 1 and len(st["pods"]) == r else None)(s.member_state(m, ns, name)))
    ports = {(m, n): node_ports(m, ns, n) for n, (members, docs) in layout.items() if len(docs) > 1 for m in members}
    s.log(f"{len(layout)} Deployments running unmanaged ({len(before)} copies), {len(ports)} NodePort Service copies")

    # The plan first: nothing written.
    code, doc, err = adopt("-n", ns, "--dry-run")
    s.expect(code == 0, f"adopt --dry-run exited {code}: {json.dumps(doc)[:2000]} {err[-1000:]}")
    s.expect(doc["summary"]["planned"] == 25, f"planned {doc['summary']}, expected 20 Deployments + 5 Services")
    s.expect(s.get(s.KARMADA, "namespace", ns) is None, f"adopt --dry-run created namespace {ns} in Karmada")
    s.expect(doc["webhook"] is True, "adopt did not find the installed webhook")

    code, doc, err = adopt("-n", ns)
    s.expect(code == 0, f"adopt exited {code}: {json.dumps(doc['summary'])} "
             f"{[r for r in doc['results'] if r['result'] != 'adopted'][:3]} {err[-1000:]}")
    s.expect(doc["summary"]["adopted"] == 25, f"adopt summary {doc['summary']}")
    s.log(f"adopt: {doc['summary']}")

    for name, (members, docs) in layout.items():
        pp = s.wait(f"takeover policy of {ns}/{name}", 120, lambda name=name: s.takeover_policy(ns, name))
        pinned = sorted(pp["spec"]["placement"].get("clusterAffinity", {}).get("clusterNames") or [])
        s.expect(pinned == sorted(members), f"takeover policy of {ns}/{name} is pinned to {pinned}, expected {members}")
        for m in members:
            s.wait(f"{m}: Deployment {ns}/{name} labelled karmada.io/managed", 180, lambda m=m, name=name: s.labels(
                s.get(m, "deployment", name, "-n", ns) or {"metadata": {}}).get("karmada.io/managed") == "true")
            if len(docs) > 1:
                for kind, obj in [("service", name), ("configmap", f"{name}-config"), ("secret", f"{name}-secret")]:
                    s.wait(f"{m}: {kind} {ns}/{obj} labelled karmada.io/managed", 180, lambda m=m, kind=kind, obj=obj: s.labels(
                        s.get(m, kind, obj, "-n", ns) or {"metadata": {}}).get("karmada.io/managed") == "true")
    s.log("templates and takeover policies in Karmada; every member copy (and its ConfigMap, Secret, Service) managed")

    for (m, name), b in before.items():
        after = s.member_state(m, ns, name)
        s.expect(after["uid"] == b["uid"], f"{m}: Deployment {ns}/{name} was recreated")
        s.expect(after["rs"] == b["rs"], f"{m}: ReplicaSets of {ns}/{name} changed: {b['rs']} -> {after['rs']}")
        s.expect(after["replicas"] == b["replicas"], f"{m}: replicas of {ns}/{name}: {b['replicas']} -> {after['replicas']}")
        s.expect(after["pods"] == b["pods"], f"{m}: Pods of {ns}/{name} changed")
    for (m, name), p in ports.items():
        now = node_ports(m, ns, name)
        s.expect(now == p, f"{m}: Service {ns}/{name} nodePorts {p} -> {now}")
    s.log(f"{len(before)} copies: same uid, ReplicaSets, replicas and Pods; {len(ports)} Services kept their nodePorts")

    code, doc, err = adopt("-n", ns)
    s.expect(code == 0 and doc["summary"]["adopted"] == 0 and doc["summary"]["skipped"] == 20,
             f"a second adopt changed something (exit {code}): {doc['summary']} {err[-500:]}")
    s.log(f"second run: {doc['summary']}")
