#!/usr/bin/env bash
# Audit proofs from a running service on a large log, against building the same proof from the
# whole log with the CLI. Fills the log with 15 s of wrk on /v1/decide (about 100 000 records),
# signs a checkpoint, times inclusion proofs over HTTP for records early, middle and late,
# stops the service, then times `crmguard audit prove` on the same log.
# Usage: host/benches/serve-proofs.sh [path/to/release/crmguard]. Needs wrk, curl, python3,
# /usr/bin/time and the components (`cargo xtask components`).
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
body=$(python3 - "$name" "$email" "$phone" "$nid" <<'PY'
import json, sys
name, email, phone, nid = sys.argv[1:]
r = {"id": "0042", "tenant_id": "acme", "name": name, "email": email, "phone": phone, "national_id": nid}
print(json.dumps({"object": "contact", "record_id": "0042", "record": r}, separators=(",", ":")))
PY
)
cat > "$dir/decide.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '$body'
LUA
printf '[tokens]\nissuers = ["https://idp.test"]\naudiences = ["crm-api"]\n[audit]\nreaders = ["sales_rep"]\n[log]\naccess = false\n' > "$dir/crmguard.toml"
"$bin" serve --data "$dir" --listen 127.0.0.1:0 > "$dir/out" 2>"$dir/err" &
pid=$!
for _ in $(seq 100); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's|.*listening on http://||p' "$dir/out")
wrk -t2 -c16 -d15s -s "$dir/decide.lua" "http://$addr/v1/decide" | grep Requests/sec
curl -s -X POST -H "Authorization: Bearer $token" "http://$addr/v1/audit/checkpoint" | head -c 120; echo
for seq in 5 30000 60000; do
  for i in 1 2 3; do
    curl -s -o "$dir/p.json" -w "inclusion seq=$seq over HTTP: %{http_code} %{time_total}s\n" -H "Authorization: Bearer $token" "http://$addr/v1/audit/proofs/inclusion?seq=$seq"
  done
done
kill -TERM "$pid"; wait "$pid" || true; pid=
ls -la "$dir/audit/decisions.jsonl" | awk '{print "log bytes:", $5}'
/usr/bin/time -f "crmguard audit prove --seq 30000 (whole log): %e s, %M KB" "$bin" audit prove --log "$dir/audit/decisions.jsonl" --public-key "$dir/audit/signing.pub" --seq 30000 > "$dir/cli.json"
"$bin" audit verify-proof --proof "$dir/p.json" --public-key "$dir/audit/signing.pub"
