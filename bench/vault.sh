#!/usr/bin/env bash
# Produces the figures of docs/benchmarks.md, in one command:
#
#   bench/vault.sh
#
# 1. installs what it needs (argon2, hyperfine, jq: Debian packages) when missing;
# 2. builds the release binary once (`cargo build --release -p secretctl`);
# 3. runs the core benchmark (`cargo bench -p secretctl-core --bench vault`): KDF, set/get/list
#    on a 10,000-secret vault, audit verify of 100,000 records;
# 4. times Debian's reference `argon2` CLI at the same parameters, and a whole cold
#    `secretctl get KEY` (process start + open + KDF + read), with hyperfine;
# 5. prints a summary with ratios and says, for each goal, met or NOT met, with the figure.
#
# Smaller smoke run: BENCH_SECRETS=1000 BENCH_AUDIT=10000 CLI_RUNS=5 bench/vault.sh
# Other knobs (passed to the bench): BENCH_KDF_RUNS BENCH_OPS BENCH_LIST_RUNS BENCH_VERIFY_RUNS
# BENCH_DIR (disk under test; default: the system temp dir) BENCH_AUDIT_DIR.
# Output files go to $BENCH_OUT (default target/bench-results). Nothing here fails on a timing:
# the exit status is non-zero only when a step itself fails or runs past its time limit.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${BENCH_OUT:-$ROOT/target/bench-results}
CLI_RUNS=${CLI_RUNS:-20}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}   # seconds allowed to the core benchmark run
mkdir -p "$OUT"
START=$(date +%s)

say() { printf '\n== %s\n' "$*" >&2; }

install_if_missing() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    say "installing $2"
    if ! apt-get install -y "$2" >/dev/null 2>&1; then
        apt-get update >/dev/null && apt-get install -y "$2" >/dev/null
    fi
}
install_if_missing argon2 argon2
install_if_missing hyperfine hyperfine
install_if_missing jq jq

say "building release (once)"
cargo build --release -p secretctl
BIN=$ROOT/target/release/secretctl
# The bench target, built with the bench profile (= release); the run below does not rebuild.
cargo bench -p secretctl-core --bench vault --no-run

say "core benchmark (library calls, no process start)"
TSV=$OUT/bench.tsv
rm -f "$TSV"
BENCH_RESULTS=$TSV timeout "$BENCH_TIMEOUT" \
    cargo bench -p secretctl-core --bench vault 2>&1 | tee "$OUT/bench.txt"
[[ -s $TSV ]] || { echo "bench: no results in $TSV" >&2; exit 1; }

# Figure lookup in the TSV: fig NAME-PREFIX COLUMN (2 count, 3 median, 4 p95, 5 min, 6 max).
fig() {
    awk -F'\t' -v p="$1" -v c="$2" 'NR > 1 && index($1, p) == 1 { print $c; exit }' "$TSV"
}

say "reference argon2 CLI and whole-command cold get (hyperfine, $CLI_RUNS runs each)"
WORK=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/secretctl-cli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PWFILE=$WORK/password
( umask 077; printf 'bench-master-password\n' >"$PWFILE" )
VAULT=$WORK/vault
"$BIN" --vault-dir "$VAULT" --password-file "$PWFILE" init >/dev/null
printf 'tok_bench_0123456789_abcdefghijklmnop' |
    "$BIN" --vault-dir "$VAULT" --password-file "$PWFILE" set bench/key >/dev/null
GET_CMD="$BIN --vault-dir $VAULT --password-file $PWFILE get bench/key"
ARGON_CMD="echo -n password | argon2 somesaltsomesalt -id -t 3 -m 16 -p 4 -l 32 -r"
# Both through hyperfine's shell (its spawn time is measured and subtracted), interleaved
# neither way: argon2 first, then get, each with warm-up runs.
timeout 600 hyperfine --style basic --warmup 3 --runs "$CLI_RUNS" \
    --export-json "$OUT/hyperfine.json" \
    -n "argon2 CLI" "$ARGON_CMD" \
    -n "secretctl get (cold)" "$GET_CMD" | tee "$OUT/hyperfine.txt"

# median and p95 (nearest rank) of hyperfine's samples, in ms
hf() { # index stat
    jq -r --argjson i "$1" --arg s "$2" '
        .results[$i].times | sort as $t | ($t | length) as $n |
        (if $s == "median" then
            (if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end)
         else $t[((($n * 95) + 99) / 100 | floor) - 1] end) * 1000 | . * 1000 | round / 1000
    ' "$OUT/hyperfine.json"
}
ARGON_MED=$(hf 0 median); ARGON_P95=$(hf 0 p95)
GET_MED=$(hf 1 median); GET_P95=$(hf 1 p95)

