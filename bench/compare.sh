#!/usr/bin/env bash
# secretctl measured against its peers, with the same data, in one command
# (docs/benchmarks.md, "Compared with peers"):
#
#   bench/compare.sh
#
# 1. installs the peers when missing: Debian's keepassxc (keepassxc-cli), pass with gnupg, the
#    reference argon2 CLI, hyperfine, jq and age (age-keygen, for fnox's age provider); PyPI's
#    pykeepass (to write KDBX4 files with exact Argon2id parameters) and mcp; and fnox from
#    crates.io (`cargo install --locked fnox --version $FNOX_VERSION`, into target/bench-peers);
# 2. builds secretctl once (`cargo build --release -p secretctl`);
# 3. times, with hyperfine (medians from --export-json):
#    1. cold read, a new process paying Argon2id m=64 MiB t=3 p=4: `secretctl get` vs
#       `keepassxc-cli show` on a KDBX4 file with those parameters (read back and printed), and
#       the reference argon2 CLI alone;
#    2. warm read: `secretctl get --masked`, `get` and `run -k K -- true` through the session
#       agent vs `pass show` (cached gpg-agent: a key without passphrase, and one whose
#       passphrase is preset) vs `fnox get` (age provider; without and with its daemon);
#    3. `run` overhead: `secretctl run -k K -- true` vs `fnox exec -- true` vs `true`;
#    4. redaction throughput: `secretctl run -- cat` vs `fnox exec --redact -- cat` vs `cat`,
#       piped, on the same BENCH_MB MiB of random base64 text, 100 secrets each;
#    5. 10,000 secrets: `secretctl import` (.env) vs `keepassxc-cli import` (KeePass XML, same
#       names and values), and `secretctl list` (cold and through the agent) vs
#       `keepassxc-cli ls` (KDBX4, same KDF);
#    6. MCP: `secret_run` vs fnox's MCP `exec` tool vs exec from Python (bench/mcp_client_bench.py);
# 4. prints a table of medians and ratios (secretctl ÷ peer), says for each goal "met" or
#    "NOT met" with the figure, and writes it into docs/benchmarks.md between the markers.
#
# Knobs: BENCH_MB (1024), COLD_RUNS (10), WARM_RUNS (30), STREAM_RUNS (3), IMPORT_RUNS (5),
# LIST_RUNS (10), MCP_ROUNDS (30), WRITE_DOCS (1; 0 leaves the docs alone), FNOX_INSTALL (1; 0
# skips fnox's long build when it is not installed yet, and reports it missing), BENCH_TMP (where
# the vaults go; default the system temp dir; the text stream goes to /dev/shm when it has
# room). No timing is asserted anywhere.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
STARTED=$(date +%s)
CMDLINE=bench/compare.sh # as called: the knobs set in the environment, then the script
for v in FNOX_INSTALL WRITE_DOCS BENCH_TMP MCP_ROUNDS LIST_RUNS IMPORT_RUNS STREAM_RUNS WARM_RUNS COLD_RUNS BENCH_MB; do
    [ -z "${!v:-}" ] || CMDLINE="$v=${!v} $CMDLINE"
done
FNOX_VERSION=1.43.0
MB=${BENCH_MB:-1024}
N=10000 # bench/mcp_client_bench.py expects exactly these 10,000 names (bench/k00000 ... bench/k09999)
COLD_RUNS=${COLD_RUNS:-10}
WARM_RUNS=${WARM_RUNS:-30}
STREAM_RUNS=${STREAM_RUNS:-3}
IMPORT_RUNS=${IMPORT_RUNS:-5}
LIST_RUNS=${LIST_RUNS:-10}
MCP_ROUNDS=${MCP_ROUNDS:-30}
OUT=$ROOT/target/bench-results/compare
PEERS=$ROOT/target/bench-peers
say() { printf '\n== %s\n' "$*" >&2; }
declare -A MISSING=()
missing() { MISSING[$1]=$2; printf '\n!! %s: NOT MEASURED: %s\n' "$1" "$2" >&2; }

# ---------------------------------------------------------------- installs

