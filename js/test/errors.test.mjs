// (c) Tampered, wrong-context and malformed values fail with the core's stable codes, thrown
// as CrmGuardError; messages carry no secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring, CrmGuardError, errorCodes, generateTenantKeyPair, sealToTenant, openFromTenant, tenantPublicKey } from 'crmguard';

const key = new Uint8Array(32).fill(0x11);
const root = new Uint8Array(32).fill(0x22);
const ctx = { tenant: 'acme', object: 'contact', record: '0042', field: 'email' };
const secret = 'ada@example.com';

function code(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CrmGuardError, `expected CrmGuardError, got ${e}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'CrmGuardError');
    assert.ok(!e.message.includes(secret));
    return e.code;
  }
  assert.fail('did not throw');
}

/** Flips one bit of the binary form behind a `cg1:`/`cgh1:` text. */
function flip(text, byte, bit = 1) {
  const [prefix, b64] = text.split(':');
  const raw = Buffer.from(b64, 'base64url');
  raw[byte] ^= bit;
  return `${prefix}:${raw.toString('base64url')}`;
}

test('every thrown code is listed in errorCodes()', () => {
  const codes = errorCodes();
  assert.ok(codes.includes('ERR_SEALED_FIELD_AUTH'));
  assert.ok(codes.includes('ERR_TENANT_SEALED_AUTH'));
  assert.equal(new Set(codes).size, codes.length);
});

test('sealed fields: tampering, wrong context and wrong key are ERR_SEALED_FIELD_AUTH', () => {
  const k = Keyring.fromKeys(1, key, root);
  const sealed = k.sealField(ctx, secret);
  assert.equal(k.openField(ctx, sealed), secret);
  for (const other of [{ record: '0043' }, { field: 'phone' }, { tenant: 'acme2' }, { object: 'lead' }]) {
    assert.equal(code(() => k.openField({ ...ctx, ...other }, sealed)), 'ERR_SEALED_FIELD_AUTH');
  }
  const len = Buffer.from(sealed.slice(4), 'base64url').length;
  for (let i = 7; i < len; i++) {
    assert.equal(code(() => k.openField(ctx, flip(sealed, i))), 'ERR_SEALED_FIELD_AUTH', `byte ${i}`);
  }
  const other = Keyring.fromKeys(1, new Uint8Array(32).fill(0x12), root);
  assert.equal(code(() => other.openField(ctx, sealed)), 'ERR_SEALED_FIELD_AUTH');
  assert.equal(code(() => Keyring.fromKeys(2, key, root).openField(ctx, sealed)), 'ERR_KEY_NOT_FOUND');
  assert.equal(code(() => k.openField(ctx, flip(sealed, 0, 3))), 'ERR_SEALED_FIELD_UNSUPPORTED');
  assert.equal(code(() => k.openField(ctx, sealed.slice(4))), 'ERR_SEALED_FIELD_MALFORMED');
  assert.equal(code(() => k.openField(ctx, 'cg1:!!!!')), 'ERR_SEALED_FIELD_MALFORMED');
  assert.equal(code(() => k.openField(ctx, 'cg1:AQEAAAAAAQ')), 'ERR_SEALED_FIELD_MALFORMED');
  k.free();
  other.free();
});

test('bad inputs: context, keys, keyring files, blind-index settings, subjects', () => {
  const k = Keyring.fromKeys(1, key, root);
  assert.equal(code(() => k.sealField({ ...ctx, record: '' }, 'x')), 'ERR_CONTEXT_INVALID');
  assert.equal(code(() => k.sealField({ ...ctx, field: 'a\nb' }, 'x')), 'ERR_CONTEXT_INVALID');
  assert.equal(code(() => Keyring.fromKeys(1, new Uint8Array(31), root)), 'ERR_KEY_INVALID');
  assert.equal(code(() => Keyring.fromKeys(0, key, root)), 'ERR_KEYRING_REFUSED');
  assert.equal(code(() => Keyring.fromJson('{}')), 'ERR_KEYRING_MALFORMED');
  const cleartext = JSON.stringify({
    format: 'crmguard-keyring/v1',
    protection: 'none',
    warning: 'INSECURE: this keyring is stored in cleartext',
    keyring: {
      format: 'crmguard-keyring/v1', primary: 1,
      keys: [{ id: 1, status: 'active', created: 0, material: Buffer.from(key).toString('base64url') }],
      blind_index_root: Buffer.from(root).toString('base64url'), subjects: [], forgotten: [],
    },
  });
  assert.equal(code(() => Keyring.fromJson(cleartext)), 'ERR_KEYRING_CLEARTEXT');
  assert.equal(Keyring.fromJson(cleartext, { allowCleartext: true }).primaryKeyId, 1);
  assert.equal(code(() => Keyring.fromJson('{}', { masterKey: 'not base64!' })), 'ERR_KEYRING_MASTER_KEY');
  const spec = { tenant: 'acme', object: 'contact', field: 'phone', normalize: ['phone'], bits: 24 };
  assert.equal(code(() => k.blindIndex(spec, 'no digits')), 'ERR_BLIND_INDEX_INPUT');
  assert.equal(code(() => k.blindIndex({ ...spec, bits: 4 }, '123456')), 'ERR_BLIND_INDEX_CONFIG');
  assert.equal(code(() => k.sealField({ ...ctx, subject: 'contact-1' }, 'x')), 'ERR_SUBJECT_NOT_FOUND');
  k.free();
});

test('arguments of the wrong JavaScript type are TypeErrors', () => {
  const k = Keyring.fromKeys(1, key, root);
  assert.throws(() => k.sealField({ tenant: 'acme' }, 'x'), TypeError);
  assert.throws(() => k.sealField({ ...ctx, record: 42 }, 'x'), TypeError);
  assert.throws(() => k.sealField(ctx, undefined), TypeError);
  k.free();
});

test('HPKE: tampering, wrong context and wrong key are ERR_TENANT_SEALED_AUTH', () => {
  const { publicKey, secretKey } = generateTenantKeyPair();
  assert.deepEqual(tenantPublicKey(secretKey), publicKey);
  const sealed = sealToTenant(publicKey, ctx, secret);
  assert.ok(!sealed.includes(secret));
  assert.equal(openFromTenant(secretKey, ctx, sealed), secret);
  assert.equal(code(() => openFromTenant(secretKey, { ...ctx, record: '0043' }, sealed)), 'ERR_TENANT_SEALED_AUTH');
  assert.equal(code(() => openFromTenant(secretKey, { ...ctx, field: 'phone' }, sealed)), 'ERR_TENANT_SEALED_AUTH');
  assert.equal(code(() => openFromTenant(generateTenantKeyPair().secretKey, ctx, sealed)), 'ERR_TENANT_SEALED_AUTH');
  const len = Buffer.from(sealed.slice(5), 'base64url').length;
  for (let i = 3; i < len; i++) {
    assert.equal(code(() => openFromTenant(secretKey, ctx, flip(sealed, i, 0x20))), 'ERR_TENANT_SEALED_AUTH', `byte ${i}`);
  }
  assert.equal(code(() => openFromTenant(secretKey, ctx, flip(sealed, 0, 2))), 'ERR_TENANT_SEALED_UNSUPPORTED');
  assert.equal(code(() => openFromTenant(secretKey, ctx, sealed.slice(5))), 'ERR_TENANT_SEALED_MALFORMED');
  assert.equal(code(() => sealToTenant(new Uint8Array(31), ctx, 'x')), 'ERR_TENANT_KEY_INVALID');
  assert.equal(code(() => sealToTenant(new Uint8Array(32), ctx, 'x')), 'ERR_TENANT_KEY_INVALID');
});

test('inherited members are ignored: a polluted Object.prototype does not change what is sealed', () => {
  // Before, options were read with Reflect.get, which walks the prototype chain: a polluted
  // `Object.prototype.subject` turned every keyring seal into a seal for that subject.
  const k = Keyring.fromKeys(1, key, root);
  let sealed;
  Object.prototype.subject = 'victim';
  try {
    sealed = k.sealField(ctx, secret);
  } finally {
    delete Object.prototype.subject;
  }
  assert.equal(k.openField(ctx, sealed), secret);
  k.free();
});
