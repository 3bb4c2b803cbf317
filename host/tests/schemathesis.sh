#!/usr/bin/env bash
# Property-based API testing of `crmguard serve` against its own OpenAPI document, with
# schemathesis (PyPI): every operation, generated valid and invalid requests, all checks
# (no 5xx, status codes, content types and response schemas as documented, schema-valid
# requests accepted, schema-violating ones rejected). Run by `cargo xtask test`:
#   host/tests/schemathesis.sh CRMGUARD_BIN ST_BIN [extra st run options]
# A data folder with one tenant, a tenant key, a record schema and audit roles is made in a
# temporary folder; the service is started on a free loopback port and stopped afterwards.
set -euo pipefail
bin=$(realpath "$1"); st=$(realpath "$2"); shift 2
repo=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
export CRMGUARD_MASTER_KEY=ERERERERERERERERERERERERERERERERERERERERERE=
mkdir -p "$dir/keyrings" "$dir/audit" "$dir/schemas" "$dir/tenant-keys"
(cd "$dir" && "$bin" keys new --out keyrings/acme.json >/dev/null \
  && "$bin" keys new-signing --out audit/signing.key --public-out audit/signing.pub >/dev/null \
  && "$bin" tenant-key new --out tenant-keys/acme.key --public-out tenant-keys/acme.pub >/dev/null)
cp "$repo/examples/policy.json" "$dir/policy.json"
cat > "$dir/schemas/contact.json" <<'JSON'
{"object":"contact","record_id":"id","fields":{"id":{"action":"clear"},"tenant_id":{"action":"clear"},"name":{"action":"encrypt"},"email":{"action":"blind-index","blind_index":{"normalize":["email"]}},"national_id":{"action":"encrypt"}}}
JSON
printf '[tokens]\nissuers = ["https://idp.test"]\naudiences = ["crm-api"]\n[audit]\nreaders = ["sales_rep"]\nwriters = ["sales_rep"]\n[subjects]\nerasers = ["sales_rep"]\n' > "$dir/crmguard.toml"
# The test IdP's HS256 key (tests/src/idp.rs) and a token for a sales rep who may write.
read -r jwks token < <(python3 - <<'PY'
import base64, hashlib, hmac, json, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
secret = bytes([0x42]) * 64
head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b64(json.dumps({"iss": "https://idp.test", "aud": "crm-api", "sub": "user-1",
    "tenant": "acme", "roles": ["sales_rep"], "scope": "crm.write",
    "exp": int(time.time()) + 3600}).encode())
sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
print(json.dumps({"keys": [{"kty": "oct", "k": b64(secret), "alg": "HS256"}]}, separators=(",", ":")),
      f"{head}.{body}.{sig}")
PY
)
echo "$jwks" > "$dir/jwks.json"
"$bin" serve --data "$dir" --listen 127.0.0.1:0 > "$dir/out" 2> "$dir/err" &
pid=$!
for _ in $(seq 200); do grep -q listening "$dir/out" 2>/dev/null && break; sleep 0.05; done
addr=$(sed -n 's|.*listening on http://||p' "$dir/out")
[ -n "$addr" ] || { cat "$dir/err"; exit 1; }
set +e
# From the temporary folder: schemathesis keeps its cache and reports in the working folder.
(cd "$dir" && "$st" run "http://$addr/openapi.json" -H "Authorization: Bearer $token" \
  --checks all --workers 1 --no-color "$@") | tee "$dir/report"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || { echo "schemathesis found failures (exit $rc)"; exit 1; }
# Count what ran: every operation of the document tested, and a real number of cases.
ops=$(sed -n 's/^ *Operations: *\([0-9]*\) selected \/ \([0-9]*\) total.*/\1 \2/p' "$dir/report")
read -r selected total <<< "$ops"
generated=$(sed -n 's/^ *\([0-9]*\) generated, \([0-9]*\) passed.*/\1/p' "$dir/report")
[ "$selected" = "$total" ] && [ "$total" -ge 13 ] \
  || { echo "schemathesis tested $selected of $total operations"; exit 1; }
[ "${generated:-0}" -ge 500 ] || { echo "only ${generated:-0} cases generated"; exit 1; }
kill -TERM "$pid"; wait "$pid" || true; pid=
"$bin" audit verify --log "$dir/audit/decisions.jsonl" --public-key "$dir/audit/signing.pub"
echo "schemathesis: $total operations, $generated cases, no failures; the audit log verifies"
