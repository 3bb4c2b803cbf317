// Mints the walk-through's example tokens (EdDSA) with a fresh key, writes jwks.json (the
// public key) and tokens/*.jwt. The private key is never written. Run: node mint-tokens.mjs
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";

const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const kid = "hospital-idp-2026";
const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" };
writeFileSync("jwks.json", JSON.stringify({ keys: [jwk] }, null, 2) + "\n");

const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
const base = {
  iss: "https://idp.stmarys.example",
  aud: "crm-api",
  iat: 1764400000,
  exp: 1764403600,
  tenant: "stmarys",
};
const tokens = {
  treating: { sub: "dr-chen", roles: ["clinician"], care_relationships: [{ patient: "pat-17", until: 1767000000 }] },
  "other-clinician": { sub: "dr-okafor", roles: ["clinician"], care_relationships: [{ patient: "pat-99", until: 1767000000 }] },
  "break-glass": { sub: "dr-okafor", roles: ["clinician"], break_glass: true },
  "front-desk": { sub: "sam", roles: ["front_desk"] },
};
mkdirSync("tokens", { recursive: true });
for (const [name, claims] of Object.entries(tokens)) {
  const input = `${b64({ alg: "EdDSA", typ: "JWT", kid })}.${b64({ ...base, ...claims })}`;
  const sig = sign(null, Buffer.from(input), privateKey).toString("base64url");
  writeFileSync(`tokens/${name}.jwt`, `${input}.${sig}\n`);
}
