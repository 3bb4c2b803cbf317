// Opens every vector in sealed-fields.json with nothing but Node's own crypto, following
// docs/FORMAT.md: proof that the format is specified well enough to implement elsewhere.
// Usage: node tests/vectors/check-sealed-fields.mjs tests/vectors/sealed-fields.json
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

const doc = JSON.parse(readFileSync(process.argv[2] ?? new URL('./sealed-fields.json', import.meta.url), 'utf8'));

const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const lp = (buf) => Buffer.concat([u32(buf.length), buf]);
const utf8 = (s) => Buffer.from(s, 'utf8');

function aesBlock(key, block) {
  const c = createCipheriv('aes-256-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

// XAES-256-GCM (C2SP): derive the per-message key from the first 12 nonce bytes.
function xaesDerive(key, nonce) {
  const L = aesBlock(key, Buffer.alloc(16));
  const k1 = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) k1[i] = ((L[i] << 1) | (i < 15 ? L[i + 1] >> 7 : 0)) & 0xff;
  if (L[0] & 0x80) k1[15] ^= 0x87;
  const half = (counter) => {
    const m = Buffer.concat([Buffer.from([0x00, counter, 0x58, 0x00]), nonce.subarray(0, 12)]);
    for (let i = 0; i < 16; i++) m[i] ^= k1[i];
    return aesBlock(key, m);
  };
  return Buffer.concat([half(1), half(2)]);
}

function parse(text) {
  if (!text.startsWith('cg1:')) throw new Error('ERR_SEALED_FIELD_MALFORMED');
  const b64 = text.slice(4);
  if (!/^[A-Za-z0-9_-]*$/.test(b64)) throw new Error('ERR_SEALED_FIELD_MALFORMED');
  const bin = Buffer.from(b64, 'base64url');
  if (bin.toString('base64url') !== b64) throw new Error('ERR_SEALED_FIELD_MALFORMED');
  if (bin.length === 0) throw new Error('ERR_SEALED_FIELD_MALFORMED');
  if (bin[0] !== 0x01) throw new Error('ERR_SEALED_FIELD_UNSUPPORTED');
  if (bin.length < 47) throw new Error('ERR_SEALED_FIELD_MALFORMED');
  return bin;
}

function aad(header, v) {
  const subject = header[1] === 0x02 ? (v.subject ?? '') : '';
  return Buffer.concat([lp(utf8('crmguard/sealed-field/v1')), header,
    ...[v.tenant, v.object, v.record, v.field, subject].map((s) => lp(utf8(s)))]);
}

function open(v) {
  const bin = parse(v.sealed);
  const header = bin.subarray(0, 7);
  const scope = header[1] === 0x02 ? 'subject' : 'keyring';
  if (scope === 'subject' && v.subject == null) throw new Error('ERR_SUBJECT_REQUIRED');
  if (scope !== v.scope || header.readUInt32BE(3) !== v.key_id) throw new Error('ERR_KEY_NOT_FOUND');
  const nonce = bin.subarray(7, 31);
  const ct = bin.subarray(31, bin.length - 16);
  const tag = bin.subarray(bin.length - 16);
  const d = createDecipheriv('aes-256-gcm', xaesDerive(Buffer.from(v.key_hex, 'hex'), nonce), nonce.subarray(12));
  d.setAAD(aad(header, v));
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(ct), d.final()]);
  } catch {
    throw new Error('ERR_SEALED_FIELD_AUTH');
  }
}

function seal(v) {
  const contentByte = v.content_type === 'json' ? 0x01 : 0x00;
  const header = Buffer.concat([Buffer.from([0x01, v.scope === 'subject' ? 0x02 : 0x01, contentByte]), u32(v.key_id)]);
  const nonce = Buffer.from(v.nonce_hex, 'hex');
  const c = createCipheriv('aes-256-gcm', xaesDerive(Buffer.from(v.key_hex, 'hex'), nonce), nonce.subarray(12));
  c.setAAD(aad(header, v));
  const ct = Buffer.concat([c.update(Buffer.from(v.plaintext_hex, 'hex')), c.final()]);
  return 'cg1:' + Buffer.concat([header, nonce, ct, c.getAuthTag()]).toString('base64url');
}

function blindIndex(v) {
  let s = v.value;
  for (const n of v.normalize) {
    if (n === 'trim') s = s.trim();
    else if (n === 'lowercase') s = s.toLowerCase();
    else if (n === 'email') s = s.trim().toLowerCase();
    else if (n === 'phone') s = s.replace(/[^0-9]/g, '');
  }
  const info = Buffer.concat([v.tenant, v.object, v.field].map((x) => lp(utf8(x))));
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(v.blind_index_root_hex, 'hex'), utf8('crmguard/blind-index/v1'), info, 32));
  const mac = createHmac('sha256', key).update(utf8(s)).digest();
  const out = mac.subarray(0, Math.ceil(v.bits / 8));
  if (v.bits % 8) out[out.length - 1] &= (0xff << (8 - (v.bits % 8))) & 0xff;
  return out.toString('hex');
}

let passed = 0;
let failed = 0;
const check = (name, ok) => { if (ok) passed++; else { failed++; console.error(`FAIL ${name}`); } };

for (const v of doc.vectors) {
  let opened;
  try { opened = open(v).toString('hex'); } catch (e) { opened = e.message; }
  check(`vector ${v.id} opens (${v.comment})`, opened === v.plaintext_hex);
  check(`vector ${v.id} reseals byte-identically`, seal(v) === v.sealed);
}
for (const v of doc.invalid) {
  let err = 'opened';
  try { open(v); } catch (e) { err = e.message; }
  // Node does not model a whole keyring, so "key not found" and "auth" may coincide here;
  // what matters is that nothing invalid opens.
  check(`invalid ${v.id} is refused (${v.comment})`, err !== 'opened');
}
for (const [i, v] of doc.blind_indexes.entries()) {
  check(`blind index ${i + 1}`, blindIndex(v) === v.index);
}
const expected = doc.vectors.length * 2 + doc.invalid.length + doc.blind_indexes.length;
if (expected !== 22 * 2 + 10 + 7) { console.error(`unexpected vector counts: ${expected}`); failed++; }
console.log(`node:crypto conformance: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed === expected ? 0 : 1);
