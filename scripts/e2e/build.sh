#!/usr/bin/env bash
# Builds the Go binaries of the end-to-end suite from the Go module proxy, at the versions in
# versions.env, into a machine-wide cache:
#
#   ~/.cache/karmada-takeover-e2e/bin/<binary>-<version>
#
# A binary already in the cache is not rebuilt, so only the first run pays for the build. Builds
# run under `nice -n 10` (shared machines) with the default GOCACHE/GOMODCACHE.
#
#   scripts/e2e/build.sh [etcd|kubernetes|karmada]...   # default: all three; prints the cache
#                                                      # directory on its last line
#   scripts/e2e/build.sh --cached                        # exit 0 when nothing needs building
#
# kube-apiserver/kube-controller-manager (module k8s.io/kubernetes) and etcd (go.etcd.io/etcd/server/v3)
# carry `replace` directives or have no main package of their own, so each is built inside a small
# wrapper module generated here: for Kubernetes, one `replace k8s.io/X => k8s.io/X v0.<minor>.<patch>`
# per staging module that k8s.io/kubernetes' go.mod replaces with ./staging/src/k8s.io/X.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${HERE}/versions.env"

CACHE="${KARMADA_TAKEOVER_E2E_CACHE:-${HOME}/.cache/karmada-takeover-e2e}"
BIN="${CACHE}/bin"
WORK="${CACHE}/build"
mkdir -p "${BIN}" "${WORK}"

