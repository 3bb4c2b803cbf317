// (d) Records with nested objects and arrays round-trip; blind indexes are added and removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring, RecordSchema, CrmGuardError } from 'crmguard';

const k = Keyring.fromKeys(3, new Uint8Array(32).fill(7), new Uint8Array(32).fill(9));
const schema = new RecordSchema(JSON.stringify({
  object: 'contact',
  record_id: 'id',
  index_member: '_blind',
  unknown_fields: 'reject',
  fields: {
    id: { action: 'clear' },
    email: { action: 'blind-index', blind_index: { normalize: ['email'], bits: 32 } },
    'phones[].number': { action: 'encrypt', blind_index: { normalize: ['phone'], bits: 24 } },
    'phones[].kind': { action: 'clear' },
    'address.city': { action: 'encrypt' },
    'address.street': { action: 'encrypt' },
    'address.geo': { action: 'encrypt' },
    notes: { action: 'encrypt' },
    vip: { action: 'encrypt' },
    deleted: { action: 'encrypt' },
  },
}));
const record = {
  id: 'c-42',
  email: 'Ada@Example.com',
  phones: [{ number: '+44 20 7946 0958', kind: 'work' }, { number: '030 1234567', kind: 'home' }],
  address: { city: 'Bonn', street: 'Hauptstr. 1', geo: { lat: 50.73, lon: 7.1, tags: ['x', { y: [1, 2] }] } },
  notes: ['first', { nested: { deep: true } }, null, 3],
  vip: false,
  deleted: null,
};

test('a nested record round-trips, with blind indexes on the side', () => {
  const sealed = k.sealRecord(schema, record, { tenant: 'acme' });
  const text = JSON.stringify(sealed);
  for (const plain of ['Ada@', 'Bonn', 'Hauptstr', '7946', 'deep', '50.73']) assert.ok(!text.includes(plain), plain);
  assert.equal(sealed.id, 'c-42');
  assert.equal(sealed.phones[1].kind, 'home');
  assert.match(sealed.address.geo, /^cg1:/);
  assert.match(sealed.notes, /^cg1:/);
  assert.equal(sealed.deleted, null);
  assert.deepEqual(Object.keys(sealed._blind).sort(), ['email', 'phones[].number']);
  assert.equal(sealed._blind['phones[].number'].length, 2);
  assert.equal(sealed._blind.email, k.blindIndex({ tenant: 'acme', object: 'contact', field: 'email', normalize: ['email'], bits: 32 }, record.email));
  assert.deepEqual(k.openRecord(schema, sealed, { tenant: 'acme' }), record);
});

test('a sealed record does not open as another record or tenant', () => {
  const sealed = k.sealRecord(schema, record, { tenant: 'acme' });
  const moved = { ...sealed, id: 'c-43' };
  assert.throws(() => k.openRecord(schema, moved, { tenant: 'acme' }), (e) => e instanceof CrmGuardError && e.code === 'ERR_SEALED_FIELD_AUTH');
  assert.throws(() => k.openRecord(schema, sealed, { tenant: 'other' }), (e) => e.code === 'ERR_SEALED_FIELD_AUTH');
});

test('unknown fields are rejected and bad schemas are ERR_SCHEMA_INVALID', () => {
  assert.throws(() => k.sealRecord(schema, { ...record, ssn: '123' }, { tenant: 'acme' }), (e) => e.code === 'ERR_RECORD_INVALID');
  assert.throws(() => new RecordSchema({ object: 'contact', fields: { a: { action: 'encrypt' }, 'a.b': { action: 'clear' } } }), (e) => e.code === 'ERR_SCHEMA_INVALID');
});

test('single JSON values keep their type', () => {
  const ctx = { tenant: 'acme', object: 'contact', record: '1', field: 'misc' };
  for (const v of ['text', 42, 1.5, true, null, [1, 'a', null], { a: { b: [true] } }]) {
    assert.deepEqual(k.openField(ctx, k.sealField(ctx, v)), v);
  }
});