KDF_MED=$(fig "kdf: derive_master_key (" 3); KDF_P95=$(fig "kdf: derive_master_key (" 4)
PAIRED_RATIO=$(fig "kdf ratio, paired median" 3)
[[ -z $PAIRED_RATIO ]] || PAIRED_RATIO=$(printf '%.2f' "$PAIRED_RATIO")
PAIRED_CLI_MED=$(fig "kdf: argon2 CLI, paired" 3)
VERIFY_NAME=$(awk -F'\t' 'index($1, "audit verify (") == 1 { print $1; exit }' "$TSV")
VERIFY_RECORDS=$(sed -E 's/^audit verify \(([0-9]+) records\)$/\1/' <<<"$VERIFY_NAME")
VERIFY_MED=$(fig "audit verify (" 3); VERIFY_P95=$(fig "audit verify (" 4)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
kdf_goal() { if le "$1" 1.2; then echo "met ($1x <= 1.2x)"; else echo "NOT met ($1x > 1.2x)"; fi; }
KDF_RATIO=$(ratio "$KDF_MED" "$ARGON_MED")
GET_RATIO=$(ratio "$GET_MED" "$ARGON_MED")
if (( VERIFY_RECORDS < 100000 )); then
    VERIFY_GOAL="not judged: only $VERIFY_RECORDS records (smoke run)"
elif le "$VERIFY_MED" 1000; then
    VERIFY_GOAL="met (${VERIFY_MED} ms < 1000 ms)"
else
    VERIFY_GOAL="NOT met (${VERIFY_MED} ms >= 1000 ms)"
fi

row() { # figure count median p95 note
    printf '| %s | %s | %s | %s | %s |\n' "$@"
}

ELAPSED=$(( $(date +%s) - START ))
{
    echo "## secretctl benchmark summary"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- crates 2>/dev/null || echo ' (+ uncommitted changes)')"
    echo "- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)"
    echo "- load average (1/5/15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg); at the start of the core bench: $(sed -n 's/^ *load avg: *\([0-9. ]*[0-9]\).*/\1/p' "$OUT/bench.txt")"
    echo "- disk under test: $(sed -n 's/^ *disk under test: *//p' "$OUT/bench.txt")"
    echo "- tools: $(hyperfine --version), argon2 $(dpkg-query -W -f '${Version}' argon2 2>/dev/null || echo '?'), $(rustc --version)"
    echo "- whole run: ${ELAPSED} s"
    echo
    echo "### Goals"
    echo
    echo "| figure | count | median ms | p95 ms | goal / note |"
    echo "|---|---|---|---|---|"
    row "KDF: secretctl derive_master_key (library)" "$(fig "kdf: derive_master_key (" 2)" "$KDF_MED" "$KDF_P95" "Argon2id m=64 MiB t=3 p=4, 32 B"
    if [[ -n $PAIRED_RATIO ]]; then
        row "KDF: argon2 CLI, paired with the library calls" "$(fig "kdf: argon2 CLI, paired" 2)" "$PAIRED_CLI_MED" "$(fig "kdf: argon2 CLI, paired" 4)" "run alternately with the row above"
        row "**KDF ratio, paired** (median of per-pair ratios)" "" "**${PAIRED_RATIO}x**" "" "goal <= 1.2x: **$(kdf_goal "$PAIRED_RATIO")**"
    fi
    row "KDF: argon2 CLI under hyperfine" "$CLI_RUNS" "$ARGON_MED" "$ARGON_P95" "separate run, after the core bench"
    row "KDF ratio, library median / hyperfine CLI median" "" "${KDF_RATIO}x" "" "goal <= 1.2x: $(kdf_goal "$KDF_RATIO"); unpaired: minutes apart, so a change in machine load between the two shows up here"
    row "secretctl get KEY, whole command (new process)" "$CLI_RUNS" "$GET_MED" "$GET_P95" "${GET_RATIO}x the hyperfine argon2 CLI; no goal"
    row "**$VERIFY_NAME**" "$(fig "audit verify (" 2)" "**$VERIFY_MED**" "$VERIFY_P95" "goal < 1 s for 100,000 records: **$VERIFY_GOAL**"
    echo
    echo "### Every figure of the core bench (library calls; fills are one run: median = total)"
    echo
    echo "| figure | count | median ms | p95 ms | min ms | max ms |"
    echo "|---|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 && $2 != "ratio" { printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$TSV"
} | tee "$OUT/summary.md"
echo >&2
echo "raw output: $OUT/{bench.txt,bench.tsv,hyperfine.json,hyperfine.txt,summary.md}" >&2