log() { printf '%s e2e-build: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "e2e-build: $1 not found on PATH; install it (Go >= 1.25 from https://go.dev/dl)" >&2; exit 2; }; }
need go

have() { # have <binary> <version>: cached and runnable
  [[ -x "${BIN}/$1-$2" ]]
}

gobuild() { # gobuild <module dir> <out dir> <ldflags> <pkg>...
  local dir=$1 out=$2 ldflags=$3
  shift 3
  (cd "${dir}" && nice -n 10 env GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go build -trimpath -ldflags "-s -w ${ldflags}" -o "${out}/" "$@")
}

# ---- Kubernetes: kube-apiserver, kube-controller-manager -------------------------------------
build_kubernetes() {
  local v=${KUBERNETES_VERSION} staging_v
  if have kube-apiserver "$v" && have kube-controller-manager "$v"; then return; fi
  staging_v="v0.${v#v1.}"   # v1.35.3 -> v0.35.3
  local dir="${WORK}/kubernetes-${v}"
  rm -rf "${dir}"
  mkdir -p "${dir}/out"
  log "kubernetes ${v}: resolving k8s.io/kubernetes from the module proxy"
  local mod
  mod="$(cd "${dir}" && go mod download -json "k8s.io/kubernetes@${v}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [[ -f "${mod}" ]] || { echo "e2e-build: could not download k8s.io/kubernetes@${v}" >&2; exit 1; }
  {
    echo "module karmada-takeover.e2e/kubernetes"
    echo
    sed -n 's/^go \(.*\)$/go \1/p' "${mod}" | head -n1
    echo
    echo "require k8s.io/kubernetes ${v}"
    echo
    # every staging module the real go.mod points at ./staging/src/...
    sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*$#replace \1 => \1 '"${staging_v}"'#p' "${mod}"
  } >"${dir}/go.mod"
  if ! grep -q '^replace k8s.io/api ' "${dir}/go.mod"; then
    echo "e2e-build: no staging replace lines found in ${mod}; has k8s.io/kubernetes' go.mod changed shape?" >&2
    exit 1
  fi
  local pkg=k8s.io/component-base/version
  local ld="-X ${pkg}.gitVersion=${v} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=$(cut -d. -f2 <<<"${v}") -X ${pkg}.gitTreeState=clean"
  log "kubernetes ${v}: go build kube-apiserver kube-controller-manager (first time: long)"
  local t0=${SECONDS}
  gobuild "${dir}" "${dir}/out" "${ld}" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  mv "${dir}/out/kube-apiserver" "${BIN}/kube-apiserver-${v}"
  mv "${dir}/out/kube-controller-manager" "${BIN}/kube-controller-manager-${v}"
  log "kubernetes ${v}: built in $((SECONDS - t0)) s"
}

# ---- etcd ------------------------------------------------------------------------------------
build_etcd() {
  local v=${ETCD_VERSION}
  if have etcd "$v"; then return; fi
  local dir="${WORK}/etcd-${v}"
  rm -rf "${dir}"
  mkdir -p "${dir}/out"
  cat >"${dir}/go.mod" <<EOF
module karmada-takeover.e2e/etcd

go 1.25

require go.etcd.io/etcd/server/v3 ${v}
EOF
  mkdir -p "${dir}/etcd"
  cat >"${dir}/etcd/main.go" <<'EOF'
// etcd's own main (go.etcd.io/etcd/v3 main.go) is this call; the root module carries replace
// directives, so it is rebuilt here from the server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  log "etcd ${v}: go build"
  local t0=${SECONDS}
  gobuild "${dir}" "${dir}/out" "-X go.etcd.io/etcd/api/v3/version.GitSHA=${v}" ./etcd
  mv "${dir}/out/etcd" "${BIN}/etcd-${v}"
  log "etcd ${v}: built in $((SECONDS - t0)) s"
}

# ---- Karmada ---------------------------------------------------------------------------------
KARMADA_BINARIES=(controller-manager scheduler webhook aggregated-apiserver)
build_karmada() {
  local v=${KARMADA_VERSION} b missing=0
  for b in "${KARMADA_BINARIES[@]}"; do have "karmada-${b}" "$v" || missing=1; done
  ((missing)) || return 0
  local dir="${WORK}/karmada-${v}"
  rm -rf "${dir}"
  mkdir -p "${dir}/out"
  cat >"${dir}/go.mod" <<EOF
module karmada-takeover.e2e/karmada

go 1.25

require github.com/karmada-io/karmada ${v}
EOF
  local pkgs=()
  for b in "${KARMADA_BINARIES[@]}"; do pkgs+=("github.com/karmada-io/karmada/cmd/${b}"); done
  local pkg=github.com/karmada-io/karmada/pkg/version
  log "karmada ${v}: go build ${KARMADA_BINARIES[*]}"
  local t0=${SECONDS}
  gobuild "${dir}" "${dir}/out" "-X ${pkg}.gitVersion=${v} -X ${pkg}.gitTreeState=clean" "${pkgs[@]}"
  for b in "${KARMADA_BINARIES[@]}"; do mv "${dir}/out/${b}" "${BIN}/karmada-${b}-${v}"; done
  log "karmada ${v}: built in $((SECONDS - t0)) s"
}

# `--cached`: exit 0 when every binary is in the cache (nothing to build), 1 otherwise.
if [[ ${1:-} == --cached ]]; then
  for b in "etcd ${ETCD_VERSION}" "kube-apiserver ${KUBERNETES_VERSION}" "kube-controller-manager ${KUBERNETES_VERSION}" \
    "karmada-aggregated-apiserver ${KARMADA_VERSION}" "karmada-controller-manager ${KARMADA_VERSION}" \
    "karmada-scheduler ${KARMADA_VERSION}" "karmada-webhook ${KARMADA_VERSION}"; do
    # shellcheck disable=SC2086 # two words on purpose
    have ${b} || exit 1
  done
  exit 0
fi

t_all=${SECONDS}
(($#)) || set -- etcd kubernetes karmada
for what in "$@"; do
  case "${what}" in
    etcd | kubernetes | karmada) "build_${what}" ;;
    *) echo "e2e-build: unknown component ${what} (etcd, kubernetes, karmada)" >&2; exit 2 ;;
  esac
done
log "all binaries present in ${BIN} ($((SECONDS - t_all)) s)"
echo "${BIN}"
