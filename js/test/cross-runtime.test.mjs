// (b) Values sealed by the package open with the Rust CLI and the other way round, in one
// run: the CLI (CRMGUARD_CLI) and this package share one keyring file and tenant key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Keyring, RecordSchema, sealToTenant, openFromTenant } from 'crmguard';
import { cli, contextArgs } from './helpers.mjs';

let dir, keyringPath, env, keyring;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'crmguard-js-cross-'));
  keyringPath = join(dir, 'keyring.json');
  env = { CRMGUARD_MASTER_KEY: randomBytes(32).toString('base64') };
  cli(['keys', 'new', '--out', keyringPath], '', env);
  // A second key, so the keyring has a decrypt-only key and primary id 2.
  cli(['keys', 'rotate', '--keyring', keyringPath], '', env);
  keyring = Keyring.fromJson(readFileSync(keyringPath, 'utf8'), { masterKey: env.CRMGUARD_MASTER_KEY });
});

after(() => {
  keyring?.free();
  rmSync(dir, { recursive: true, force: true });
});

const base = { tenant: 'acme', object: 'contact', record: '0042', field: 'email' };
const texts = ['ada@example.com', '', 'Jürgen Groß — 東京 ✓', 'x'.repeat(4096)];

test('the imported keyring is the CLI keyring (primary key 2)', () => {
  assert.equal(keyring.primaryKeyId, 2);
});

test('values sealed in JS open with the Rust CLI', () => {
  for (const [i, text] of texts.entries()) {
    const ctx = { ...base, record: `r-${i}` };
    const sealed = keyring.sealField(ctx, text);
    assert.match(sealed, /^cg1:/);
    const opened = cli(['open', '--keyring', keyringPath, ...contextArgs(ctx)], sealed + '\n', env);
    assert.equal(opened.toString('utf8'), text);
  }
  // Raw bytes, every byte value.
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const sealed = keyring.sealField(base, bytes);
  assert.deepEqual(new Uint8Array(cli(['open', '--keyring', keyringPath, ...contextArgs(base)], sealed, env)), bytes);
  // A JSON value is sealed as its compact JSON.
  const json = { street: 'Hauptstr. 1', zip: 53111, tags: ['a', { b: null }] };
  const sj = keyring.sealField(base, json);
  assert.equal(cli(['open', '--keyring', keyringPath, ...contextArgs(base)], sj, env).toString(), JSON.stringify(json));
});

test('values sealed by the Rust CLI open in JS', () => {
  for (const [i, text] of texts.entries()) {
    const ctx = { ...base, field: `f${i}` };
    const sealed = cli(['seal', '--keyring', keyringPath, ...contextArgs(ctx)], text, env).toString().trim();
    assert.equal(keyring.openField(ctx, sealed), text);
    assert.equal(Buffer.from(keyring.openFieldBytes(ctx, sealed)).toString('utf8'), text);
  }
});

test('subject-key values cross both ways', () => {
  const ctx = { ...base, subject: 'contact-0042' };
  const args = [...contextArgs(ctx), '--subject', ctx.subject];
  // The CLI creates the subject key, then JS re-imports the keyring holding it.
  const fromCli = cli(['seal', '--keyring', keyringPath, ...args], 'Ada Lovelace', env).toString().trim();
  const k = Keyring.fromJson(readFileSync(keyringPath, 'utf8'), { masterKey: env.CRMGUARD_MASTER_KEY });
  assert.equal(k.openField(ctx, fromCli), 'Ada Lovelace');
  const fromJs = k.sealField(ctx, 'Grace Hopper');
  assert.equal(cli(['open', '--keyring', keyringPath, ...args], fromJs, env).toString(), 'Grace Hopper');
  k.free();
});

