#!/usr/bin/env bash
# Throughput and latency of `crmguard serve` under wrk, with the HTTP floor (/healthz) in the
# same run. Usage: host/benches/serve-wrk.sh [path/to/release/crmguard] (default: builds it).
# Needs wrk (Debian: apt-get install wrk) and python3 (to sign the test token).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-}
if [ -z "$bin" ]; then
    cargo build --release --locked -p crmguard-host --bin crmguard
    bin=target/release/crmguard
fi
bin=$(realpath "$bin")
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
export CRMGUARD_MASTER_KEY=ERERERERERERERERERERERERERERERERERERERERERE=
mkdir -p "$dir/keyrings" "$dir/audit"
(cd "$dir" && "$bin" keys new --out keyrings/acme.json >/dev/null \
    && "$bin" keys new-signing --out audit/signing.key --public-out audit/signing.pub >/dev/null)
cp examples/policy.json "$dir/policy.json"
printf '[tokens]\nissuers = ["https://idp.test"]\naudiences = ["crm-api"]\n' > "$dir/crmguard.toml"
email=$(printf 'ada@example.com' | (cd "$dir" && "$bin" seal --keyring keyrings/acme.json \
    --tenant acme --object contact --record 0042 --field email))
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
body=$(printf '{"object":"contact","record_id":"0042","record":{"id":"0042","tenant_id":"acme","name":"Ada Lovelace","email":"%s","phone":"+44 20 7946 0958","national_id":"078-05-1120","lifecycle_stage":"customer"}}' "$email")
cat > "$dir/decide.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '$body'
LUA
"$bin" serve --data "$dir" --listen 127.0.0.1:0 > "$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 50); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's|.*listening on http://||p' "$dir/out")
echo "== h2c: HTTP version answered to a prior-knowledge HTTP/2 client: $(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version}' "http://$addr/healthz")"
echo "== /healthz (the HTTP floor)"
wrk -t2 -c16 -d10s --latency "http://$addr/healthz"
echo "== POST /v1/decide (token, tenant, policy, one sealed field opened and masked, durable audit)"
wrk -t2 -c16 -d10s --latency -s "$dir/decide.lua" "http://$addr/v1/decide"
curl -s "http://$addr/metrics" | grep -E '^crmguard_(audit_records_total|audit_commit_seconds_(count|sum)|decisions_total)'
kill -TERM "$pid"; wait "$pid" || true
"$bin" audit verify --log "$dir/audit/decisions.jsonl" --public-key "$dir/audit/signing.pub"
