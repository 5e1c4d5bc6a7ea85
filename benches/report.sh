#!/usr/bin/env bash
# Times the release binary on generated hosts and prints a Markdown table.
#
#   bash benches/report.sh [RUNS]          # RUNS pairwise runs per size, default 11
#
# For each host (the shipped example, then synthetic hosts of 10, 100 and 1,000 sites made by
# the bench's generator, `cargo bench --bench build -- --generate N DIR`):
# - `check`: load + resolve + render, no output (median wall time, peak RSS);
# - `build`: the same plus the atomic write into a fresh output root (median wall time, peak RSS);
# - `re-build`: `build` into an output root that already holds this bundle (nothing is written);
# - `cp -r` of the finished bundle into a fresh directory, paired with each build (the pair's
#   order alternates): the physical floor for writing these
#   files; `build / cp` is the median of the per-pair ratios.
# Wall times include process start. Peak RSS is "Maximum resident set size" of /usr/bin/time -v
# (`apt-get install time` if it is missing).
set -euo pipefail
runs="${1:-11}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [[ ! -x /usr/bin/time ]]; then
  echo "error: /usr/bin/time is missing; install it with \`apt-get install time\`" >&2
  exit 2
fi

cargo build --release --quiet
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/release/blueprint"
[[ -x "$bin" ]] || { echo "error: $bin was not built" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Microseconds taken by a command (its output discarded).
micros() {
  local start end
  start=$EPOCHREALTIME
  "$@" >/dev/null 2>&1
  end=$EPOCHREALTIME
  echo $(( ${end/[.,]/} - ${start/[.,]/} ))
}

# Median of numbers (one per line).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Peak RSS in MB of a command.
peak_mb() {
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }'
}

row() {
  local label="$1" config="$2" host="$3"
  local dir="$work/$label" i
  mkdir -p "$dir"
  "$bin" check --config "$config" >/dev/null 2>&1 || { echo "error: $config is invalid" >&2; "$bin" check --config "$config"; exit 2; }
  "$bin" build --config "$config" --out "$dir/ref" >/dev/null 2>&1
  local checks=() builds=() rebuilds=() cps=() ratios=()
  for ((i = 0; i < runs; i++)); do
    checks+=("$(micros "$bin" check --config "$config")")
    rebuilds+=("$(micros "$bin" build --config "$config" --out "$dir/ref")")
    # Alternate which of the pair goes first: the deferred cost of earlier runs (deleted trees,
    # dirty pages) is then billed to both alike.
    local b c
    if ((i % 2)); then
      c=$(micros cp -r "$dir/ref/$host" "$dir/cp$i")
      b=$(micros "$bin" build --config "$config" --out "$dir/out$i")
    else
      b=$(micros "$bin" build --config "$config" --out "$dir/out$i")
      c=$(micros cp -r "$dir/ref/$host" "$dir/cp$i")
    fi
    builds+=("$b")
    cps+=("$c")
    ratios+=("$(awk -v b="$b" -v c="$c" 'BEGIN { printf "%.3f", b / c }')")
    rm -rf "$dir/out$i" "$dir/cp$i"
  done
  local files bytes
  files=$(find "$dir/ref/$host" -type f | wc -l)
  bytes=$(du -sb "$dir/ref/$host" | cut -f1)
  local check_ms build_ms rebuild_ms cp_ms ratio rss_check rss_build
  check_ms=$(printf '%s\n' "${checks[@]}" | median | awk '{ printf "%.1f", $1 / 1000 }')
  build_ms=$(printf '%s\n' "${builds[@]}" | median | awk '{ printf "%.1f", $1 / 1000 }')
  rebuild_ms=$(printf '%s\n' "${rebuilds[@]}" | median | awk '{ printf "%.1f", $1 / 1000 }')
  cp_ms=$(printf '%s\n' "${cps[@]}" | median | awk '{ printf "%.1f", $1 / 1000 }')
  ratio=$(printf '%s\n' "${ratios[@]}" | median | awk '{ printf "%.2f", $1 }')
  rss_check=$(peak_mb "$bin" check --config "$config")
  rss_build=$(peak_mb "$bin" build --config "$config" --out "$dir/rss")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s× | %s | %s |\n' \
    "$label" "$files" "$bytes" "$check_ms" "$build_ms" "$rebuild_ms" "$cp_ms" "$ratio" "$rss_check" "$rss_build"
  rm -rf "$dir"
}

echo "blueprint $("$bin" --version | cut -d' ' -f2), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), median of $runs runs"
echo
echo "| host | files | bytes | check (ms) | build (ms) | re-build, unchanged (ms) | cp -r (ms) | build / cp -r | peak RSS check (MB) | peak RSS build (MB) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
row "example" "$root/sites.toml" "vps1"
for sites in 10 100 1000; do
  cargo bench --quiet --bench build -- --generate "$sites" "$work/gen$sites" >/dev/null 2>&1
  row "$sites sites" "$work/gen$sites/sites.toml" "bench"
done
