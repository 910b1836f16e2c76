#!/usr/bin/env bash
# MCP figures (docs/benchmarks.md), in one command, through the official Python MCP SDK:
#
#   bench/mcp.sh
#
# 1. installs the `mcp` Python package when missing and builds the release binary once;
# 2. makes a vault with 10,000 secrets (imported from a generated .env file), unlocks the
#    session agent, and approves a policy that lets `/usr/bin/true` receive them;
# 3. runs bench/mcp_client_bench.py, which times, with medians over ROUNDS (default 30):
#    - spawning `secretctl mcp-server` + `initialize` + `tools/list`,
#    - `secret_list` over the 10,000 secrets,
#    - `secret_run keys=[one key] command=/usr/bin/true` against running /usr/bin/true directly
#      from the same Python process, and reports the overhead (goal < 10 ms).
# No timing is asserted anywhere.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '\n== %s\n' "$*" >&2; }

python3 -c 'import mcp' 2>/dev/null || {
    say "installing the mcp Python package"
    python3 -m pip install --quiet mcp 2>/dev/null || python3 -m pip install --quiet --break-system-packages mcp
}

say "building release (once)"
cargo build --release -p secretctl >&2
BIN=$ROOT/target/release/secretctl

WORK=$(mktemp -d "${TMPDIR:-/tmp}/secretctl-mcp-bench.XXXXXX")
V=$WORK/vault
trap '"$BIN" --vault-dir "$V" lock >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export SECRETCTL_PASSWORD_FILE=$WORK/pw
printf 'bench password, not secret\n' > "$SECRETCTL_PASSWORD_FILE"
chmod 600 "$SECRETCTL_PASSWORD_FILE"
unset SECRETCTL_PASSWORD

say "vault with 10,000 secrets"
"$BIN" --vault-dir "$V" init >/dev/null
python3 - "$WORK/secrets.env" <<'PY'
import secrets, sys
with open(sys.argv[1], "w") as f:
    for i in range(10000):
        f.write(f"bench/k{i:05d}={secrets.token_urlsafe(24)}\n")
PY
"$BIN" --vault-dir "$V" import "$WORK/secrets.env" >/dev/null
rm -f "$WORK/secrets.env"
cat > "$V/mcp-policy.yaml" <<'YAML'
version: 2
default_action: deny
commands:
  - name: /usr/bin/true
    keys: ["bench/*"]
YAML
chmod 600 "$V/mcp-policy.yaml"
"$BIN" --vault-dir "$V" policy approve --yes >/dev/null
"$BIN" --vault-dir "$V" unlock >/dev/null

say "measuring through the Python MCP client"
# The server gets no password source: it reaches the vault through the agent.
env -u SECRETCTL_PASSWORD_FILE python3 "$ROOT/bench/mcp_client_bench.py" "$BIN" "$V" "${ROUNDS:-30}"
