"""Random objects for scripts/deps-oracle/run.sh, one JSON object a line: every kind Karmada's
default interpreter handles and a few it does not, pod specs with references in every place
visitpod.go looks (and some it does not), volumes with several sources, empty and null names,
wrong JSON types where the interpreter reads, Ingress TLS entries without secretName, long
ServiceImport names. Wrong types elsewhere are not generated: `deps` does not check them (see
src/rules/dependencies/decode.rs).

Usage: gen.py SEED COUNT
"""
import json, random, sys
R = random.Random(int(sys.argv[1]))
N = int(sys.argv[2])
names = ["a", "b", "c", "default", ""]
def name(): return R.choice(names)
def maybe_bad(v):
    r = R.random()
    if r < 0.03: return 7
    if r < 0.05: return None
    return v
def ref(key="name"):
    r = R.random()
    if r < 0.03: return "oops"
    if r < 0.06: return None
    if r < 0.09: return {}
    return {key: maybe_bad(name())}
def container():
    c = {"name": "c", "image": "x"}
    if R.random() < 0.6:
        c["envFrom"] = [R.choice([{"configMapRef": ref()}, {"secretRef": ref()}, {"configMapRef": ref(), "secretRef": ref()}, {}]) for _ in range(R.randint(0, 3))]
    if R.random() < 0.6:
        c["env"] = [R.choice([{"name": "E", "valueFrom": {"configMapKeyRef": ref()}}, {"name": "E", "valueFrom": {"secretKeyRef": ref()}},
                               {"name": "E", "value": "v"}, {"name": "E", "valueFrom": None}, {"name": "E", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}]) for _ in range(R.randint(0, 3))]
    return c
def source():
    k = R.choice(["azureFile", "cephfs", "cinder", "flexVolume", "projected", "rbd", "secret", "scaleIO", "iscsi", "storageos", "csi", "configMap", "persistentVolumeClaim", "emptyDir", "nfs", "glusterfs"])
    if k == "azureFile": return k, {"secretName": maybe_bad(name()), "shareName": "s"}
    if k in ("cephfs", "cinder", "flexVolume", "rbd", "scaleIO", "iscsi", "storageos"):
        return k, R.choice([{"secretRef": ref()}, {}])
    if k == "projected":
        return k, {"sources": [R.choice([{"secret": ref()}, {"configMap": ref()}, {"secret": ref(), "configMap": ref()}, {"serviceAccountToken": {"path": "t"}}]) for _ in range(R.randint(0, 3))]}
    if k == "secret": return k, {"secretName": maybe_bad(name())}
    if k == "csi": return k, R.choice([{"driver": "d", "nodePublishSecretRef": ref()}, {"driver": "d"}])
    if k == "configMap": return k, ref()
    if k == "persistentVolumeClaim": return k, {"claimName": maybe_bad(R.choice(["data", "db", "", "a"]))}
    if k == "emptyDir": return k, {}
    if k == "nfs": return k, {"server": "s", "path": "/"}
    return k, {"endpoints": "e", "path": "p"}
def volume():
    v = {"name": "v"}
    for _ in range(R.choice([1, 1, 1, 2, 3])):
        k, s = source()
        v[k] = s
    return v
def pod_spec():
    s = {}
    for g in ["containers", "initContainers", "ephemeralContainers"]:
        if R.random() < 0.5: s[g] = [container() for _ in range(R.randint(0, 2))]
    if R.random() < 0.4: s["imagePullSecrets"] = [R.choice([{"name": maybe_bad(name())}, {}]) for _ in range(R.randint(0, 2))]
    if R.random() < 0.7: s["volumes"] = [volume() for _ in range(R.randint(0, 4))]
    if R.random() < 0.5: s["serviceAccountName"] = maybe_bad(name())
    if R.random() < 0.2: s["serviceAccount"] = "legacy"
    return s
kinds = [("apps/v1", "Deployment"), ("apps/v1", "ReplicaSet"), ("apps/v1", "DaemonSet"), ("apps/v1", "StatefulSet"), ("batch/v1", "Job"), ("batch/v1", "CronJob"), ("v1", "Pod"),
         ("networking.k8s.io/v1", "Ingress"), ("multicluster.x-k8s.io/v1alpha1", "ServiceImport"), ("batch/v1beta1", "CronJob"), ("extensions/v1beta1", "Ingress"), ("v1", "ConfigMap"), ("apps/v1", "deployment")]
for i in range(N):
    av, k = R.choice(kinds)
    meta = {"name": R.choice(["w", "fake-serviceImport", "x" * R.randint(50, 60)])}
    if R.random() < 0.8: meta["namespace"] = R.choice(["shop", "karmada-test"])
    o = {"apiVersion": av, "kind": k, "metadata": meta}
    if k == "Pod": o["spec"] = pod_spec()
    elif k == "CronJob": o["spec"] = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec()}}}}
    elif k == "Ingress":
        o["spec"] = {"tls": [R.choice([{"secretName": R.choice(["t1", "t2", "t1"])}, {"hosts": ["h"]}, {"secretName": ""}, {"secretName": "t2", "hosts": ["x"]}]) for _ in range(R.randint(0, 3))]}
    elif k == "ServiceImport": o["spec"] = {"type": "ClusterSetIP", "ports": [{"port": 80, "protocol": "TCP"}]}
    else:
        o["spec"] = {"replicas": 2, "template": {"spec": pod_spec()}}
        if k == "StatefulSet" and R.random() < 0.6:
            o["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": R.choice(["data", "db", "a"])}} for _ in range(R.randint(0, 2))]
    print(json.dumps(o))
