#!/usr/bin/env bash
# Every test of the project: Rust unit, integration, golden and TLS tests (cargo test), then the
# Helm chart tests (scripts/chart-tests.sh: installs helm and the Python validators under .tools/).
#
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The toolchain pinned in rust-toolchain.toml, before any cargo command.
scripts/ensure-toolchain.sh

echo "== cargo test"
cargo test --locked --all-targets
echo "== chart tests"
scripts/chart-tests.sh
