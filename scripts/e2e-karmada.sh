#!/usr/bin/env bash
# karmada-takeover against a real Karmada: a Karmada control plane (etcd, karmada-apiserver,
# karmada-aggregated-apiserver, kube-controller-manager, karmada-controller-manager,
# karmada-scheduler, karmada-webhook) and two member clusters (kube-apiserver +
# kube-controller-manager each), as plain processes on 127.0.0.1, built from the Go module proxy
# at the versions in scripts/e2e/versions.env; karmada-takeover installed as the chart does it.
#
#   scripts/e2e-karmada.sh build   # only build/cache the Go binaries (~/.cache/karmada-takeover-e2e/)
#   scripts/e2e-karmada.sh up      # start everything, print the kubeconfig (contexts
#                                  # karmada-apiserver, member1, member2); leaves it running
#   scripts/e2e-karmada.sh test    # run the scenarios against what `up` started
#   scripts/e2e-karmada.sh down    # stop exactly what `up` started (pid files)
#   scripts/e2e-karmada.sh all     # up, test, down (down also on failure); what CI runs
#
# Environment: KARMADA_TAKEOVER_E2E_DIR (state, logs; default .e2e/), KARMADA_TAKEOVER_E2E_PORT_BASE
# (first of 50 loopback ports; default 31400), KARMADA_TAKEOVER_E2E_CACHE (binary cache),
# E2E_SCENARIOS (comma-separated subset for `test`). On failure every component's log stays in
# $KARMADA_TAKEOVER_E2E_DIR/logs and the objects involved are dumped to .../dump/.
set -euo pipefail
# shellcheck source=e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/e2e/lib.sh"
# shellcheck source=e2e/up.sh
source "${ROOT}/scripts/e2e/up.sh"

cmd_test() {
  [[ -f ${PIDS}/karmada-apiserver.pid ]] || die "nothing is up in ${E2E}: run scripts/e2e-karmada.sh up first"
  local t0=${SECONDS} rc=0
  python3 "${ROOT}/scripts/e2e/scenarios.py" || rc=$?
  log "scenarios took $((SECONDS - t0)) s (exit ${rc})"
  return "${rc}"
}

on_exit() { # after `all`: on failure show the end of every component's log, then stop everything
  local rc=$1 f
  if ((rc != 0)) && [[ -d ${LOGS} ]]; then
    for f in "${LOGS}"/*.log; do
      echo "----- last lines of ${f}" >&2
      tail -n 15 "$f" >&2
    done
    log "failed (exit ${rc}); full logs kept in ${LOGS}, object dumps in ${E2E}/dump"
  fi
  cmd_down
  exit "${rc}"
}

case "${1:-}" in
  build) "${ROOT}/scripts/e2e/build.sh" ;;
  up) cmd_up ;;
  down) cmd_down ;;
  test) cmd_test ;;
  all)
    trap 'on_exit $?' EXIT
    trap 'exit 130' INT TERM
    cmd_up >/dev/null
    cmd_test
    ;;
  # internal: used by scenarios.py to restart components the way `up` started them
  _restart-controller-manager)
    stop karmada-controller-manager
    start_karmada_controller_manager "${2:?feature gates}"
    ;;
  _stop-takeover) stop "karmada-takeover-${2:?a|b}" "${3:-TERM}" ;;
  _start-takeover)
    start_takeover_replica "${2:?a|b}"
    wait_takeover_replica "$2"
    ;;
  _render-config)
    shift
    render_chart "$@"
    ;;
  *)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
