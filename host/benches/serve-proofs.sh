#!/usr/bin/env bash
# Audit proofs from a running service on a large log, against building the same proof from the
# whole log with the CLI. Fills the log with 15 s of wrk on /v1/decide (about 100 000 records),
# signs a checkpoint, times inclusion proofs over HTTP for records early, middle and late,
# stops the service, then times `crmguard audit prove` on the same log.
# Usage: host/benches/serve-proofs.sh [path/to/release/crmguard]. Needs wrk, curl, python3,
# /usr/bin/time and the components (`cargo xtask components`).
set -euo pipefail
source "$(dirname "$0")/serve-data.sh" "$@"
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