const schemaDoc = {
  object: 'contact',
  record_id: 'id',
  fields: {
    id: { action: 'clear' },
    email: { action: 'blind-index', blind_index: { normalize: ['email'], bits: 32 } },
    'phones[].number': { action: 'encrypt', blind_index: { normalize: ['phone'], bits: 24 } },
    'phones[].kind': { action: 'clear' },
    address: { action: 'encrypt' },
    score: { action: 'encrypt' },
  },
};
const record = {
  id: 'c-7',
  email: ' Ada@Example.com',
  phones: [{ number: '+44 20 7946 0958', kind: 'work' }, { number: '030 1234567', kind: 'home' }],
  address: { street: 'Hauptstr. 1', city: 'Bonn', lines: ['c/o X', { floor: 3 }] },
  score: 0.75,
};

test('records sealed in JS open with the CLI, and CLI-sealed records open in JS', () => {
  const schemaPath = join(dir, 'schema.json');
  writeFileSync(schemaPath, JSON.stringify(schemaDoc));
  const schema = new RecordSchema(schemaDoc);
  const sealed = keyring.sealRecord(schema, record, { tenant: 'acme' });
  assert.ok(!JSON.stringify(sealed).includes('Bonn'));
  const viaCli = JSON.parse(cli(['open-record', '--keyring', keyringPath, '--schema', schemaPath, '--tenant', 'acme'], JSON.stringify(sealed) + '\n', env).toString());
  assert.deepEqual(viaCli, record);

  const cliSealed = JSON.parse(cli(['seal-record', '--keyring', keyringPath, '--schema', schemaPath, '--tenant', 'acme'], JSON.stringify(record) + '\n', env).toString());
  assert.deepEqual(keyring.openRecord(schema, cliSealed, { tenant: 'acme' }), record);
  // Both sides compute the same blind indexes.
  assert.deepEqual(cliSealed._blind ?? cliSealed[Object.keys(cliSealed).find((k) => k.startsWith('_'))], sealed._blind ?? sealed[Object.keys(sealed).find((k) => k.startsWith('_'))]);
  schema.free();
});

test('blind indexes equal the CLI blind-index command', () => {
  const spec = { tenant: 'acme', object: 'contact', field: 'email', normalize: ['email'], bits: 32 };
  const js = keyring.blindIndex(spec, '  Ada@Example.COM ');
  const rust = cli(['blind-index', '--keyring', keyringPath, '--tenant', 'acme', '--object', 'contact', '--field', 'email', '--normalize', 'email', '--bits', '32'], '  Ada@Example.COM ', env).toString().trim();
  assert.equal(js, rust);
});

test('values sealed to the tenant in JS open and re-seal with the CLI', () => {
  const keyPath = join(dir, 'tenant.key');
  const pubPath = join(dir, 'tenant.pub');
  cli(['tenant-key', 'new', '--out', keyPath, '--public-out', pubPath], '', env);
  const publicKey = Buffer.from(readFileSync(pubPath, 'utf8').trim(), 'base64url');
  for (const text of texts) {
    const sealed = sealToTenant(publicKey, base, text);
    assert.match(sealed, /^cgh1:/);
    assert.equal(cli(['tenant-key', 'open', '--key', keyPath, ...contextArgs(base)], sealed, env).toString(), text);
    const stored = cli(['tenant-key', 'reseal', '--key', keyPath, '--keyring', keyringPath, ...contextArgs(base)], sealed, env).toString().trim();
    assert.equal(keyring.openField(base, stored), text);
  }
});

test('values sealed to the tenant by the CLI open in JS with the private key', () => {
  const keyPath = join(dir, 'tenant2.key');
  const pubPath = join(dir, 'tenant2.pub');
  cli(['tenant-key', 'new', '--out', keyPath, '--public-out', pubPath], '', env);
  const secretKey = Buffer.from(readFileSync(keyPath, 'utf8').trim(), 'base64url');
  const sealed = cli(['tenant-key', 'seal', '--public-key', pubPath, ...contextArgs(base)], 'ada@example.com', env).toString().trim();
  assert.equal(openFromTenant(secretKey, base, sealed), 'ada@example.com');
  assert.equal(keyring.openField(base, keyring.sealFromTenant(secretKey, base, sealed)), 'ada@example.com');
});
