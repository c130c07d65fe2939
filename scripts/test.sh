#!/usr/bin/env bash
# Every test of the project: Rust unit, integration, golden and TLS tests (cargo test), then the
# Helm chart tests (scripts/chart-tests.sh: installs helm and the Python validators under .tools/).
#
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== cargo test"
cargo test --locked --all-targets
echo "== chart tests"
scripts/chart-tests.sh
