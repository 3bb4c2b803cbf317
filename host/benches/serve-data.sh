# Sourced by the serve benchmarks (serve-wrk.sh, serve-proofs.sh) with the script's
# arguments: the release crmguard (built if none is given) as $bin; a data folder $dir
# (removed on exit, and the service $pid stopped) with tenant acme's keyring, the audit
# signing key, the crypto component and the reference plugin, examples/policy.json and the
# test IdP's HS256 key set; $name, $email, $phone, $nid sealed for contact 0042; $token, a
# sales rep's bearer token; seal FIELD VALUE.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
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
