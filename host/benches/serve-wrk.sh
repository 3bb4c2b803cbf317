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
source "$(dirname "$0")/serve-data.sh" "$@"
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
echo "== POST /v1/decide, the reference plugin (a fresh sandboxed instance of its pre-initialised image per request; the host's core opens the fields it shows)"
wrk -t2 -c16 -d10s --latency -s "$dir/decide.lua" "http://$addr/v1/decide"
stop
"$bin" audit verify --log "$dir/audit/decisions.jsonl" --public-key "$dir/audit/signing.pub"
