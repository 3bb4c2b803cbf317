// Sealing 64 B and 4 KiB values: the package (XAES-256-GCM in wasm) vs WebCrypto
// `crypto.subtle` implementing the same sealed-field format (docs/FORMAT.md §1-2).
// WebCrypto has no raw AES block (ECB) operation: each XAES derivation block is AES-CBC over
// one block with a zero IV (the first output block is AES_K(block)). Before timing, the
// WebCrypto implementation must reproduce every keyring-scope published vector byte for byte.
//
//   node bench/seal.mjs            (after `cargo xtask test` built the package)
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { Keyring } from 'crmguard';

const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();
const lp = (bytes) => {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
};
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};

/** An XAES-256-GCM sealer for one keyring key, WebCrypto only. */
async function webCryptoSealer(keyBytes, keyId) {
  const cbc = await subtle.importKey('raw', keyBytes, 'AES-CBC', false, ['encrypt']);
  const aesBlock = async (block) =>
    new Uint8Array(await subtle.encrypt({ name: 'AES-CBC', iv: new Uint8Array(16) }, cbc, block)).subarray(0, 16);
  const L = await aesBlock(new Uint8Array(16));
  const k1 = new Uint8Array(16);
  for (let i = 0; i < 16; i++) k1[i] = ((L[i] << 1) | (i < 15 ? L[i + 1] >> 7 : 0)) & 0xff;
  if (L[0] & 0x80) k1[15] ^= 0x87;
  const header = new Uint8Array([1, 1, 0, 0, 0, 0, 0]);
  new DataView(header.buffer).setUint32(3, keyId);
  return async function seal(ctx, plaintext, nonce = crypto.getRandomValues(new Uint8Array(24))) {
    const m = (c) => {
      const b = concat(new Uint8Array([0, c, 0x58, 0]), nonce.subarray(0, 12));
      for (let i = 0; i < 16; i++) b[i] ^= k1[i];
      return b;
    };
    const [a, b] = await Promise.all([aesBlock(m(1)), aesBlock(m(2))]);
    const gcm = await subtle.importKey('raw', concat(a, b), 'AES-GCM', false, ['encrypt']);
    const aad = concat(
      lp(enc.encode('crmguard/sealed-field/v1')), header,
      ...[ctx.tenant, ctx.object, ctx.record, ctx.field, ''].map((s) => lp(enc.encode(s))),
    );
    const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce.subarray(12), additionalData: aad }, gcm, plaintext));
    return 'cg1:' + Buffer.from(concat(header, nonce, ct)).toString('base64url');
  };
}

// Byte equality with every keyring-scope bytes-content vector.
const doc = JSON.parse(readFileSync(new URL('../../tests/vectors/sealed-fields.json', import.meta.url)));
let checked = 0;
for (const v of doc.vectors.filter((v) => v.scope === 'keyring' && v.content_type === 'bytes')) {
  const seal = await webCryptoSealer(Buffer.from(v.key_hex, 'hex'), v.key_id);
  const got = await seal(v, Buffer.from(v.plaintext_hex, 'hex'), Buffer.from(v.nonce_hex, 'hex'));
  assert.equal(got, v.sealed, `vector ${v.id}`);
  checked += 1;
}

const key = crypto.getRandomValues(new Uint8Array(32));
const keyring = Keyring.fromKeys(1, key, crypto.getRandomValues(new Uint8Array(32)));
const wc = await webCryptoSealer(key, 1);
const ctx = { tenant: 'acme', object: 'contact', record: '0042', field: 'email' };
// Cross-check: what WebCrypto seals, the package opens.
assert.equal(keyring.openField(ctx, await wc(ctx, enc.encode('ada@example.com'))), 'ada@example.com');

async function rate(fn, ms = 1500) {
  for (let i = 0; i < 200; i++) await fn(); // warm-up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) { await fn(); n += 1; }
  return (n * 1000) / (performance.now() - start);
}

console.log(`WebCrypto implementation matches ${checked} published vectors byte for byte`);
console.log(`node ${process.version}, ${process.arch}`);
console.log('| value | package (wasm) seals/s | WebCrypto seals/s (sequential) | WebCrypto seals/s (64 in flight) |');
console.log('| --- | --- | --- | --- |');
for (const size of [64, 4096]) {
  const value = crypto.getRandomValues(new Uint8Array(size));
  const pkg = await rate(() => keyring.sealField(ctx, value));
  const seq = await rate(() => wc(ctx, value));
  const par = (await rate(() => Promise.all(Array.from({ length: 64 }, () => wc(ctx, value))))) * 64;
  console.log(`| ${size === 64 ? '64 B' : '4 KiB'} | ${Math.round(pkg)} | ${Math.round(seq)} | ${Math.round(par)} |`);
}
keyring.free();
