#!/usr/bin/env bash
# Figures for `secretctl run` and the redactor (docs/benchmarks.md), in one command:
#
#   bench/run.sh
#
# 1. installs what it needs (hyperfine, GNU time: Debian packages) when missing;
# 2. builds the release binary once;
# 3. makes a vault with 100 secrets (24-40 random bytes each, ~1,900 redaction patterns) and a
#    1 GiB file of random base64 text;
# 4. times `cat FILE | cat >/dev/null` against `secretctl run -k 'bench/*' -- cat FILE |
#    cat >/dev/null` (same data, same run) and reports the throughput ratio (goal >= 0.5);
# 5. reads the peak RSS of `secretctl run` while the child prints that 1 GiB (goal < 32 MiB);
# 6. times `secretctl run -k KEY -- true` with the password from a file (KDF included) against
#    `true` alone, and reports the overhead;
# 7. unlocks the session agent and times the same warm (goal < 5 ms over `true`), then imports
#    10,000 secrets into a second vault and times a warm `list`.
# Knobs: BENCH_MB (default 1024), RUNS (default 3 for the 1 GiB runs), BENCH_TMP (default
# /dev/shm when it is a tmpfs with room, else the system temp dir). No timing is asserted.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
MB=${BENCH_MB:-1024}
RUNS=${RUNS:-3}
say() { printf '\n== %s\n' "$*" >&2; }

install_if_missing() { # command package
    command -v "$1" >/dev/null 2>&1 && return 0
    say "installing $2"
    apt-get install -y "$2" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y "$2" >/dev/null; }
}
install_if_missing hyperfine hyperfine
[ -x /usr/bin/time ] || install_if_missing /usr/bin/time time

say "building release (once)"
cargo build --release -p secretctl >&2
BIN=$ROOT/target/release/secretctl

if [ -z "${BENCH_TMP:-}" ] && [ "$(df --output=avail -m /dev/shm 2>/dev/null | tail -1)" -gt $((MB + 256)) ] 2>/dev/null; then
    BENCH_TMP=/dev/shm
fi
WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/secretctl-bench.XXXXXX")
trap '"$BIN" --vault-dir "$V" lock >/dev/null 2>&1 || true; "$BIN" --vault-dir "$WORK/big-vault" lock >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export SECRETCTL_PASSWORD_FILE=$WORK/pw
printf 'bench password, not secret\n' > "$SECRETCTL_PASSWORD_FILE"
chmod 600 "$SECRETCTL_PASSWORD_FILE"
V=$WORK/vault
unset SECRETCTL_PASSWORD

say "vault with 100 secrets"
"$BIN" --vault-dir "$V" init >/dev/null
for i in $(seq -w 1 100); do
    len=$((24 + RANDOM % 17))
    (set +o pipefail; head -c 64 /dev/urandom | base64 -w0 | head -c "$len" > "$WORK/value")
    "$BIN" --vault-dir "$V" set "bench/k$i" --from-file "$WORK/value" >/dev/null
done
rm -f "$WORK/value"

say "$MB MiB of random text"
# base64 of 3/4 of the size is the size plus line breaks; `head` closing the pipe early is fine.
(set +o pipefail; head -c $((MB * 1024 * 1024 * 3 / 4 + 4096)) /dev/urandom | base64 -w 76 | head -c $((MB * 1024 * 1024)) > "$WORK/big")

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
seconds() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
install_if_missing bc bc

say "throughput: cat vs secretctl run (redacting), $RUNS runs each"
cat_times=(); run_times=()
for _ in $(seq "$RUNS"); do
    cat_times+=("$(seconds sh -c "cat '$WORK/big' | cat >/dev/null")")
    run_times+=("$(seconds sh -c "'$BIN' --vault-dir '$V' run -k 'bench/*' -- cat '$WORK/big' | cat >/dev/null")")
done
cat_s=$(printf '%s\n' "${cat_times[@]}" | median)
run_s=$(printf '%s\n' "${run_times[@]}" | median)
cat_mbs=$(echo "$MB / $cat_s" | bc -l)
run_mbs=$(echo "$MB / $run_s" | bc -l)
ratio=$(echo "$cat_s / $run_s" | bc -l)

