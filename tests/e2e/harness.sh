# shellcheck shell=bash
# The check harness shared by the fresh-machine suites (tests/e2e/*.sh, tests/vm/firewall.sh):
# PASS/FAIL lines, counters, timings, and the closing `LABEL: N passed, M failed` line.
passed=0
failed=0
failures=()
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
fail() {
    failed=$((failed + 1))
    failures+=("$1")
    printf 'FAIL  %s\n' "$1"
    [[ -z ${2:-} ]] || printf '%s\n' "$2" | sed 's/^/      /' | head -n 30
}
# check NAME CMD... : pass when CMD succeeds
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
# report LABEL: the closing line (what CI reads) and the failures; false when any check failed.
report() {
    local f
    echo "$1: $passed passed, $failed failed"
    for f in "${failures[@]}"; do echo "  failed: $f"; done
    ((failed == 0))
}
