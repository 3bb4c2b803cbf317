// Run by `cargo xtask test` in a fresh project where the packed tarball was installed: the
// package is imported by name as a user would, in the main thread and in a worker_thread.
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { Keyring, CrmGuardError, generateTenantKeyPair, sealToTenant, openFromTenant, WEBCRYPTO_MIN_BYTES } from 'crmguard';

async function roundTrip(mod) {
  const k = mod.Keyring.fromKeys(1, new Uint8Array(32).fill(1), new Uint8Array(32).fill(2));
  const ctx = { tenant: 'acme', object: 'contact', record: '1', field: 'email' };
  const sealed = k.sealField(ctx, 'ada@example.com');
  const opened = k.openField(ctx, sealed);
  let code;
  try { k.openField({ ...ctx, record: '2' }, sealed); } catch (e) { code = e instanceof mod.CrmGuardError ? e.code : String(e); }
  const { publicKey, secretKey } = mod.generateTenantKeyPair();
  const hpke = mod.openFromTenant(secretKey, ctx, mod.sealToTenant(publicKey, ctx, '+49 30 1234567'));
  // Above the crossover the async methods run AES-GCM in WebCrypto: same format both ways.
  const note = 'n'.repeat(mod.WEBCRYPTO_MIN_BYTES + 1);
  const fast = k.openField(ctx, await k.sealFieldAsync(ctx, note)) === note
    && (await k.openFieldAsync(ctx, k.sealField(ctx, note))) === note;
  k.free();
  return { opened, code, hpke, fast };
}

const main = await roundTrip({ Keyring, CrmGuardError, generateTenantKeyPair, sealToTenant, openFromTenant, WEBCRYPTO_MIN_BYTES });
assert.deepEqual(main, { opened: 'ada@example.com', code: 'ERR_SEALED_FIELD_AUTH', hpke: '+49 30 1234567', fast: true });

// The worker is a module file next to this one, so it resolves `crmguard` the same way.
const workerFile = new URL('./check-worker.mjs', import.meta.url);
writeFileSync(workerFile, `import { parentPort } from 'node:worker_threads';
const mod = await import('crmguard');
${roundTrip.toString()}
parentPort.postMessage(await roundTrip(mod));
`);
const inWorker = await new Promise((resolve, reject) => {
  const w = new Worker(workerFile);
  w.once('message', resolve);
  w.once('error', reject);
});
assert.deepEqual(inWorker, main);
// The audit entry point, a second wasm module.
const audit = await import('crmguard/audit');
const chain = new audit.AuditChain('log-install', { productVersion: '0.1.0' });
const line = audit.buildAuditRecord(chain, { class: 'api_activity', activity: 'read', actor: { uid: 'u-1', tenant: 'acme' }, outcome: { decision: 'allow' } }, 1767225600000);
assert.equal(audit.verifyAuditLog(line + '\n').size, 1);
assert.ok(new audit.CrmGuardError('X', 'y') instanceof CrmGuardError);
// The token entry point, a third wasm module.
const tokens = await import('crmguard/tokens');
await assert.rejects(async () => tokens.verifyToken('a.b.c', { keys: [] }), (e) => e instanceof CrmGuardError && e.code.startsWith('ERR_J'));
console.log('installed tarball: ESM import and worker_thread import work (crmguard, crmguard/audit, crmguard/tokens)');
