#!/usr/bin/env bash
# Differential check of `karmada-takeover deps` against Karmada's own default resource interpreter:
# builds oracle.go inside a Karmada checkout (with its vendor/ directory: no downloads; several
# minutes), generates random objects (gen.py) and compares both answers (compare.py). Not part of
# scripts/test.sh: it needs Go and a Karmada checkout.
#
#   scripts/deps-oracle/run.sh KARMADA_CHECKOUT [COUNT] [SEED]
#
# KARMADA_CHECKOUT: a Karmada source tree (go.mod, pkg/, vendor/); the oracle is built in a
# temporary directory under its cmd/ and removed afterwards.
set -euo pipefail

karmada=$(cd "${1:?usage: run.sh KARMADA_CHECKOUT [COUNT] [SEED]}" && pwd)
count=${2:-2000}
seed=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
oracle_dir=$(mktemp -d "$karmada/cmd/karmada-takeover-oracle.XXXXXX")
trap 'rm -rf "$work" "$oracle_dir"' EXIT

cp "$here/oracle.go" "$oracle_dir/main.go"
(cd "$karmada" && GOFLAGS=-mod=vendor go build -o "$work/oracle" "./cmd/$(basename "$oracle_dir")")
cargo build --quiet --manifest-path "$root/Cargo.toml"
binary=${CARGO_TARGET_DIR:-$root/target}/debug/karmada-takeover

python3 "$here/gen.py" "$seed" "$count" >"$work/cases.jsonl"
"$work/oracle" <"$work/cases.jsonl" >"$work/karmada.jsonl"
python3 "$here/compare.py" "$work/cases.jsonl" "$work/karmada.jsonl" "$binary"
