// The published HPKE vectors (tests/vectors/hpke-sealed.json) open in the package with the
// published tenant private key; the key pair matches; invalid ones fail with their code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openFromTenant, openFromTenantBytes, tenantPublicKey, CrmGuardError } from 'crmguard';
import { readJson, hex } from './helpers.mjs';

const doc = readJson('tests/vectors/hpke-sealed.json');
const secretKey = hex(doc.tenant_secret_key_hex);
const ctx = (v) => ({ tenant: v.tenant, object: v.object, record: v.record, field: v.field });

test('the published private key gives the published public key', () => {
  assert.equal(Buffer.from(tenantPublicKey(secretKey)).toString('hex'), doc.tenant_public_key_hex);
});

test('opens all 7 valid HPKE vectors', () => {
  assert.equal(doc.vectors.length, 7);
  for (const v of doc.vectors) {
    assert.equal(Buffer.from(openFromTenantBytes(secretKey, ctx(v), v.sealed)).toString('hex'), v.plaintext_hex, `vector ${v.id}`);
    if (v.content_type === 'json') {
      assert.deepEqual(openFromTenant(secretKey, ctx(v), v.sealed), JSON.parse(Buffer.from(v.plaintext_hex, 'hex').toString('utf8')), `vector ${v.id}`);
    } else if ('plaintext_utf8' in v) {
      assert.equal(openFromTenant(secretKey, ctx(v), v.sealed), v.plaintext_utf8, `vector ${v.id}`);
    }
  }
});

test('all 11 invalid HPKE vectors fail with their published code', () => {
  assert.equal(doc.invalid.length, 11);
  for (const v of doc.invalid) {
    assert.throws(() => openFromTenant(secretKey, ctx(v), v.sealed), (e) => {
      assert.ok(e instanceof CrmGuardError);
      assert.equal(e.code, v.error, `vector ${v.id} (${v.comment})`);
      return true;
    });
  }
});
