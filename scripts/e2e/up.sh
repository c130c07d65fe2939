# `up` of scripts/e2e-karmada.sh (sourced after lib.sh): a Karmada control plane, two members and
# karmada-takeover, as local processes on 127.0.0.1. Install order of local-control-plane.md §4.
# shellcheck shell=bash

KARMADA_SRC=""

karmada_src() { # the Karmada module source at the pinned version, from the Go module cache
  KARMADA_SRC="$(cd "${CACHE}/build" 2>/dev/null && go mod download -json "github.com/karmada-io/karmada@${KARMADA_VERSION}" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d ${KARMADA_SRC}/charts/karmada/_crds ]] || die "Karmada source not found in the Go module cache (go mod download github.com/karmada-io/karmada@${KARMADA_VERSION})"
}

takeover_binary() { # builds karmada-takeover (debug profile: the one `cargo test` already built in CI)
  (cd "${ROOT}" && cargo build --locked --quiet --bin karmada-takeover) >&2
  TAKEOVER_BIN="${CARGO_TARGET_DIR:-${ROOT}/target}/debug/karmada-takeover"
  [[ ${TAKEOVER_BIN} == /* ]] || TAKEOVER_BIN="${ROOT}/${TAKEOVER_BIN}"
  [[ -x ${TAKEOVER_BIN} ]] || die "cargo build did not produce ${TAKEOVER_BIN}"
}

gen_pki() {
  mkdir -p "${PKI}"
  chmod 700 "${PKI}"
  gen_ca
  local lo="IP:127.0.0.1,DNS:localhost"
  gen_cert karmada-apiserver "/CN=karmada-apiserver" "${lo},DNS:karmada-apiserver.karmada-system.svc"
  # the aggregator dials the externalName but verifies <service>.<namespace>.svc (§3.2)
  gen_cert aggregated "/CN=karmada-aggregated-apiserver" "${lo},DNS:karmada-aggregated-apiserver.karmada-system.svc"
  mkdir -p "${PKI}/karmada-webhook"
  gen_cert karmada-webhook/tls "/CN=karmada-webhook" "${lo},DNS:karmada-webhook.karmada-system.svc"
  gen_cert member1 "/CN=member1" "${lo}"
  gen_cert member2 "/CN=member2" "${lo}"
  gen_cert admin "/O=system:masters/CN=system:admin"
  gen_cert front-proxy-client "/CN=front-proxy-client"
  # karmada-takeover: its client identity (the chart's default RBAC subject, User karmada-takeover,
  # nothing else) and its serving certificate (the chart's SANs + the loopback URL host)
  gen_cert takeover-client "/CN=karmada-takeover"
  gen_cert takeover-serving "/CN=karmada-takeover.karmada-system.svc" \
    "${lo},DNS:karmada-takeover,DNS:karmada-takeover.karmada-system,DNS:karmada-takeover.karmada-system.svc,DNS:karmada-takeover.karmada-system.svc.cluster.local"
  gen_sa_key sa-karmada
  gen_sa_key sa-member1
  gen_sa_key sa-member2
}

apiserver_flags() { # apiserver_flags <port> <etcd prefix> <cert> <sa key>
  echo --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$1"
  echo --endpoint-reconciler-type=none
  echo --etcd-servers="http://127.0.0.1:${P_ETCD}" --etcd-prefix="$2"
  echo --tls-cert-file="${PKI}/$3.crt" --tls-private-key-file="${PKI}/$3.key" --client-ca-file="${PKI}/ca.crt"
  echo --authorization-mode=Node,RBAC --allow-privileged=true
  echo --service-account-issuer=https://kubernetes.default.svc.cluster.local
  echo --service-account-key-file="${PKI}/$4.pub" --service-account-signing-key-file="${PKI}/$4.key"
  echo --service-cluster-ip-range=10.96.0.0/12 --v=1
}

start_etcd() {
  start etcd "$(bin etcd)" --name e2e --data-dir "${E2E}/etcd" \
    --listen-client-urls "http://127.0.0.1:${P_ETCD}" --advertise-client-urls "http://127.0.0.1:${P_ETCD}" \
    --listen-peer-urls "http://127.0.0.1:${P_ETCD_PEER}" --initial-advertise-peer-urls "http://127.0.0.1:${P_ETCD_PEER}" \
    --initial-cluster "e2e=http://127.0.0.1:${P_ETCD_PEER}" --listen-metrics-urls "" \
    --snapshot-count=10000 --quota-backend-bytes=2147483648 --log-level=warn
  wait_for etcd 60 http_ok "http://127.0.0.1:${P_ETCD}/health"
}

start_apiservers() {
  # karmada-apiserver: Karmada's flag set (artifacts/deploy/karmada-apiserver.yaml), loopback changes
  # shellcheck disable=SC2046
  start karmada-apiserver "$(bin kube-apiserver)" $(apiserver_flags "${P_KARMADA}" /karmada karmada-apiserver sa-karmada) \
    --enable-bootstrap-token-auth=true \
    --disable-admission-plugins=StorageObjectInUseProtection,ServiceAccount --runtime-config= \
    --proxy-client-cert-file="${PKI}/front-proxy-client.crt" --proxy-client-key-file="${PKI}/front-proxy-client.key" \
    --requestheader-client-ca-file="${PKI}/ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- --requestheader-group-headers=X-Remote-Group \
    --requestheader-username-headers=X-Remote-User --tls-min-version=VersionTLS13
  # shellcheck disable=SC2046
  start member1-apiserver "$(bin kube-apiserver)" $(apiserver_flags "${P_M1}" /member1 member1 sa-member1)
  # shellcheck disable=SC2046
  start member2-apiserver "$(bin kube-apiserver)" $(apiserver_flags "${P_M2}" /member2 member2 sa-member2)
  wait_for karmada-apiserver 180 https_ok "https://127.0.0.1:${P_KARMADA}/readyz" admin
  wait_for member1-apiserver 180 https_ok "https://127.0.0.1:${P_M1}/readyz" admin
  wait_for member2-apiserver 180 https_ok "https://127.0.0.1:${P_M2}/readyz" admin
}

write_kubeconfigs() {
  write_kubeconfig "${KUBECONFIG_FILE}" karmada-apiserver \
    karmada-apiserver "https://127.0.0.1:${P_KARMADA}" admin \
    member1 "https://127.0.0.1:${P_M1}" admin \
    member2 "https://127.0.0.1:${P_M2}" admin
  write_kubeconfig "${E2E}/karmada-admin.kubeconfig" karmada-apiserver karmada-apiserver "https://127.0.0.1:${P_KARMADA}" admin
  write_kubeconfig "${E2E}/member1-admin.kubeconfig" member1 member1 "https://127.0.0.1:${P_M1}" admin
  write_kubeconfig "${E2E}/member2-admin.kubeconfig" member2 member2 "https://127.0.0.1:${P_M2}" admin
  # karmada-takeover's own identity: User karmada-takeover, bound only to the chart's RBAC
  write_kubeconfig "${TAKEOVER_KUBECONFIG}" karmada-apiserver karmada-apiserver "https://127.0.0.1:${P_KARMADA}" takeover-client
}

start_kcms() {
  # for karmada-apiserver: artifacts/deploy/kube-controller-manager.yaml's controller list
  local kc="${E2E}/karmada-admin.kubeconfig"
  start karmada-kube-controller-manager "$(bin kube-controller-manager)" \
    --kubeconfig="${kc}" --authentication-kubeconfig="${kc}" --authorization-kubeconfig="${kc}" \
    --controllers=namespace,garbagecollector,serviceaccount-token,ttl-after-finished,bootstrapsigner,tokencleaner,csrcleaner,csrsigning,clusterrole-aggregation \
    --root-ca-file="${PKI}/ca.crt" --client-ca-file="${PKI}/ca.crt" \
    --cluster-signing-cert-file="${PKI}/ca.crt" --cluster-signing-key-file="${PKI}/ca.key" \
    --service-account-private-key-file="${PKI}/sa-karmada.key" --use-service-account-credentials=true \
    --leader-elect=false --cluster-name=karmada --service-cluster-ip-range=10.96.0.0/12 \
    --bind-address=127.0.0.1 --secure-port="${P_KCM_KARMADA}" --v=1
  local m p
  for m in member1 member2; do
    [[ $m == member1 ]] && p=${P_M1_KCM} || p=${P_M2_KCM}
    kc="${E2E}/${m}-admin.kubeconfig"
    # members: Deployments get ReplicaSets and Pods (Pending: no scheduler, no kubelet)
    start "${m}-kube-controller-manager" "$(bin kube-controller-manager)" \
      --kubeconfig="${kc}" --authentication-kubeconfig="${kc}" --authorization-kubeconfig="${kc}" \
      --controllers=serviceaccount-token,serviceaccount,namespace,garbagecollector,deployment,replicaset,clusterrole-aggregation \
      --root-ca-file="${PKI}/ca.crt" --service-account-private-key-file="${PKI}/sa-${m}.key" \
      --use-service-account-credentials=true --leader-elect=false \
      --bind-address=127.0.0.1 --secure-port="${p}" --v=1
  done
  wait_for "kube-controller-manager (karmada)" 120 https_selfsigned_ok "https://127.0.0.1:${P_KCM_KARMADA}/healthz"
  wait_for "kube-controller-manager (member1)" 120 https_selfsigned_ok "https://127.0.0.1:${P_M1_KCM}/healthz"
  wait_for "kube-controller-manager (member2)" 120 https_selfsigned_ok "https://127.0.0.1:${P_M2_KCM}/healthz"
}

install_karmada_objects() {
  local ca
  ca=$(b64 "${PKI}/ca.crt")
  kk create namespace karmada-system
  kk create namespace karmada-cluster
  # CRDs from the Karmada module source, conversion webhook URLs pointed at the local karmada-webhook
  rm -rf "${E2E}/crds"
  cp -r "${KARMADA_SRC}/charts/karmada/_crds" "${E2E}/crds"
  chmod -R u+w "${E2E}/crds"
  sed -i -e "s#https://{{name}}.{{namespace}}.svc:443/convert#https://127.0.0.1:${P_KWEBHOOK}/convert#" \
    -e "s#{{caBundle}}#${ca}#" "${E2E}"/crds/patches/*.yaml
  grep -q "{{" "${E2E}"/crds/patches/*.yaml && die "CRD patch placeholders left in ${E2E}/crds/patches"
  kk apply --server-side -k "${E2E}/crds" >/dev/null
  kk wait --for=condition=Established crd --all --timeout=120s >/dev/null
  log "ready: $(kk get crd -o name | wc -l) CRDs established"

  # karmada-aggregated-apiserver (artifacts/deploy/karmada-aggregated-apiserver.yaml's flags)
  local kc="${E2E}/karmada-admin.kubeconfig"
  start karmada-aggregated-apiserver "$(bin karmada-aggregated-apiserver)" \
    --kubeconfig="${kc}" --authentication-kubeconfig="${kc}" --authorization-kubeconfig="${kc}" \
    --etcd-servers="http://127.0.0.1:${P_ETCD}" --etcd-prefix=/karmada \
    --tls-cert-file="${PKI}/aggregated.crt" --tls-private-key-file="${PKI}/aggregated.key" \
    --tls-min-version=VersionTLS13 --bind-address=127.0.0.1 --secure-port="${P_AGG}" \
    --audit-log-path=- --audit-log-maxage=0 --audit-log-maxbackup=0 --v=1
  wait_for karmada-aggregated-apiserver 120 https_ok "https://127.0.0.1:${P_AGG}/readyz"
  sed -e "s#{{caBundle}}#${ca}#" \
    -e "s#externalName: .*#externalName: localhost#" \
    -e "s#^    namespace: karmada-system#    namespace: karmada-system\n    port: ${P_AGG}#" \
    "${KARMADA_SRC}/artifacts/deploy/karmada-aggregated-apiserver-apiservice.yaml" >"${E2E}/apiservice.yaml"
  kk apply -f "${E2E}/apiservice.yaml" >/dev/null
  wait_for "APIService v1alpha1.cluster.karmada.io Available" 120 \
    kk wait --for=condition=Available apiservice/v1alpha1.cluster.karmada.io --timeout=5s

  # Karmada's webhook configurations, every URL pointed at the local karmada-webhook
  sed -e "s#https://karmada-webhook.karmada-system.svc:443/#https://127.0.0.1:${P_KWEBHOOK}/#" \
    -e "s#{{caBundle}}#${ca}#" "${KARMADA_SRC}/artifacts/deploy/webhook-configuration.yaml" >"${E2E}/karmada-webhook-configuration.yaml"
  grep -q "{{" "${E2E}/karmada-webhook-configuration.yaml" && die "placeholders left in ${E2E}/karmada-webhook-configuration.yaml"
  kk apply -f "${E2E}/karmada-webhook-configuration.yaml" >/dev/null
  kk apply -f "${KARMADA_SRC}/artifacts/deploy/admin-clusterrole-aggregation.yaml" \
    -f "${KARMADA_SRC}/artifacts/deploy/cluster-proxy-admin-rbac.yaml" >/dev/null
}

# karmada-controller-manager; its feature gates are an argument so `test` can restart it with the
# preemption gate on (and back off).
start_karmada_controller_manager() { # [feature gates]
  local gates=${1:-PropagateDeps=true}
  echo "${gates}" >"${E2E}/karmada-controller-manager.gates"
  start karmada-controller-manager "$(bin karmada-controller-manager)" \
    --kubeconfig="${E2E}/karmada-admin.kubeconfig" --cluster-status-update-frequency=10s \
    --metrics-bind-address=0 --health-probe-bind-address="127.0.0.1:${P_KCTRL_HEALTH}" \
    --leader-elect=false --feature-gates="${gates}" --v=2
  wait_for karmada-controller-manager 120 http_ok "http://127.0.0.1:${P_KCTRL_HEALTH}/healthz"
}

start_karmada_components() {
  local kc="${E2E}/karmada-admin.kubeconfig"
  start karmada-webhook "$(bin karmada-webhook)" --kubeconfig="${kc}" \
    --bind-address=127.0.0.1 --secure-port="${P_KWEBHOOK}" --cert-dir="${PKI}/karmada-webhook" \
    --metrics-bind-address=0 --health-probe-bind-address="127.0.0.1:${P_KWEBHOOK_HEALTH}" --v=2
  wait_for karmada-webhook 120 https_ok "https://127.0.0.1:${P_KWEBHOOK}/readyz/"
  start_karmada_controller_manager
  start karmada-scheduler "$(bin karmada-scheduler)" --kubeconfig="${kc}" \
    --metrics-bind-address=0 --health-probe-bind-address="127.0.0.1:${P_KSCHED_HEALTH}" \
    --leader-elect=false --v=2
  wait_for karmada-scheduler 120 http_ok "http://127.0.0.1:${P_KSCHED_HEALTH}/healthz"
}

member_token() { # member_token <member> <secret>: data.token once the token controller filled it
  local t
  t=$(km "$1" -n karmada-cluster get secret "$2" -o jsonpath='{.data.token}' 2>/dev/null)
  [[ -n $t ]] && printf '%s' "$t"
}

# What `karmadactl join` writes (pkg/karmadactl/join/join.go, pkg/util/credential.go), Push mode.
join_member() { # join_member <name> <apiserver port>
  local m=$1 port=$2
  km "$m" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: karmada-cluster, labels: {karmada.io/system: "true"}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: karmada-impersonator, namespace: karmada-cluster, labels: {karmada.io/system: "true"}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: karmada-${m}, namespace: karmada-cluster, labels: {karmada.io/system: "true"}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "karmada-controller-manager:karmada-${m}", labels: {karmada.io/system: "true"}}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: ["*"]}
  - {nonResourceURLs: ["*"], verbs: ["get"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "karmada-controller-manager:karmada-${m}", labels: {karmada.io/system: "true"}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "karmada-controller-manager:karmada-${m}"}
subjects: [{kind: ServiceAccount, name: "karmada-${m}", namespace: karmada-cluster}]
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: karmada-${m}
  namespace: karmada-cluster
  labels: {karmada.io/system: "true"}
  annotations: {kubernetes.io/service-account.name: karmada-${m}}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: karmada-impersonator
  namespace: karmada-cluster
  labels: {karmada.io/system: "true"}
  annotations: {kubernetes.io/service-account.name: karmada-impersonator}
EOF
  wait_for "${m} join tokens" 60 member_token "$m" "karmada-${m}"
  wait_for "${m} impersonator token" 60 member_token "$m" karmada-impersonator
  local token itoken cabundle id
  token=$(member_token "$m" "karmada-${m}")
  itoken=$(member_token "$m" karmada-impersonator)
  cabundle=$(km "$m" -n karmada-cluster get secret "karmada-${m}" -o jsonpath='{.data.ca\.crt}')
  id=$(km "$m" get namespace kube-system -o jsonpath='{.metadata.uid}')
  kk apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
metadata: {name: ${m}, namespace: karmada-cluster, labels: {karmada.io/system: "true"}}
data: {caBundle: ${cabundle}, token: ${token}}
---
apiVersion: v1
kind: Secret
metadata: {name: ${m}-impersonator, namespace: karmada-cluster, labels: {karmada.io/system: "true"}}
data: {token: ${itoken}}
---
apiVersion: cluster.karmada.io/v1alpha1
kind: Cluster
metadata: {name: ${m}, labels: {karmada.io/system: "true"}}
spec:
  id: ${id}
  syncMode: Push
  apiEndpoint: https://127.0.0.1:${port}
  secretRef: {namespace: karmada-cluster, name: ${m}}
  impersonatorSecretRef: {namespace: karmada-cluster, name: ${m}-impersonator}
  insecureSkipTLSVerification: false
EOF
  local uid
  uid=$(kk get cluster "$m" -o jsonpath='{.metadata.uid}')
  local s
  for s in "$m" "${m}-impersonator"; do
    kk -n karmada-cluster patch secret "$s" --type merge -p \
      "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"cluster.karmada.io/v1alpha1\",\"kind\":\"Cluster\",\"name\":\"${m}\",\"uid\":\"${uid}\",\"controller\":true}]}}" >/dev/null
  done
}

member_rbac_for_takeover() { # read access in each member for the identity Karmada's proxy impersonates
  local m
  for m in member1 member2; do
    km "$m" apply -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: karmada-takeover-read}
rules:
  - {apiGroups: [apps], resources: [deployments, statefulsets, daemonsets], verbs: [get, list, watch]}
  - {apiGroups: [batch], resources: [jobs, cronjobs], verbs: [get, list, watch]}
  - {apiGroups: [""], resources: [services, configmaps, secrets, namespaces], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: karmada-takeover-read}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: karmada-takeover-read}
subjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: karmada-takeover}]
EOF
  done
}

# A python3 that can `import yaml`: the chart tests' venv, the system's, or PyYAML installed with
# pip under .tools/pylib.
yaml_python() {
  local py
  for py in "${ROOT}/.tools/venv/bin/python" python3; do
    if command -v "${py}" >/dev/null 2>&1 && "${py}" -c 'import yaml' 2>/dev/null; then
      echo "${py}"
      return
    fi
  done
  if ! PYTHONPATH="${ROOT}/.tools/pylib" python3 -c 'import yaml' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check --target "${ROOT}/.tools/pylib" pyyaml >&2
  fi
  echo "env PYTHONPATH=${ROOT}/.tools/pylib python3"
}

# The chart's karmada-apiserver objects and engine config, from `helm template` (custom certs).
render_chart() { # render_chart [--set k=v...]: writes chart-manifests.yaml and config.yaml
  "${HELM}" template karmada-takeover "${ROOT}/charts/karmada-takeover" --namespace karmada-system \
    --set certs.mode=custom --set-file certs.custom.caCrt="${PKI}/ca.crt" \
    --set-file certs.custom.crt="${PKI}/takeover-serving.crt" --set-file certs.custom.key="${PKI}/takeover-serving.key" \
    --set karmada.leaseNamespace=karmada-system "$@" >"${E2E}/chart-rendered.yaml"
  # shellcheck disable=SC2046
  $(yaml_python) - "${E2E}/chart-rendered.yaml" "${E2E}" "${P_TAKEOVER}" <<'PY'
import sys, yaml
src, out, port = sys.argv[1], sys.argv[2], sys.argv[3]
docs = [d for d in yaml.safe_load_all(open(src)) if d]
cms = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "ConfigMap"}
manifests = cms["karmada-takeover-karmada-manifests"]["data"]["manifests.yaml"]
# karmada-apiserver reaches the chart's Service by its cluster DNS name; here the "Service" is the
# loopback round robin in front of the replicas (the rewrite Karmada's local setup does too)
svc = "https://karmada-takeover.karmada-system.svc:443/"
if svc not in manifests:
    sys.exit(f"e2e: the chart's webhook URL {svc} is not in the rendered manifests; has the chart changed?")
open(f"{out}/chart-manifests.yaml", "w").write(manifests.replace(svc, f"https://127.0.0.1:{port}/"))
open(f"{out}/config.yaml.new", "w").write(cms["karmada-takeover-config"]["data"]["config.yaml"])
# The settings the chart's Deployment passes as environment (the replicas run as it would run them)
dep = next(d for d in docs if d.get("kind") == "Deployment")
env = {e["name"]: e.get("value", "") for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
open(f"{out}/sweep", "w").write(env.get("KARMADA_TAKEOVER_SWEEP_EXISTING_TEMPLATES", "false"))
PY
  mv "${E2E}/config.yaml.new" "${E2E}/config.yaml"
}

start_takeover_replica() { # start_takeover_replica a|b
  local r=$1 port admin
  if [[ $r == a ]]; then port=${P_TO_A} admin=${P_TO_A_ADMIN}; else port=${P_TO_B} admin=${P_TO_B_ADMIN}; fi
  # HOSTNAME: what the kubelet sets in a pod (the pod name); the reconciler's Lease identity
  start "karmada-takeover-${r}" env HOSTNAME="karmada-takeover-${r}" RUST_LOG=info,karmada_takeover=debug \
    KARMADA_TAKEOVER_SWEEP_EXISTING_TEMPLATES="$(<"${E2E}/sweep")" \
    "$(<"${E2E}/takeover-binary")" serve \
    --listen "127.0.0.1:${port}" --admin-listen "127.0.0.1:${admin}" \
    --tls-cert "${PKI}/takeover-serving.crt" --tls-key "${PKI}/takeover-serving.key" \
    --config "${E2E}/config.yaml" --kubeconfig "${TAKEOVER_KUBECONFIG}" --lease-namespace karmada-system \
    --shutdown-delay 0s --shutdown-grace-period 5s
}
wait_takeover_replica() {
  local admin
  [[ $1 == a ]] && admin=${P_TO_A_ADMIN} || admin=${P_TO_B_ADMIN}
  wait_for "karmada-takeover-$1 /readyz" 120 http_ok "http://127.0.0.1:${admin}/readyz"
}

install_takeover() {
  render_chart
  # as the registration Job does it (charts/karmada-takeover/templates/registration-jobs.yaml)
  kk apply --server-side --force-conflicts --field-manager=karmada-takeover-chart -f "${E2E}/chart-manifests.yaml" >/dev/null
  start takeover-lb python3 "${ROOT}/scripts/e2e/lb.py" "127.0.0.1:${P_TAKEOVER}" "127.0.0.1:${P_TO_A}" "127.0.0.1:${P_TO_B}"
  start_takeover_replica a
  start_takeover_replica b
  wait_takeover_replica a
  wait_takeover_replica b
}

cmd_up() {
  [[ -f ${PIDS}/etcd.pid ]] && die "an environment is already up in ${E2E} (scripts/e2e-karmada.sh down first)"
  local t0=${SECONDS} p
  for p in "${ALL_PORTS[@]}"; do
    port_free "$p" || die "port 127.0.0.1:${p} is in use; set KARMADA_TAKEOVER_E2E_PORT_BASE to a free block of 50 ports"
  done
  "${ROOT}/scripts/e2e/build.sh" >/dev/null
  [[ -x ${HELM} && -x ${KUBECTL} ]] || "${ROOT}/scripts/install-helm.sh" >&2
  karmada_src
  takeover_binary
  rm -rf "${E2E}"
  mkdir -p "${E2E}" "${LOGS}" "${PIDS}"
  echo "${TAKEOVER_BIN}" >"${E2E}/takeover-binary"
  gen_pki
  start_etcd
  start_apiservers
  write_kubeconfigs
  start_kcms
  install_karmada_objects
  start_karmada_components
  join_member member1 "${P_M1}"
  join_member member2 "${P_M2}"
  wait_for "cluster member1 Ready" 120 kk wait --for=condition=Ready cluster/member1 --timeout=5s
  wait_for "cluster member2 Ready" 120 kk wait --for=condition=Ready cluster/member2 --timeout=5s
  member_rbac_for_takeover
  install_takeover
  log "up in $((SECONDS - t0)) s"
  echo "${KUBECONFIG_FILE}"
}

# Everything `up` started, in reverse order; only processes recorded in pid files.
STOP_ORDER=(karmada-takeover-a karmada-takeover-b takeover-lb karmada-scheduler karmada-controller-manager
  karmada-webhook karmada-aggregated-apiserver member1-kube-controller-manager member2-kube-controller-manager
  karmada-kube-controller-manager member1-apiserver member2-apiserver karmada-apiserver etcd)
cmd_down() {
  local n f
  for n in "${STOP_ORDER[@]}"; do stop "$n"; done
  for f in "${PIDS}"/*.pid; do # anything else recorded
    [[ -e $f ]] || continue
    n=${f##*/}
    stop "${n%.pid}"
  done
  log "down: nothing of ${E2E} is running"
}
