// Independent check of tests/vectors/hpke-sealed.json with nothing but node:crypto, following
// docs/FORMAT.md section 7 and RFC 9180 (base mode; DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// AES-256-GCM): derives the tenant and every ephemeral key pair from the published seeds,
// re-seals every valid vector byte for byte, opens it, and confirms invalid ones do not open.
//
//   node tests/vectors/check-hpke-sealed.mjs tests/vectors/hpke-sealed.json
import { readFileSync } from 'node:fs';
import { createHmac, createPrivateKey, createPublicKey, diffieHellman, createCipheriv, createDecipheriv } from 'node:crypto';
import assert from 'node:assert/strict';

const doc = JSON.parse(readFileSync(process.argv[2] ?? new URL('./hpke-sealed.json', import.meta.url), 'utf8'));
const b = (s) => Buffer.from(s, 'utf8');
const i2osp = (n, len) => { const out = Buffer.alloc(len); out.writeUIntBE(n, 0, len); return out; };
const lp = (x) => Buffer.concat([i2osp(x.length, 4), x]);
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

const KEM_ID = Buffer.concat([b('KEM'), i2osp(0x0020, 2)]);
const HPKE_ID = Buffer.concat([b('HPKE'), i2osp(0x0020, 2), i2osp(0x0001, 2), i2osp(0x0002, 2)]);
const extract = (suite, salt, label, ikm) => hmac(salt, Buffer.concat([b('HPKE-v1'), suite, b(label), ikm]));
function expand(suite, prk, label, info, len) {
  const labeled = Buffer.concat([i2osp(len, 2), b('HPKE-v1'), suite, b(label), info]);
  assert.ok(len <= 32);
  return hmac(prk, Buffer.concat([labeled, Buffer.from([1])])).subarray(0, len);
}

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const privateKey = (sk) => createPrivateKey({ key: Buffer.concat([PKCS8_X25519, sk]), format: 'der', type: 'pkcs8' });
const publicKey = (pk) => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: pk.toString('base64url') }, format: 'jwk' });
const publicOf = (sk) => Buffer.from(createPublicKey(privateKey(sk)).export({ format: 'jwk' }).x, 'base64url');

function deriveKeyPair(ikm) {
  const prk = extract(KEM_ID, Buffer.alloc(0), 'dkp_prk', ikm);
  // RFC 9180 7.1.2: SerializePrivateKey clamps X25519 keys (the scalar used is the same).
  const sk = Buffer.from(expand(KEM_ID, prk, 'sk', Buffer.alloc(0), 32));
  sk[0] &= 248;
  sk[31] = (sk[31] & 127) | 64;
  return { sk, pk: publicOf(sk) };
}

function keySchedule(dh, enc, pkR, info) {
  const eae = extract(KEM_ID, Buffer.alloc(0), 'eae_prk', dh);
  const shared = expand(KEM_ID, eae, 'shared_secret', Buffer.concat([enc, pkR]), 32);
  const ctx = Buffer.concat([
    Buffer.from([0]),
    extract(HPKE_ID, Buffer.alloc(0), 'psk_id_hash', Buffer.alloc(0)),
    extract(HPKE_ID, Buffer.alloc(0), 'info_hash', info),
  ]);
  const secret = extract(HPKE_ID, shared, 'secret', Buffer.alloc(0));
  return { key: expand(HPKE_ID, secret, 'key', ctx, 32), nonce: expand(HPKE_ID, secret, 'base_nonce', ctx, 12) };
}

const infoFor = (header, v) => Buffer.concat([lp(b('crmguard/tenant-sealed/v1')), header, ...[v.tenant, v.object, v.record, v.field].map((s) => lp(b(s)))]);

function open(skR, pkR, v) {
  if (!v.sealed.startsWith('cgh1:')) throw new Error('ERR_TENANT_SEALED_MALFORMED');
  const b64 = v.sealed.slice(5);
  const raw = Buffer.from(b64, 'base64url');
  if (raw.toString('base64url') !== b64) throw new Error('ERR_TENANT_SEALED_MALFORMED');
  if (raw.length < 51) throw new Error('ERR_TENANT_SEALED_MALFORMED');
  if (raw[0] !== 1 || raw[1] !== 1 || raw[2] > 1) throw new Error('ERR_TENANT_SEALED_UNSUPPORTED');
  const header = raw.subarray(0, 3), enc = raw.subarray(3, 35), body = raw.subarray(35);
  const dh = diffieHellman({ privateKey: privateKey(skR), publicKey: publicKey(enc) });
  const { key, nonce } = keySchedule(dh, enc, pkR, infoFor(header, v));
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(Buffer.alloc(0));
  d.setAuthTag(body.subarray(body.length - 16));
  try {
    return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
  } catch {
    throw new Error('ERR_TENANT_SEALED_AUTH');
  }
}

const tenant = deriveKeyPair(Buffer.from(doc.tenant_seed_hex, 'hex'));
assert.equal(tenant.sk.toString('hex'), doc.tenant_secret_key_hex, 'tenant private key from its seed');
assert.equal(tenant.pk.toString('hex'), doc.tenant_public_key_hex, 'tenant public key from its seed');

let valid = 0;
for (const v of doc.vectors) {
  const eph = deriveKeyPair(Buffer.from(v.ephemeral_seed_hex, 'hex'));
  const header = Buffer.from([1, 1, v.content_type === 'json' ? 1 : 0]);
  const dh = diffieHellman({ privateKey: privateKey(eph.sk), publicKey: publicKey(tenant.pk) });
  const { key, nonce } = keySchedule(dh, eph.pk, tenant.pk, infoFor(header, v));
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.alloc(0));
  const ct = Buffer.concat([c.update(Buffer.from(v.plaintext_hex, 'hex')), c.final(), c.getAuthTag()]);
  assert.equal('cgh1:' + Buffer.concat([header, eph.pk, ct]).toString('base64url'), v.sealed, `vector ${v.id}: re-sealed bytes`);
  assert.equal(open(tenant.sk, tenant.pk, v).toString('hex'), v.plaintext_hex, `vector ${v.id}: opens`);
  valid += 1;
}
let invalid = 0;
for (const v of doc.invalid) {
  assert.throws(() => open(tenant.sk, tenant.pk, v), (e) => e.message === v.error, `invalid vector ${v.id} (${v.comment})`);
  invalid += 1;
}
assert.equal(valid, 7);
assert.equal(invalid, 11);
console.log(`hpke-sealed.json: ${valid} valid vectors re-sealed byte for byte and opened, ${invalid} invalid rejected with their codes (node:crypto only)`);
