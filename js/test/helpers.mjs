// Shared by the node:test suites. They import `crmguard` by its package name, which Node
// resolves (package self-reference, "node" condition) to the built package in this folder.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

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
