# Helpers of scripts/e2e-karmada.sh (sourced). Paths, ports, process control, waiting, certificates.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=versions.env
source "${ROOT}/scripts/e2e/versions.env"

CACHE="${KARMADA_TAKEOVER_E2E_CACHE:-${HOME}/.cache/karmada-takeover-e2e}"
GOBIN_CACHE="${CACHE}/bin"
# Everything one environment writes: certificates, kubeconfigs, data, logs, pid files.
E2E="${KARMADA_TAKEOVER_E2E_DIR:-${ROOT}/.e2e}"
PKI="${E2E}/pki"
LOGS="${E2E}/logs"
PIDS="${E2E}/pids"
KUBECONFIG_FILE="${E2E}/kubeconfig"
TAKEOVER_KUBECONFIG="${E2E}/karmada-takeover.kubeconfig"

# Ports: one block on 127.0.0.1, away from the defaults of local-control-plane.md's table (2379,
# 5443, 7443, 8443, 6443/6444, 10257...) so a second Karmada on the same machine cannot clash.
BASE=${KARMADA_TAKEOVER_E2E_PORT_BASE:-31400}
P_ETCD=$((BASE + 0))           # client; peer = +1
P_ETCD_PEER=$((BASE + 1))
P_KARMADA=$((BASE + 10))       # karmada-apiserver
P_AGG=$((BASE + 11))           # karmada-aggregated-apiserver
P_KWEBHOOK=$((BASE + 12))      # karmada-webhook (TLS)
P_KWEBHOOK_HEALTH=$((BASE + 13))
P_KCM_KARMADA=$((BASE + 14))   # kube-controller-manager for karmada-apiserver
P_KCTRL_HEALTH=$((BASE + 15))  # karmada-controller-manager
P_KSCHED_HEALTH=$((BASE + 16)) # karmada-scheduler
P_M1=$((BASE + 20))            # member1 kube-apiserver
P_M1_KCM=$((BASE + 21))
P_M2=$((BASE + 30))
P_M2_KCM=$((BASE + 31))
P_TAKEOVER=$((BASE + 40))      # the "Service" of karmada-takeover: a TCP round robin (lb.py)
P_TO_A=$((BASE + 41))          # replica a: webhook, admin = +1
P_TO_A_ADMIN=$((BASE + 42))
P_TO_B=$((BASE + 43))          # replica b
P_TO_B_ADMIN=$((BASE + 44))
ALL_PORTS=("${P_ETCD}" "${P_ETCD_PEER}" "${P_KARMADA}" "${P_AGG}" "${P_KWEBHOOK}" "${P_KWEBHOOK_HEALTH}"
  "${P_KCM_KARMADA}" "${P_KCTRL_HEALTH}" "${P_KSCHED_HEALTH}" "${P_M1}" "${P_M1_KCM}" "${P_M2}" "${P_M2_KCM}"
  "${P_TAKEOVER}" "${P_TO_A}" "${P_TO_A_ADMIN}" "${P_TO_B}" "${P_TO_B_ADMIN}")

log() { printf '%s e2e: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'e2e: error: %s\n' "$*" >&2; exit 1; }

bin() { # bin <name>: path of a cached Go binary at its pinned version
  local v
  case "$1" in
    etcd) v=${ETCD_VERSION} ;;
    kube-*) v=${KUBERNETES_VERSION} ;;
    karmada-*) v=${KARMADA_VERSION} ;;
  esac
  printf '%s/%s-%s' "${GOBIN_CACHE}" "$1" "$v"
}

KUBECTL="${ROOT}/.tools/bin/kubectl"
HELM="${ROOT}/.tools/bin/helm"
k() { "${KUBECTL}" --kubeconfig "${KUBECONFIG_FILE}" "$@"; }
kk() { k --context karmada-apiserver "$@"; }
km() { local m=$1; shift; k --context "$m" "$@"; }

port_free() { # port_free <port>: nothing listens on 127.0.0.1:<port>
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---- processes ---------------------------------------------------------------------------------
# start <name> <command...>: runs in its own session, output to logs/<name>.log, pid in pids/<name>.pid.
start() {
  local name=$1
  shift
  mkdir -p "${LOGS}" "${PIDS}"
  log "start ${name}"
  setsid "$@" >>"${LOGS}/${name}.log" 2>&1 </dev/null &
  echo $! >"${PIDS}/${name}.pid"
}

running() { # running <name>: its recorded pid is alive and still the process we started
  local f="${PIDS}/$1.pid" pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ -d /proc/${pid} ]] || return 1
  # a recycled pid is not ours: our processes run binaries from the cache, the target dir or python
  grep -qaE "karmada-takeover|${GOBIN_CACHE}|lb\.py" "/proc/${pid}/cmdline" 2>/dev/null
}

