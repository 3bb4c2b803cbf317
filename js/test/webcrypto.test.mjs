// (e) The async field methods: from WEBCRYPTO_MIN_BYTES the AES-256-GCM step runs in
// WebCrypto. Both paths must give the bytes of the sealed-field format for their nonce (checked
// against an independent WebCrypto implementation that reproduces every published vector),
// open each other's output and every vector, and fail with the same errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring, CrmGuardError, WEBCRYPTO_MIN_BYTES } from 'crmguard';
// The package's own module (the one `crmguard` loads): its test-only threshold setter.
import { __setWebCryptoMinBytes } from '../webcrypto.js';
import { readJson, hex, keyringFor, vectorContext } from './helpers.mjs';
import { referenceSealer, fromText } from './reference-sealer.mjs';

const doc = readJson('tests/vectors/sealed-fields.json');
const ctx = { tenant: 'acme', object: 'contact', record: '0042', field: 'notes' };

// Which path ran: count the AES-GCM calls that reach crypto.subtle.
const gcmCalls = { encrypt: 0, decrypt: 0 };
for (const op of Object.keys(gcmCalls)) {
  const original = crypto.subtle[op].bind(crypto.subtle);
  crypto.subtle[op] = (algorithm, ...rest) => {
    if (algorithm?.name === 'AES-GCM') gcmCalls[op] += 1;
    return original(algorithm, ...rest);
  };
}
async function counted(op, fn) {
  const before = gcmCalls[op];
  const result = await fn();
  return [result, gcmCalls[op] - before];
}

async function withMinBytes(n, fn) {
  __setWebCryptoMinBytes(n);
  try {
    return await fn();
  } finally {
    __setWebCryptoMinBytes(WEBCRYPTO_MIN_BYTES);
  }
}

/** Re-seals with the reference implementation under the nonce `sealed` carries. */
async function reference(seal, sealed, context, plaintext, options) {
  return seal(context, plaintext, fromText(sealed).subarray(7, 31), options);
}

test('the crossover: WEBCRYPTO_MIN_BYTES and more run AES-GCM in WebCrypto, with the same bytes', async () => {
  assert.ok(Number.isInteger(WEBCRYPTO_MIN_BYTES) && WEBCRYPTO_MIN_BYTES > 0);
  const key = crypto.getRandomValues(new Uint8Array(32));
  const k = Keyring.fromKeys(7, key, new Uint8Array(32));
  const seal = await referenceSealer(key);
  for (const size of [0, 1, WEBCRYPTO_MIN_BYTES - 1, WEBCRYPTO_MIN_BYTES, WEBCRYPTO_MIN_BYTES + 1, 4096, 65536]) {
    const value = crypto.getRandomValues(new Uint8Array(size));
    const viaWebCrypto = size >= WEBCRYPTO_MIN_BYTES ? 1 : 0;

    const [fast, encrypts] = await counted('encrypt', () => k.sealFieldAsync(ctx, value));
    assert.equal(encrypts, viaWebCrypto, `${size} B: seal path`);
    const sync = k.sealField(ctx, value);
    // Each is exactly the format's bytes for its own nonce, so for one nonce they are equal.
    assert.equal(fast, await reference(seal, fast, ctx, value, { keyId: 7 }), `${size} B: async bytes`);
    assert.equal(sync, await reference(seal, sync, ctx, value, { keyId: 7 }), `${size} B: sync bytes`);

    // Each path opens the other's output.
    assert.deepEqual(k.openFieldBytes(ctx, fast), value);
    const [opened, decrypts] = await counted('decrypt', () => k.openFieldBytesAsync(ctx, sync));
    assert.equal(decrypts, viaWebCrypto, `${size} B: open path`);
    assert.deepEqual(opened, value);
  }
  k.free();
});

test('every published sealed-field vector opens through WebCrypto to what openField gives', async () => {
  await withMinBytes(0, async () => {
    for (const v of doc.vectors) {
      const k = keyringFor(v);
      const c = vectorContext(v);
      const [bytes, n] = await counted('decrypt', () => k.openFieldBytesAsync(c, v.sealed));
      assert.equal(n, 1, `vector ${v.id}: WebCrypto path`);
      assert.equal(Buffer.from(bytes).toString('hex'), v.plaintext_hex, `vector ${v.id}`);
      if (v.content_type === 'json' || 'plaintext_utf8' in v) {
        assert.deepEqual(await k.openFieldAsync(c, v.sealed), k.openField(c, v.sealed), `vector ${v.id}`);
      }
      k.free();
    }
  });
});

