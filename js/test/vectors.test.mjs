// (a) Every published sealed-field and blind-index vector, through the built package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Keyring, CrmGuardError } from 'crmguard';
import { readJson, hex, keyringFor, vectorContext } from './helpers.mjs';

const doc = readJson('tests/vectors/sealed-fields.json');
const zero32 = new Uint8Array(32);
const ctx = vectorContext;

test('opens all 22 valid sealed-field vectors to their plaintext', () => {
  assert.equal(doc.vectors.length, 22);
  let opened = 0;
  for (const v of doc.vectors) {
    const k = keyringFor(v);
    assert.deepEqual(Buffer.from(k.openFieldBytes(ctx(v), v.sealed)).toString('hex'), v.plaintext_hex, `vector ${v.id}`);
    // openField gives the JSON value, or the text of UTF-8 bytes content.
    if (v.content_type === 'json') {
      assert.deepEqual(k.openField(ctx(v), v.sealed), JSON.parse(Buffer.from(v.plaintext_hex, 'hex').toString('utf8')), `vector ${v.id}`);
    } else if ('plaintext_utf8' in v) {
      assert.equal(k.openField(ctx(v), v.sealed), v.plaintext_utf8, `vector ${v.id}`);
    }
    k.free();
    opened += 1;
  }
  assert.equal(opened, 22);
});

test('all 10 invalid vectors fail with their published code', () => {
  assert.equal(doc.invalid.length, 10);
  for (const v of doc.invalid) {
    const k = keyringFor(v);
    assert.throws(() => k.openField(ctx(v), v.sealed), (e) => {
      assert.ok(e instanceof CrmGuardError, `vector ${v.id}: ${e}`);
      assert.equal(e.code, v.error, `vector ${v.id} (${v.comment})`);
      return true;
    });
    k.free();
  }
});

test('computes all 7 blind-index vectors', () => {
  assert.equal(doc.blind_indexes.length, 7);
  for (const v of doc.blind_indexes) {
    const k = Keyring.fromKeys(1, zero32, hex(v.blind_index_root_hex));
    const spec = { tenant: v.tenant, object: v.object, field: v.field, normalize: v.normalize, bits: v.bits };
    assert.equal(k.blindIndex(spec, v.value), v.index);
    k.free();
  }
});
