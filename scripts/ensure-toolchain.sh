#!/usr/bin/env bash
# Makes the toolchain pinned in rust-toolchain.toml resolvable before any cargo command runs in the
# repository (with the pin in place, rustup resolves `cargo` to that exact release, and fails if it
# is not installed). .ci/run and scripts/test.sh run this first.
#
#   1. `rustup run <pin> rustc -V` works: nothing to do.
#   2. Else, an installed toolchain (stable first) whose rustc is exactly that release: link it under
#      the pinned name. `rustup toolchain link` refuses release-like names ("invalid custom
#      toolchain name"), so the fallback is a symlink <pin>-<host> in $RUSTUP_HOME/toolchains,
#      which rustup then treats as the installed release.
#   3. Else, `rustup toolchain install <pin> --profile minimal -c rustfmt -c clippy`; if that fails
#      (no network to the Rust distribution server), say so and exit 1.
#
# rustfmt and clippy are checked by .ci/run itself, which skips a step whose tool is missing.
#
#   scripts/ensure-toolchain.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PIN="$(sed -n 's/^[[:space:]]*channel[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "${ROOT}/rust-toolchain.toml")"
if [[ -z "${PIN}" ]]; then
  echo "ensure-toolchain: no channel found in rust-toolchain.toml" >&2
  exit 1
fi
# Outside the repository, so that rust-toolchain.toml does not apply while other toolchains are probed.
cd /

if ! command -v rustup >/dev/null 2>&1; then
  # Without rustup the pin is not enforced: cargo is whatever is on PATH.
  have="$(rustc -V 2>/dev/null || echo 'no rustc')"
  echo "ensure-toolchain: rustup not found; rust-toolchain.toml (${PIN}) is not enforced, using: ${have}"
  [[ "${have}" == "rustc ${PIN} "* ]] || echo "ensure-toolchain: WARNING: ${have} is not the pinned ${PIN}"
  exit 0
fi

if v="$(rustup run "${PIN}" rustc -V 2>/dev/null)"; then
  echo "ensure-toolchain: ${PIN} present (${v})"
  exit 0
fi

echo "ensure-toolchain: toolchain ${PIN} is not installed; looking for an installed toolchain that is ${PIN}"
src=""
for tc in stable $(rustup toolchain list 2>/dev/null | awk '{print $1}'); do
  v="$(rustup run "${tc}" rustc -V 2>/dev/null)" || continue
  # Exactly the release: "rustc 1.95.0 (hash date)", not "rustc 1.95.0-nightly (...)" nor "-beta".
  if [[ "${v}" == "rustc ${PIN} ("* ]]; then
    src="$(rustup run "${tc}" rustc --print sysroot)"
    host="$(rustup run "${tc}" rustc -vV | sed -n 's/^host: //p')"
    echo "ensure-toolchain: ${tc} is ${v} (${src})"
    break
  fi
done

if [[ -n "${src}" ]]; then
  if rustup toolchain link "${PIN}" "${src}" >/dev/null 2>&1; then
    echo "ensure-toolchain: linked ${PIN} -> ${src} (rustup toolchain link)"
  else
    home="$(rustup show home 2>/dev/null || echo "${RUSTUP_HOME:-${HOME}/.rustup}")"
    dest="${home}/toolchains/${PIN}-${host}"
    if [[ -e "${dest}" && ! -L "${dest}" ]]; then
      echo "ensure-toolchain: ${dest} exists but does not work as a toolchain; not touching it" >&2
      exit 1
    fi
    # -n: replace a dangling link in place rather than creating one inside its target.
    ln -sfn "${src}" "${dest}"
    echo "ensure-toolchain: linked ${dest} -> ${src} (rustup toolchain link refuses release names)"
  fi
else
  echo "ensure-toolchain: no installed toolchain is ${PIN}; trying rustup toolchain install ${PIN}"
  if ! rustup toolchain install "${PIN}" --profile minimal -c rustfmt -c clippy; then
    echo "ensure-toolchain: FAILED: Rust ${PIN} (pinned in rust-toolchain.toml) is not installed and" \
      "could not be downloaded. Install it, or link an installed ${PIN} under that name." >&2
    exit 1
  fi
fi

if ! v="$(rustup run "${PIN}" rustc -V 2>&1)"; then
  echo "ensure-toolchain: FAILED: ${PIN} still does not run: ${v}" >&2
  exit 1
fi
echo "ensure-toolchain: ${PIN} ready (${v})"