stop() { # stop <name> [signal]: TERM (or the signal), wait up to 30 s, then KILL; removes the pid file
  local name=$1 sig=${2:-TERM} f="${PIDS}/$1.pid" pid i
  [[ -f $f ]] || return 0
  pid=$(<"$f")
  if running "${name}"; then
    log "stop ${name} (pid ${pid}, SIG${sig})"
    kill "-${sig}" "${pid}" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
      [[ -d /proc/${pid} ]] || break
      # a zombie child of this shell is gone for our purposes
      [[ $(awk '{print $3}' "/proc/${pid}/stat" 2>/dev/null) == Z ]] && break
      sleep 0.1
    done
    if [[ -d /proc/${pid} && $(awk '{print $3}' "/proc/${pid}/stat" 2>/dev/null) != Z ]]; then
      log "stop ${name}: still running after 30 s, SIGKILL"
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

# wait_for <what> <seconds> <command...>: polls the command every 0.5 s until it succeeds.
wait_for() {
  local what=$1 secs=$2 deadline
  shift 2
  deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${secs}s waiting for ${what}; last attempt said:"
      "$@" 2>&1 | tail -n 5 >&2 || true
      return 1
    fi
    sleep 0.5
  done
  log "ready: ${what}"
}

# https_ok <url> [client cert name]: 200 from a TLS endpoint of ours (CA-verified)
https_ok() {
  local args=(-sf --max-time 3 --cacert "${PKI}/ca.crt")
  [[ -n ${2:-} ]] && args+=(--cert "${PKI}/$2.crt" --key "${PKI}/$2.key")
  curl "${args[@]}" "$1"
}
http_ok() { curl -sf --max-time 3 "$1"; }
# kube-controller-manager serves /healthz with a self-signed certificate of its own
https_selfsigned_ok() { curl -sfk --max-time 3 "$1"; }

# ---- certificates (openssl) --------------------------------------------------------------------
gen_ca() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=karmada-takeover-e2e-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -keyout "${PKI}/ca.key" -out "${PKI}/ca.crt" 2>/dev/null
}
# gen_cert <file name> <subject> [subjectAltName]: key + cert signed by the CA, client+server auth
gen_cert() {
  local name=$1 subj=$2 san=${3:-}
  local ext="${PKI}/${name}.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [[ -n $san ]] && echo "subjectAltName=${san}"
  } >"${ext}"
  openssl req -new -newkey rsa:2048 -nodes -subj "${subj}" -keyout "${PKI}/${name}.key" -out "${PKI}/${name}.csr" 2>/dev/null
  openssl x509 -req -in "${PKI}/${name}.csr" -CA "${PKI}/ca.crt" -CAkey "${PKI}/ca.key" -CAcreateserial \
    -days 30 -extfile "${ext}" -out "${PKI}/${name}.crt" 2>/dev/null
  rm -f "${PKI}/${name}.csr" "${ext}"
}
gen_sa_key() { # gen_sa_key <name>: RSA key pair for service account tokens
  openssl genrsa -out "${PKI}/$1.key" 2048 2>/dev/null
  openssl rsa -in "${PKI}/$1.key" -pubout -out "${PKI}/$1.pub" 2>/dev/null
}

b64() { base64 -w0 <"$1"; }

# kubeconfig_entry <context> <server> <client cert name>: one cluster/user/context as YAML lists
write_kubeconfig() { # write_kubeconfig <file> <current> (<context> <server> <cert>)...
  local file=$1 current=$2
  shift 2
  local clusters="" users="" contexts=""
  while (($#)); do
    clusters+="- name: $1
  cluster:
    server: $2
    certificate-authority-data: $(b64 "${PKI}/ca.crt")
"
    users+="- name: $1
  user:
    client-certificate-data: $(b64 "${PKI}/$3.crt")
    client-key-data: $(b64 "${PKI}/$3.key")
"
    contexts+="- name: $1
  context:
    cluster: $1
    user: $1
"
    shift 3
  done
  umask 077
  cat >"${file}" <<EOF
apiVersion: v1
kind: Config
clusters:
${clusters}users:
${users}contexts:
${contexts}current-context: ${current}
EOF
}
