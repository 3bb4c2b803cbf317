#!/usr/bin/env bash
# Read-path throughput and latency of `crmguard serve` under wrk, side by side in one run with
# the HTTP floor (/healthz) and with the same decision made in process by crmguard-core
# (criterion, crates/core/benches/pipeline.rs). The record is a 30-field contact with four
# sealed fields; it is decided by examples/policy.json natively, then by the reference plugin
# (the same policy in its sandbox, the crypto component opening the fields).
# Usage: host/benches/serve-wrk.sh [path/to/release/crmguard] (default: builds it).
# Needs wrk (Debian: apt-get install wrk), python3 (to sign the test token), and the
# components (`cargo xtask components`).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
bin=${1:-}
if [ -z "$bin" ]; then
    cargo build --release --locked -p crmguard-host --bin crmguard
    bin=target/release/crmguard
fi
bin=$(realpath "$bin")
components=${CRMGUARD_COMPONENTS:-$repo/target/wasm32-wasip2/component}
for c in crmguard_component_crypto.wasm crmguard_plugin_reference.wasm; do
    [ -f "$components/$c" ] || { echo "$components/$c is missing: run cargo xtask components" >&2; exit 1; }
done
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
export CRMGUARD_MASTER_KEY=ERERERERERERERERERERERERERERERERERERERERERE=
mkdir -p "$dir/keyrings" "$dir/audit"
(cd "$dir" && "$bin" keys new --out keyrings/acme.json >/dev/null \
    && "$bin" keys new-signing --out audit/signing.key --public-out audit/signing.pub >/dev/null \
    && "$bin" plugin add "$components/crmguard_component_crypto.wasm" --name crypto --world crypto >/dev/null \
    && "$bin" plugin add "$components/crmguard_plugin_reference.wasm" --name reference >/dev/null)
cp examples/policy.json "$dir/policy.json"
seal() {
    printf '%s' "$2" | (cd "$dir" && "$bin" seal --keyring keyrings/acme.json \
        --tenant acme --object contact --record 0042 --field "$1")
}
name=$(seal name 'Ada Lovelace'); email=$(seal email ada@example.com)
phone=$(seal phone '+44 20 7946 0958'); nid=$(seal national_id 078-05-1120)
read -r jwks token < <(python3 - <<'PY'
import base64, hashlib, hmac, json, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
secret = bytes([0x42]) * 64
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"iss": "https://idp.test", "aud": "crm-api", "sub": "user-1",
    "tenant": "acme", "roles": ["sales_rep"], "exp": int(time.time()) + 3600}).encode())
sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
print(json.dumps({"keys": [{"kty": "oct", "k": b64(secret), "alg": "HS256"}]}, separators=(",", ":")),
      f"{head}.{body}.{sig}")
PY
)
echo "$jwks" > "$dir/jwks.json"
# The policy's eight contact fields (four sealed) and 22 custom fields it does not list.
body=$(python3 - "$name" "$email" "$phone" "$nid" <<'PY'
import json, sys
name, email, phone, nid = sys.argv[1:]
r = {"id": "0042", "tenant_id": "acme", "lifecycle_stage": "customer", "owner_id": "user-7",
     "name": name, "email": email, "phone": phone, "national_id": nid}
r.update({f"custom_{i}": f"value {i}" for i in range(1, 23)})
assert len(r) == 30
print(json.dumps({"object": "contact", "record_id": "0042", "record": r}, separators=(",", ":")))
PY
)
cat > "$dir/decide.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '$body'
LUA

start() {
    "$bin" serve --data "$dir" --listen 127.0.0.1:0 > "$dir/out" 2>"$dir/err" &
    pid=$!
    for _ in $(seq 100); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
    addr=$(sed -n 's|.*listening on http://||p' "$dir/out")
    # One decision first: it must be an allow with the e-mail opened and masked.
    curl -s -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        --data "$body" "http://$addr/v1/decide" > "$dir/first.json"
    python3 - "$dir/first.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"]["effect"] == "allow", d
assert d["record"]["email"] == "****@example.com", d
PY
}
stop() {
    curl -s "http://$addr/metrics" | grep -E '^crmguard_(audit_records_total|audit_commit_seconds_(count|sum)|decisions_total)'
    kill -TERM "$pid"; wait "$pid" || true
    pid=
}

echo "== in process: crmguard-core's pipeline, one thread (criterion)"
cargo bench --locked -p crmguard-core --bench pipeline -- --warm-up-time 1 --measurement-time 5 2>&1 \
    | grep -E '^pipeline|time:|thrpt:'

printf '[tokens]\nissuers = ["https://idp.test"]\naudiences = ["crm-api"]\n' > "$dir/crmguard.toml"
start
echo "== h2c: HTTP version answered to a prior-knowledge HTTP/2 client: $(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version}' "http://$addr/healthz")"
echo "== /healthz (the HTTP floor)"
wrk -t2 -c16 -d10s --latency "http://$addr/healthz"
echo "== POST /v1/decide, native policy (token, tenant, policy, 4 sealed fields opened and masked, 30 fields, durable audit)"
wrk -t2 -c16 -d10s --latency -s "$dir/decide.lua" "http://$addr/v1/decide"
# Group commit makes as many decisions durable per fdatasync as are waiting: with more
# requests in flight, more share each commit.
echo "== the same, 64 connections"
wrk -t2 -c64 -d10s --latency -s "$dir/decide.lua" "http://$addr/v1/decide"
stop

printf '[objects.contact]\nplugin = "reference"\n' >> "$dir/crmguard.toml"
start
echo "== POST /v1/decide, the reference plugin (a fresh sandboxed instance per request, the crypto component opening the fields)"
wrk -t2 -c16 -d10s --latency -s "$dir/decide.lua" "http://$addr/v1/decide"
stop
"$bin" audit verify --log "$dir/audit/decisions.jsonl" --public-key "$dir/audit/signing.pub"
