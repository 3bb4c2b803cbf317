// Shared by the node:test suites. They import `crmguard` by its package name, which Node
// resolves (package self-reference, "node" condition) to the built package in this folder.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Keyring } from 'crmguard';

export const root = new URL('../../', import.meta.url);

export function readJson(relative) {
  return JSON.parse(readFileSync(new URL(relative, root), 'utf8'));
}

export const hex = (s) => Uint8Array.from(Buffer.from(s, 'hex'));
export const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** The `crmguard` CLI built by `cargo xtask test` (its path in CRMGUARD_CLI). */
export function cliPath() {
  const p = process.env.CRMGUARD_CLI;
  if (!p) throw new Error('CRMGUARD_CLI must name the built crmguard binary (cargo xtask test sets it)');
  return p;
}

/** Runs the CLI with `args` and `input` on stdin; returns stdout bytes or throws with stderr. */
export function cli(args, input = '', env = {}) {
  const r = spawnSync(cliPath(), args, { input, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    const err = new Error(`crmguard ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    err.stderr = String(r.stderr);
    throw err;
  }
  return r.stdout;
}

export const contextArgs = (c) => ['--tenant', c.tenant, '--object', c.object, '--record', c.record, '--field', c.field];

const zero32 = new Uint8Array(32);

/** The keyring a sealed-field vector is sealed with, built from its published bytes only. */
export function keyringFor(v) {
  if (v.scope !== 'subject') return Keyring.fromKeys(v.key_id, hex(v.key_hex), zero32);
  // Subject keys come only through the keyring file: a cleartext keyring document holding
  // a dummy data key and the subject's key.
  const file = {
    format: 'crmguard-keyring/v1',
    protection: 'none',
    warning: 'INSECURE: this keyring is stored in cleartext',
    keyring: {
      format: 'crmguard-keyring/v1',
      primary: 1,
      keys: [{ id: 1, status: 'active', created: 0, material: b64url(zero32) }],
      blind_index_root: b64url(zero32),
      subjects: [{ id: v.subject ?? 'contact-0042', generation: v.key_id, created: 0, material: b64url(hex(v.key_hex)) }],
      forgotten: [],
    },
  };
  return Keyring.fromJson(JSON.stringify(file), { allowCleartext: true });
}

/** The field context of a sealed-field vector. */
export const vectorContext = (v) => ({
  tenant: v.tenant, object: v.object, record: v.record, field: v.field,
  ...(v.subject ? { subject: v.subject } : {}),
});
