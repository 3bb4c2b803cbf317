// Sealing values of several sizes, side by side: the package's sync `sealField` (XAES-256-GCM
// in wasm), its `sealFieldAsync` on each of its two paths (wasm AES-GCM, or the AES-256-GCM step
// in WebCrypto), and an implementation of the same format with WebCrypto `crypto.subtle` only
// (test/reference-sealer.mjs, checked here against every published vector). The crossover
// where the WebCrypto path wins is what WEBCRYPTO_MIN_BYTES is set from.
//
//   node bench/seal.mjs            (after the package is built: `cargo xtask npm`)
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { Keyring, WEBCRYPTO_MIN_BYTES } from 'crmguard';
import { __setWebCryptoMinBytes } from '../webcrypto.js';
import { referenceSealer } from '../test/reference-sealer.mjs';

// The WebCrypto-only implementation reproduces every published vector byte for byte.
const doc = JSON.parse(readFileSync(new URL('../../tests/vectors/sealed-fields.json', import.meta.url)));
let checked = 0;
for (const v of doc.vectors) {
  const seal = await referenceSealer(Buffer.from(v.key_hex, 'hex'));
  const options = { scope: v.scope === 'subject' ? 2 : 1, keyId: Number(v.key_id), json: v.content_type === 'json' };
  const got = await seal(v, Buffer.from(v.plaintext_hex, 'hex'), Buffer.from(v.nonce_hex, 'hex'), options);
  assert.equal(got, v.sealed, `vector ${v.id}`);
  checked += 1;
}

const key = crypto.getRandomValues(new Uint8Array(32));
const keyring = Keyring.fromKeys(1, key, crypto.getRandomValues(new Uint8Array(32)));
const wc = await referenceSealer(key);
const ctx = { tenant: 'acme', object: 'contact', record: '0042', field: 'notes' };
assert.equal(keyring.openField(ctx, await wc(ctx, new TextEncoder().encode('ada@example.com'))), 'ada@example.com');

async function rate(fn, ms = 1000) {
  for (let i = 0; i < 200; i++) await fn(); // warm-up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) { await fn(); n += 1; }
  return (n * 1000) / (performance.now() - start);
}

async function asyncRate(minBytes, fn) {
  __setWebCryptoMinBytes(minBytes);
  try {
    return await rate(fn);
  } finally {
    __setWebCryptoMinBytes(WEBCRYPTO_MIN_BYTES);
  }
}

console.log(`WebCrypto-only implementation matches ${checked} published vectors byte for byte`);
console.log(`node ${process.version}, ${process.arch}; WEBCRYPTO_MIN_BYTES = ${WEBCRYPTO_MIN_BYTES}`);
console.log('| value | sealField (wasm, sync) /s | sealFieldAsync, wasm path /s | sealFieldAsync, WebCrypto path /s | open: wasm path /s | open: WebCrypto path /s | WebCrypto-only format /s |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const size of [64, 256, 512, 768, 1024, 2048, 4096, 16384]) {
  const value = crypto.getRandomValues(new Uint8Array(size));
  const sealed = keyring.sealField(ctx, value);
  const sync = await rate(() => keyring.sealField(ctx, value));
  const asyncWasm = await asyncRate(Infinity, () => keyring.sealFieldAsync(ctx, value));
  const asyncWebCrypto = await asyncRate(0, () => keyring.sealFieldAsync(ctx, value));
  const openWasm = await asyncRate(Infinity, () => keyring.openFieldBytesAsync(ctx, sealed));
  const openWebCrypto = await asyncRate(0, () => keyring.openFieldBytesAsync(ctx, sealed));
  const reference = await rate(() => wc(ctx, value));
  const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
  console.log(`| ${label} | ${[sync, asyncWasm, asyncWebCrypto, openWasm, openWebCrypto, reference].map(Math.round).join(' | ')} |`);
}
keyring.free();
