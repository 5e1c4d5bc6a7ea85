#!/usr/bin/env bash
# Fuzzes load → resolve → render with libFuzzer (cargo-fuzz, nightly toolchain).
#
#   bash fuzz/run.sh [SECONDS]        # default 600; from anywhere in the repository
#
# Needs: `rustup toolchain list` showing a nightly, and `cargo install cargo-fuzz`.
# The seed corpus is sites.toml, tests/fixtures/*.toml and tests/errors/*.toml; new inputs
# collect in fuzz/corpus/pipeline/, crashes in fuzz/artifacts/pipeline/ (both git-ignored).
# Without nightly, the stable property test does the same on mutated seeds:
#   PROPTEST_CASES=20000 cargo test --test integration properties::mutated_seeds_never_panic
set -euo pipefail
seconds="${1:-600}"
cd "$(dirname "$0")/.."
corpus=fuzz/corpus/pipeline
mkdir -p "$corpus" fuzz/artifacts/pipeline
for seed in sites.toml tests/fixtures/*.toml tests/errors/*.toml; do
  cp "$seed" "$corpus/seed-$(echo "$seed" | tr '/' '_')"
done
# One job on one core, so the rest of the machine stays usable.
exec cargo +nightly fuzz run --fuzz-dir fuzz pipeline "$corpus" -- \
  -dict=fuzz/toml.dict -max_total_time="$seconds" -max_len=16384 -timeout=10 \
  -print_final_stats=1