test('sealing every vector\'s plaintext through WebCrypto gives the format\'s bytes, as the vector itself does', async () => {
  await withMinBytes(0, async () => {
    for (const v of doc.vectors) {
      const k = keyringFor(v);
      const c = vectorContext(v);
      const plain = hex(v.plaintext_hex);
      const json = v.content_type === 'json';
      const value = json ? JSON.parse(Buffer.from(plain).toString('utf8')) : plain;
      const options = { scope: v.scope === 'subject' ? 2 : 1, keyId: Number(v.key_id), json };
      const seal = await referenceSealer(hex(v.key_hex));
      // The yardstick reproduces the published value from its published nonce ...
      assert.equal(await seal(c, plain, hex(v.nonce_hex), options), v.sealed, `vector ${v.id}: reference`);
      // ... and the package's WebCrypto path gives the same function of its own nonce.
      const [fast, n] = await counted('encrypt', () => k.sealFieldAsync(c, value));
      assert.equal(n, 1, `vector ${v.id}: WebCrypto path`);
      assert.equal(fast, await reference(seal, fast, c, plain, options), `vector ${v.id}`);
      assert.deepEqual(k.openFieldBytes(c, fast), plain);
      k.free();
    }
  });
});

function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('no error');
}

async function rejected(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('no rejection');
}

function sameError(asyncErr, syncErr, what) {
  assert.equal(asyncErr.constructor, syncErr.constructor, what);
  assert.equal(asyncErr.code, syncErr.code, what);
  assert.equal(asyncErr.message, syncErr.message, what);
}

test('the async methods reject with the errors the sync ones throw, on both paths', async () => {
  const k = Keyring.fromKeys(1, crypto.getRandomValues(new Uint8Array(32)), new Uint8Array(32));
  const other = Keyring.fromKeys(2, crypto.getRandomValues(new Uint8Array(32)), new Uint8Array(32));
  for (const size of [16, WEBCRYPTO_MIN_BYTES + 100]) {
    const value = 'x'.repeat(size);
    const sealed = k.sealField(ctx, value);
    const flipped = sealed.slice(0, 60) + (sealed[60] === 'A' ? 'B' : 'A') + sealed.slice(61);
    const opens = [
      ['wrong context', k, { ...ctx, record: '0043' }, sealed, 'ERR_SEALED_FIELD_AUTH'],
      ['modified', k, ctx, flipped, 'ERR_SEALED_FIELD_AUTH'],
      ['unknown key id', other, ctx, sealed, 'ERR_KEY_NOT_FOUND'],
      ['not cg1', k, ctx, 'cg2:' + sealed.slice(4), 'ERR_SEALED_FIELD_MALFORMED'],
      ['empty tenant', k, { ...ctx, tenant: '' }, sealed, 'ERR_CONTEXT_INVALID'],
      ['no field member', k, { tenant: 'acme', object: 'contact', record: '0042' }, sealed, undefined],
    ];
    for (const [what, ring, c, s, code] of opens) {
      const syncErr = thrown(() => ring.openField(c, s));
      assert.equal(syncErr.code, code, what);
      assert.equal(syncErr instanceof CrmGuardError, code !== undefined, what);
      sameError(await rejected(ring.openFieldAsync(c, s)), syncErr, `${size} B open: ${what}`);
      sameError(await rejected(ring.openFieldBytesAsync(c, s)), thrown(() => ring.openFieldBytes(c, s)), `${size} B bytes: ${what}`);
    }
    for (const [what, c, v] of [
      ['empty tenant', { ...ctx, tenant: '' }, value],
      ['control character', { ...ctx, field: 'a\nb' }, value],
      ['undefined value', ctx, undefined],
    ]) {
      sameError(await rejected(k.sealFieldAsync(c, v)), thrown(() => k.sealField(c, v)), `${size} B seal: ${what}`);
    }
  }
  // Above the size limit: refused before any AES work on either path.
  const huge = new Uint8Array(16 * 1024 * 1024 + 1);
  sameError(await rejected(k.sealFieldAsync(ctx, huge)), thrown(() => k.sealField(ctx, huge)), 'too large');
  assert.equal(thrown(() => k.sealField(ctx, huge)).code, 'ERR_SEALED_FIELD_TOO_LARGE');
  // The published invalid vectors, through WebCrypto.
  await withMinBytes(0, async () => {
    for (const v of doc.invalid) {
      const ring = keyringFor(v);
      const e = await rejected(ring.openFieldAsync(vectorContext(v), v.sealed));
      assert.ok(e instanceof CrmGuardError, `invalid vector ${v.id}: ${e}`);
      assert.equal(e.code, v.error, `invalid vector ${v.id}`);
      ring.free();
    }
  });
  k.free();
  other.free();
});

test('strings and JSON values above the crossover come back typed', async () => {
  const k = Keyring.fromKeys(1, crypto.getRandomValues(new Uint8Array(32)), new Uint8Array(32));
  const text = 'Grüße, 日本 🙂 '.repeat(200);
  const record = { notes: text, floors: [1, 2.5, null, true], nested: { a: 'b'.repeat(2000) } };
  for (const value of [text, record]) {
    const fast = await k.sealFieldAsync(ctx, value);
    assert.deepEqual(k.openField(ctx, fast), value);
    assert.deepEqual(await k.openFieldAsync(ctx, fast), value);
    assert.deepEqual(await k.openFieldAsync(ctx, k.sealField(ctx, value)), value);
  }
  k.free();
});