apt_updated=
apt_install() { # package...
    [ -n "$apt_updated" ] || { apt-get update >/dev/null 2>&1 || true; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1
}
pkgs=()
for pair in keepassxc-cli:keepassxc pass:pass gpg:gnupg gpg-agent:gpg-agent argon2:argon2 \
    hyperfine:hyperfine jq:jq age-keygen:age; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || pkgs+=("${pair#*:}")
done
[ -x /usr/lib/gnupg/gpg-preset-passphrase ] || pkgs+=(gpg-agent)
if [ ${#pkgs[@]} -gt 0 ]; then
    say "installing Debian packages: ${pkgs[*]}"
    apt_install "${pkgs[@]}" || say "apt-get install ${pkgs[*]} failed; the missing peers are reported below"
fi
command -v hyperfine >/dev/null || { echo "hyperfine is required and could not be installed" >&2; exit 1; }

PY=$(python3 -c 'import sys; print(sys.executable)') # the real interpreter, not a pyenv shim
pip_install() {
    "$PY" -m pip install --quiet "$@" 2>/dev/null || "$PY" -m pip install --quiet --break-system-packages "$@"
}
"$PY" -c 'import pykeepass' 2>/dev/null || { say "installing pykeepass (PyPI)"; pip_install pykeepass==4.2.0 || true; }
"$PY" -c 'import mcp' 2>/dev/null || { say "installing mcp (PyPI)"; pip_install mcp || true; }

FNOX=$PEERS/bin/fnox
if [ "${FNOX_INSTALL:-1}" = 0 ] && ! [ -x "$FNOX" ]; then
    missing fnox "not installed, and FNOX_INSTALL=0 skips its build"
elif ! "$FNOX" --version 2>/dev/null | grep -qF "$FNOX_VERSION"; then
    say "installing fnox $FNOX_VERSION from crates.io into $PEERS (cargo install --locked; a long build: ~800 crates)"
    # C libraries of fnox's -sys crates: hidapi (YubiKey/FIDO2) needs libudev, keyring needs
    # D-Bus, openssl-sys needs OpenSSL; all found through pkg-config.
    apt_install pkg-config libudev-dev libdbus-1-dev libssl-dev || true
    # fnox 1.44.0 to 1.46.0 lock webpki-roots 1.0.11, which the registry reachable here does
    # not serve, so `--locked` cannot resolve them; 1.43.0 is the newest that builds locked.
    if ! cargo install --locked fnox --version "$FNOX_VERSION" --root "$PEERS" >&2; then
        missing fnox "cargo install --locked fnox --version $FNOX_VERSION failed (output above)"
    fi
fi
[ -x "$FNOX" ] || FNOX=

say "building secretctl (release, once)"
cargo build --release -p secretctl >&2
BIN=$ROOT/target/release/secretctl
RUSTC_VERSION=$(rustc --version | cut -d' ' -f1-2) # before HOME changes: rustup finds its toolchain through it

# ---------------------------------------------------------------- work area

mkdir -p "$OUT"
rm -f "$OUT"/*.json
WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/secretctl-compare.XXXXXX")
STREAM_DIR=$WORK
if [ "$(df --output=avail -m /dev/shm 2>/dev/null | tail -1)" -gt $((MB + 256)) ] 2>/dev/null; then
    STREAM_DIR=$(mktemp -d /dev/shm/secretctl-compare.XXXXXX)
fi
V1=$WORK/v1 V100=$WORK/v100 VB=$WORK/vb
cleanup() {
    for v in "$V1" "$V100" "$VB"; do "$BIN" --vault-dir "$v" lock >/dev/null 2>&1 || true; done
    if [ -n "$FNOX" ] && [ -f "$WORK/fnox/daemon.toml" ]; then
        "$FNOX" -c "$WORK/fnox/daemon.toml" daemon stop >/dev/null 2>&1 || true
    fi
    for g in "$WORK"/gnupg-*; do [ -d "$g" ] && GNUPGHOME=$g gpgconf --kill gpg-agent 2>/dev/null || true; done
    rm -rf "$WORK"
    [ "$STREAM_DIR" = "$WORK" ] || rm -rf "$STREAM_DIR"
}
trap cleanup EXIT

# Everything below runs with a private home: no peer reads or writes the user's own files.
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_DATA_HOME=$WORK/home/.local/share
export XDG_STATE_HOME=$WORK/home/.local/state XDG_CACHE_HOME=$WORK/home/.cache
export FNOX_DAEMON_SOCKET_DIR=$WORK/fnox-sock
unset XDG_RUNTIME_DIR SECRETCTL_PASSWORD SECRETCTL_PASSWORD_FILE SECRETCTL_HOME FNOX_DAEMON FNOX_AGE_KEY FNOX_AGE_KEY_FILE
mkdir -p "$HOME"
PW=$WORK/pw
printf 'bench password, not secret\n' > "$PW"
printf 'bench password, not secret\nbench password, not secret\n' > "$WORK/pw2"
chmod 600 "$PW" "$WORK/pw2"
KEY=BENCH_TOKEN
(set +o pipefail; head -c 64 /dev/urandom | base64 -w0 | tr -d '+/=' | head -c 32 > "$WORK/value")
VALUE=$(cat "$WORK/value")
check() { # what expected actual
    [ "$2" = "$3" ] && return 0
    echo "sanity check failed: $1: expected '$2', got '$3'" >&2
    return 1
}

# ---------------------------------------------------------------- peers' setup

say "secretctl: a vault with $KEY"
"$BIN" --vault-dir "$V1" --password-file "$PW" init >/dev/null
"$BIN" --vault-dir "$V1" --password-file "$PW" set "$KEY" --from-file "$WORK/value" >/dev/null
check "secretctl get" "$VALUE" "$("$BIN" --vault-dir "$V1" --password-file "$PW" get "$KEY")"
KDF_SECRETCTL=$("$PY" bench/compare.py kdf-secretctl "$V1")
echo "$KDF_SECRETCTL" >&2

KPX=
setup_keepassxc() {
    command -v keepassxc-cli >/dev/null || { missing keepassxc "keepassxc-cli is not installed (apt-get install keepassxc failed)"; return 1; }
    "$PY" -c 'import pykeepass' 2>/dev/null || { missing keepassxc "pykeepass (PyPI) is not installed: no way to write a KDBX4 file with exact Argon2id parameters"; return 1; }
    # keepassxc-cli db-create only takes a target decryption time, so pykeepass writes the file.
    "$PY" bench/compare.py kdbx "$WORK/one.kdbx" "$PW" "$KEY" "$WORK/value" || return 1
    KDF_KDBX=$("$PY" bench/compare.py kdf-kdbx "$WORK/one.kdbx" "$PW") || return 1
    KDF_KDBX_CLI=$(keepassxc-cli db-info -q "$WORK/one.kdbx" < "$PW" 2>/dev/null | grep '^KDF:') || return 1
    echo "$KDF_KDBX; keepassxc-cli db-info: $KDF_KDBX_CLI" >&2
    check "keepassxc-cli show" "$VALUE" "$(keepassxc-cli show -q -a Password "$WORK/one.kdbx" "$KEY" < "$PW" 2>/dev/null)" || return 1
    KPX=1
}
say "keepassxc-cli: a KDBX4 file with $KEY, Argon2id m=64 MiB t=3 p=4"
setup_keepassxc || true

PASS_A= PASS_B=
gpg_key() { # GNUPGHOME passphrase: a cv25519 encryption key, as `gpg --quick-gen-key` makes on gpg 2.4
    local home=$1 pass=$2 fpr
    mkdir -m 700 -p "$home"
    GNUPGHOME=$home gpg --batch --quiet --pinentry-mode loopback --passphrase "$pass" \
        --quick-gen-key 'secretctl bench <bench@example.invalid>' ed25519 cert,sign never 2>/dev/null || return 1
    fpr=$(GNUPGHOME=$home gpg --with-colons --list-keys | awk -F: '/^fpr/ { print $10; exit }')
    GNUPGHOME=$home gpg --batch --quiet --pinentry-mode loopback --passphrase "$pass" \
        --quick-add-key "$fpr" cv25519 encr never 2>/dev/null || return 1
    echo "$fpr"
}
pass_store() { # GNUPGHOME store fpr
    GNUPGHOME=$1 PASSWORD_STORE_DIR=$2 pass init "$3" >/dev/null 2>&1 || return 1
    GNUPGHOME=$1 PASSWORD_STORE_DIR=$2 pass insert -m "$KEY" < "$WORK/value" >/dev/null 2>&1 || return 1
    check "pass show ($1)" "$VALUE" "$(GNUPGHOME=$1 PASSWORD_STORE_DIR=$2 pass show "$KEY" < /dev/null)" || return 1
}
setup_pass() {
    command -v pass >/dev/null && command -v gpg >/dev/null || { missing pass "pass or gpg is not installed"; return 1; }
    local fpr
    fpr=$(gpg_key "$WORK/gnupg-a" '') || { missing pass "gpg could not make a key"; return 1; }
    pass_store "$WORK/gnupg-a" "$WORK/pass-a" "$fpr" || { missing pass "pass could not store or read $KEY"; return 1; }
    PASS_A=1
    # The same with a passphrase, preset in the agent: what an unlocked pass looks like.
    fpr=$(gpg_key "$WORK/gnupg-b" 'bench password, not secret') || return 1
    printf 'allow-preset-passphrase\ndefault-cache-ttl 86400\nmax-cache-ttl 86400\n' > "$WORK/gnupg-b/gpg-agent.conf"
    GNUPGHOME=$WORK/gnupg-b gpgconf --kill gpg-agent 2>/dev/null || true
    GNUPGHOME=$WORK/gnupg-b gpg-connect-agent /bye >/dev/null 2>&1 || return 1
    local grp
    for grp in $(GNUPGHOME=$WORK/gnupg-b gpg --with-colons --with-keygrip -K | awk -F: '/^grp/ { print $10 }'); do
        GNUPGHOME=$WORK/gnupg-b /usr/lib/gnupg/gpg-preset-passphrase --preset -P 'bench password, not secret' "$grp" || return 1
    done
    pass_store "$WORK/gnupg-b" "$WORK/pass-b" "$fpr" || { missing "pass (preset passphrase)" "could not read $KEY without a prompt"; return 1; }
    PASS_B=1
}
say "pass: two stores with $KEY (gpg key without passphrase; key with a preset passphrase)"
setup_pass || true

FC= FCD= F100=
setup_fnox() {
    [ -n "$FNOX" ] || return 1
    command -v age-keygen >/dev/null || { missing fnox "age-keygen (Debian package age) is not installed: no identity for fnox's age provider"; return 1; }
    local d=$WORK/fnox recipient
    mkdir -p "$d"
    age-keygen -o "$d/age.txt" 2>/dev/null || return 1
    recipient=$(age-keygen -y "$d/age.txt") || return 1
    for f in fnox.toml f100.toml; do
        printf '[providers.age]\ntype = "age"\nrecipients = ["%s"]\nkey_file = "age.txt"\n\n[mcp]\ntools = ["exec"]\n' \
            "$recipient" > "$d/$f"
    done
    "$FNOX" -c "$d/fnox.toml" set "$KEY" --provider age --from-file "$WORK/value" >/dev/null 2>&1 || { missing fnox "fnox set failed"; return 1; }
    { cat "$d/fnox.toml"; printf '\n[daemon]\nenabled = true\n'; } > "$d/daemon.toml"
    check "fnox get" "$VALUE" "$("$FNOX" -c "$d/fnox.toml" get "$KEY")" || { missing fnox "fnox get did not return the value"; return 1; }
    check "fnox get (daemon)" "$VALUE" "$("$FNOX" -c "$d/daemon.toml" get "$KEY")" || { missing fnox "fnox get through its daemon did not return the value"; return 1; }
    check "fnox exec" "$VALUE" "$("$FNOX" -c "$d/fnox.toml" exec -- sh -c 'printf %s "$BENCH_TOKEN"')" || return 1
    FC=$d/fnox.toml FCD=$d/daemon.toml F100=$d/f100.toml
}
say "fnox $FNOX_VERSION: age provider, $KEY encrypted into fnox.toml"
setup_fnox || true

# ---------------------------------------------------------------- 1. cold read

say "1. cold read ($COLD_RUNS runs)"
cmds=(-n "secretctl get" "$BIN --vault-dir $V1 --password-file $PW get $KEY")
[ -z "$KPX" ] || cmds+=(-n "keepassxc-cli show" "sh -c 'exec keepassxc-cli show -q -a Password $WORK/one.kdbx $KEY < $PW'")
cmds+=(-n "argon2 CLI" "sh -c 'printf password | argon2 somesaltsomesalt -id -t 3 -m 16 -p 4 -l 32 -r'")
hyperfine -N --warmup 2 --runs "$COLD_RUNS" --export-json "$OUT/cold.json" "${cmds[@]}" >&2

# ---------------------------------------------------------------- 2 + 3. warm read, run overhead

say "2/3. warm read and run overhead ($WARM_RUNS runs)"
"$BIN" --vault-dir "$V1" --password-file "$PW" unlock --ttl 30m --allow-reveal 30m >/dev/null
check "secretctl get (agent)" "$VALUE" "$("$BIN" --vault-dir "$V1" get "$KEY")"
cmds=(-n "true" "true"
    -n "secretctl get --masked" "$BIN --vault-dir $V1 get --masked $KEY"
    -n "secretctl get (reveal)" "$BIN --vault-dir $V1 get $KEY"
    -n "secretctl run -- true" "$BIN --vault-dir $V1 run -k $KEY -- true")
[ -z "$PASS_A" ] || cmds+=(-n "pass show (key without passphrase)" "env GNUPGHOME=$WORK/gnupg-a PASSWORD_STORE_DIR=$WORK/pass-a pass show $KEY")
[ -z "$PASS_B" ] || cmds+=(-n "pass show (preset passphrase)" "env GNUPGHOME=$WORK/gnupg-b PASSWORD_STORE_DIR=$WORK/pass-b pass show $KEY")
if [ -n "$FC" ]; then
    cmds+=(-n "fnox get" "$FNOX -c $FC get $KEY"
        -n "fnox get (daemon)" "$FNOX -c $FCD get $KEY"
        -n "fnox exec -- true" "$FNOX -c $FC exec -- true"
        -n "fnox exec -- true (daemon)" "$FNOX -c $FCD exec -- true")
fi
hyperfine -N --warmup 3 --runs "$WARM_RUNS" --export-json "$OUT/warm.json" "${cmds[@]}" >&2

# ---------------------------------------------------------------- 4. redaction throughput

say "4. redaction: 100 secrets, $MB MiB of random text"
"$BIN" --vault-dir "$V100" --password-file "$PW" init >/dev/null
for i in $(seq -w 1 100); do
    len=$((24 + RANDOM % 17))
    (set +o pipefail; head -c 64 /dev/urandom | base64 -w0 | tr -d '+/=' | head -c "$len" > "$WORK/val$i")
    "$BIN" --vault-dir "$V100" --password-file "$PW" set "bench/k$i" --from-file "$WORK/val$i" >/dev/null
    [ -z "$F100" ] || "$FNOX" -c "$F100" set "BENCH_K$i" --provider age --from-file "$WORK/val$i" >/dev/null 2>&1 \
        || { missing "fnox exec --redact" "fnox set failed for the 100-secret config"; F100=; }
done
"$BIN" --vault-dir "$V100" --password-file "$PW" unlock --ttl 30m >/dev/null
BIG=$STREAM_DIR/big
(set +o pipefail; head -c $((MB * 1024 * 1024 * 3 / 4 + 4096)) /dev/urandom | base64 -w 76 | head -c $((MB * 1024 * 1024)) > "$BIG")
# The redactors must see the values: one of them, planted in a small file, must not come out.
printf 'x %s y\n' "$(cat "$WORK/val042")" > "$WORK/planted"
check "secretctl run redacts" 0 "$("$BIN" --vault-dir "$V100" run -k 'bench/*' -- cat "$WORK/planted" | grep -cF "$(cat "$WORK/val042")" || true)"
if [ -n "$F100" ] && ! check "fnox exec --redact redacts" 0 "$("$FNOX" -c "$F100" exec --redact -- cat "$WORK/planted" | grep -cF "$(cat "$WORK/val042")" || true)"; then
    missing "fnox exec --redact" "the planted value came through unredacted"
    F100=
fi
cmds=(-n "cat | cat" "cat $BIG | cat >/dev/null"
    -n "secretctl run | cat" "$BIN --vault-dir $V100 run -k 'bench/*' -- cat $BIG | cat >/dev/null")
[ -z "$F100" ] || cmds+=(-n "fnox exec --redact | cat" "$FNOX -c $F100 exec --redact -- cat $BIG | cat >/dev/null")
hyperfine --runs "$STREAM_RUNS" --export-json "$OUT/stream.json" "${cmds[@]}" >&2
"$BIN" --vault-dir "$V100" lock >/dev/null
rm -f "$BIG"

# ---------------------------------------------------------------- 5. 10,000 secrets

say "5. $N secrets: import ($IMPORT_RUNS runs) and list ($LIST_RUNS cold, $WARM_RUNS warm runs)"
"$PY" bench/compare.py data "$WORK" "$N"
cmds=(-n "secretctl import"
    --prepare "rm -rf $VB && $BIN --vault-dir $VB --password-file $PW init >/dev/null"
    "$BIN --vault-dir $VB --password-file $PW import $WORK/big.env >/dev/null")
[ -z "$KPX" ] || cmds+=(-n "keepassxc-cli import" --prepare "rm -f $WORK/imported.kdbx"
    "keepassxc-cli import -q -p $WORK/big.xml $WORK/imported.kdbx < $WORK/pw2 >/dev/null 2>&1")
hyperfine --runs "$IMPORT_RUNS" --export-json "$OUT/import.json" "${cmds[@]}" >&2
check "secretctl list count" "$N" "$("$BIN" --vault-dir "$VB" --password-file "$PW" list | wc -l)"
KDF_IMPORT=
if [ -n "$KPX" ]; then
    KDF_IMPORT=$("$PY" bench/compare.py kdf-kdbx "$WORK/imported.kdbx" "$PW")
    echo "keepassxc-cli import wrote: $KDF_IMPORT" >&2
    "$PY" bench/compare.py kdbx-xml "$WORK/big.kdbx" "$PW" "$WORK/big.xml"
    KDF_BIG=$("$PY" bench/compare.py kdf-kdbx "$WORK/big.kdbx" "$PW")
    echo "for keepassxc-cli ls: $KDF_BIG" >&2
    check "keepassxc-cli ls count" "$N" "$(keepassxc-cli ls -q "$WORK/big.kdbx" < "$PW" 2>/dev/null | wc -l)"
    check "keepassxc-cli show (10k)" "$(sed -n 's|^bench/k00042=||p' "$WORK/big.env")" \
        "$(keepassxc-cli show -q -a Password "$WORK/big.kdbx" bench/k00042 < "$PW" 2>/dev/null)"
fi
cat > "$VB/mcp-policy.yaml" <<'YAML'
version: 2
default_action: deny
commands:
  - name: /usr/bin/true
    keys: ["bench/*"]
YAML
chmod 600 "$VB/mcp-policy.yaml"
"$BIN" --vault-dir "$VB" --password-file "$PW" policy approve --yes >/dev/null
cmds=(-n "secretctl list (cold)" "$BIN --vault-dir $VB --password-file $PW list")
[ -z "$KPX" ] || cmds+=(-n "keepassxc-cli ls" "sh -c 'exec keepassxc-cli ls -q $WORK/big.kdbx < $PW'")
hyperfine -N --warmup 1 --runs "$LIST_RUNS" --export-json "$OUT/list-cold.json" "${cmds[@]}" >&2
"$BIN" --vault-dir "$VB" --password-file "$PW" unlock --ttl 30m >/dev/null
hyperfine -N --warmup 3 --runs "$WARM_RUNS" --export-json "$OUT/list-warm.json" \
    -n "secretctl list (agent)" "$BIN --vault-dir $VB list" >&2

# ---------------------------------------------------------------- 6. MCP

say "6. MCP: secret_run vs fnox's exec tool vs direct exec ($MCP_ROUNDS rounds)"
if "$PY" -c 'import mcp' 2>/dev/null; then
    mcp_args=()
    [ -z "$FC" ] || mcp_args=(--fnox "$FNOX" "$FC")
    "$PY" bench/mcp_client_bench.py "$BIN" "$VB" "$MCP_ROUNDS" "${mcp_args[@]}" --json "$OUT/mcp.json" >&2
else
    missing mcp "the mcp Python package is not installed"
fi
"$BIN" --vault-dir "$VB" lock >/dev/null

# ---------------------------------------------------------------- report

ver() { "$@" 2>/dev/null | head -1 || echo '?'; }
deb() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo 'not installed'; }
elapsed=$(( $(date +%s) - STARTED ))
missing_json=$(for k in "${!MISSING[@]}"; do printf '%s\t%s\n' "$k" "${MISSING[$k]}"; done |
    "$PY" -c 'import json, sys; print(json.dumps(dict(l.rstrip("\n").split("\t", 1) for l in sys.stdin if l.strip())))')
M_DATE=$(date -u '+%Y-%m-%d %H:%M UTC') \
M_COMMAND=$CMDLINE \
M_ELAPSED="whole run $((elapsed / 60)) min $((elapsed % 60)) s, builds and installs included" \
M_MACHINE="$(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r), Debian $(cat /etc/debian_version); load average (1/5/15 min) at the end $(cut -d' ' -f1-3 /proc/loadavg); vaults in $(df --output=fstype "$WORK" | tail -1) ($WORK), text stream in $(df --output=fstype "$STREAM_DIR" | tail -1)" \
M_TOOLS="secretctl $(ver "$BIN" --version | awk '{print $NF}') (tree $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- crates 2>/dev/null || echo ' + uncommitted changes')), $RUSTC_VERSION; keepassxc-cli $(ver keepassxc-cli --version) (Debian $(deb keepassxc)); pass $(deb pass) with $(ver gpg --version); fnox $( [ -n "$FNOX" ] && ver "$FNOX" --version | awk '{print $NF}' || echo 'not installed') (cargo install --locked, age provider) with age $(deb age); argon2 $(deb argon2); $(ver hyperfine --version); pykeepass $("$PY" -c 'import pykeepass; print(pykeepass.__version__)' 2>/dev/null || echo '?'); Python MCP SDK $("$PY" -c 'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null || echo '?')" \
M_DATA="one secret $KEY (32 characters) for rows 1-3; 100 secrets of 24-40 characters for row 4; $N secrets bench/k00000...bench/k09999 with 32-character values for rows 5-6, the same names and values in the .env and the KeePass XML. KDF: $KDF_SECRETCTL; keepassxc-cli show: ${KDF_KDBX:-n/a} (db-info: ${KDF_KDBX_CLI:-n/a}); keepassxc-cli ls: ${KDF_BIG:-n/a}. Password for both: 26 characters." \
M_RUNS="cold $COLD_RUNS (2 warm-ups), warm $WARM_RUNS (3 warm-ups), stream $STREAM_RUNS, import $IMPORT_RUNS, list cold $LIST_RUNS (1 warm-up), MCP $MCP_ROUNDS rounds" \
M_STREAM_MIB=$MB M_STREAM_SECRETS=100 M_SECRETS=$N M_KDF_IMPORT="$KDF_IMPORT" M_MISSING="$missing_json" \
    "$PY" - "$OUT/meta.json" <<'PY'
import json, os, sys
e = os.environ
json.dump({
    "date": e["M_DATE"], "command": e["M_COMMAND"], "elapsed": e["M_ELAPSED"],
    "machine": e["M_MACHINE"], "tools": e["M_TOOLS"], "data": e["M_DATA"], "runs": e["M_RUNS"],
    "stream_mib": int(e["M_STREAM_MIB"]), "stream_secrets": int(e["M_STREAM_SECRETS"]),
    "secrets": int(e["M_SECRETS"]), "kdf_import": e["M_KDF_IMPORT"] or "n/a",
    "missing": json.loads(e["M_MISSING"] or "{}"),
}, open(sys.argv[1], "w"), indent=1)
PY
DOCS=$ROOT/docs/benchmarks.md
if [ "${WRITE_DOCS:-1}" = 0 ]; then DOCS=$WORK/benchmarks.md; cp "$ROOT/docs/benchmarks.md" "$DOCS"; fi
echo
"$PY" bench/compare.py report "$OUT" "$DOCS" | tee "$OUT/summary.md"
[ "${WRITE_DOCS:-1}" = 0 ] || echo -e "\n(written into docs/benchmarks.md; raw JSON in $OUT)" >&2