say "peak RSS of secretctl run while the child prints $MB MiB"
/usr/bin/time -f '%M' -o "$WORK/rss" "$BIN" --vault-dir "$V" run -k 'bench/*' -- cat "$WORK/big" | cat >/dev/null
rss_kib=$(tail -1 "$WORK/rss")
# The lifetime peak includes Argon2id's 64 MiB during unlock (freed before the command starts);
# sample the resident set while the output streams too.
"$BIN" --vault-dir "$V" run -k 'bench/*' -- cat "$WORK/big" > >(cat >/dev/null) &
pid=$!
stream_kib=0
sleep 1
while kill -0 "$pid" 2>/dev/null; do
    now=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${now:-0}" -gt "$stream_kib" ] && stream_kib=$now
    sleep 0.05
done
wait "$pid" || true
patterns=$("$BIN" --vault-dir "$V" list | wc -l)

say "run overhead (password file, KDF included) vs true"
hyperfine -N --warmup 2 --runs 20 --export-json "$WORK/overhead.json" \
    "true" "$BIN --vault-dir $V run -k bench/k001 -- true" >&2
read -r true_ms run_ms < <(python3 - "$WORK/overhead.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(f"{r[0]['median']*1000:.2f} {r[1]['median']*1000:.2f}")
PY
)

say "warm: through the session agent"
"$BIN" --vault-dir "$V" unlock --ttl 10m >/dev/null
hyperfine -N --warmup 3 --runs 30 --export-json "$WORK/warm.json" \
    "true" "$BIN --vault-dir $V run -k bench/k001 -- true" >&2
read -r wtrue_ms warm_ms < <(python3 - "$WORK/warm.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(f"{r[0]['median']*1000:.2f} {r[1]['median']*1000:.2f}")
PY
)
"$BIN" --vault-dir "$V" lock >/dev/null

say "warm list of 10,000 secrets"
BV=$WORK/big-vault
"$BIN" --vault-dir "$BV" init >/dev/null
python3 -c 'import secrets; print("\n".join(f"APP_{i:05d}_TOKEN={secrets.token_hex(16)}" for i in range(10000)))' > "$WORK/big.env"
import_s=$(seconds sh -c "'$BIN' --vault-dir '$BV' import '$WORK/big.env' >/dev/null")
"$BIN" --vault-dir "$BV" unlock --ttl 10m >/dev/null
hyperfine -N --warmup 2 --runs 15 --export-json "$WORK/list.json" "$BIN --vault-dir $BV list" >&2
list_ms=$(python3 - "$WORK/list.json" <<'PY'
import json, sys
print(f"{json.load(open(sys.argv[1]))['results'][0]['median'] * 1000:.1f}")
PY
)
"$BIN" --vault-dir "$BV" lock >/dev/null

verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo met; else echo "NOT met"; fi; }
printf '\n%-58s %s\n' "figure" "value"
printf '%-58s %.0f MB/s\n' "cat | cat, median of $RUNS ($MB MiB)" "$cat_mbs"
printf '%-58s %.0f MB/s\n' "secretctl run -k 'bench/*' -- cat | cat ($patterns secrets)" "$run_mbs"
printf '%-58s %.2f (goal >= 0.5: %s)\n' "throughput ratio run / cat" "$ratio" "$(verdict "$ratio >= 0.5")"
printf '%-58s %.1f MiB (goal < 32 MiB: %s)\n' "RSS of secretctl run while streaming (max of samples)" "$(echo "$stream_kib / 1024" | bc -l)" "$(verdict "$stream_kib < 32768")"
printf '%-58s %.1f MiB (includes the 64 MiB KDF at unlock)\n' "lifetime peak RSS of secretctl run (cold)" "$(echo "$rss_kib / 1024" | bc -l)"
printf '%-58s %s ms\n' "true, median" "$true_ms"
printf '%-58s %s ms\n' "secretctl run -k KEY -- true (cold, KDF), median" "$run_ms"
printf '%-58s %.2f ms\n' "run overhead (cold)" "$(echo "$run_ms - $true_ms" | bc -l)"
printf '%-58s %s ms\n' "secretctl run -k KEY -- true (warm, agent), median" "$warm_ms"
warm_over=$(echo "$warm_ms - $wtrue_ms" | bc -l)
printf '%-58s %.2f ms (goal < 5 ms: %s)\n' "run overhead (warm)" "$warm_over" "$(verdict "$warm_over < 5")"
printf '%-58s %.1f s\n' "import of 10,000 secrets (one transaction)" "$import_s"
printf '%-58s %s ms\n' "list of 10,000 secrets (warm, agent), median" "$list_ms"
printf '\nmachine: %s cores, %s, %s; %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(free -h | awk '/Mem:/ {print $2}')" "$(date -u +%Y-%m-%dT%H:%MZ)"
