// Compiled by `tsc --noEmit` only: typical use must type-check against index.d.ts.
import init, { CrmGuardError, Keyring, RecordSchema, sealToTenant, generateTenantKeyPair, WEBCRYPTO_MIN_BYTES } from 'crmguard';

export async function example(keyringJson: string, masterKey: string): Promise<string> {
  await init();
  const keyring = Keyring.fromJson(keyringJson, { masterKey });
  const ctx = { tenant: 'acme', object: 'contact', record: '0042', field: 'email' };
  const sealed: string = keyring.sealField(ctx, 'ada@example.com');
  const opened = keyring.openField(ctx, sealed);
  const large = new Uint8Array(WEBCRYPTO_MIN_BYTES);
  const sealedLarge: string = await keyring.sealFieldAsync(ctx, large);
  const openedLarge: Uint8Array = await keyring.openFieldBytesAsync(ctx, sealedLarge);
  const openedValue = await keyring.openFieldAsync(ctx, await keyring.sealFieldAsync(ctx, { n: openedLarge.length }));
  const schema = new RecordSchema({ object: 'contact', record_id: 'id', fields: { id: { action: 'clear' }, email: { action: 'blind-index', blind_index: { normalize: ['email'] } } } });
  const record = keyring.sealRecord(schema, { id: '1', email: 'a@b.c' }, { tenant: 'acme' });
  keyring.openRecord(schema, record, { tenant: 'acme' });
  const index: string = keyring.blindIndex({ tenant: 'acme', object: 'contact', field: 'email', normalize: ['email'], bits: 32 }, 'a@b.c');
  const { publicKey } = generateTenantKeyPair();
  const toTenant: string = sealToTenant(publicKey, ctx, { nested: [1, 'two', null] });
  try {
    keyring.openField({ ...ctx, record: '0043' }, sealed);
  } catch (e) {
    if (e instanceof CrmGuardError && e.code === 'ERR_SEALED_FIELD_AUTH') return index + toTenant;
  }
  keyring.free();
  return String(opened) + JSON.stringify(openedValue);
}

import { AuditChain, buildAuditRecord, verifyAuditLog } from 'crmguard/audit';

export function auditExample(log: string, key: Uint8Array): number {
  const chain = new AuditChain('log-1', { productVersion: '0.1.0' });
  const line: string = buildAuditRecord(chain, { class: 'api_activity', activity: 'read', actor: { uid: 'u-1', tenant: 'acme' }, outcome: { decision: 'allow' } }, 1767225600000);
  chain.free();
  return verifyAuditLog(log + line, { verifyingKeys: [key] }).size;
}

import type { CrmGuardErrorCode, CrmGuardErrorKinds, ErrorKind } from 'crmguard';

// The kind of every code is typed, and is one of the kinds.
export const authKind: CrmGuardErrorKinds['ERR_SEALED_FIELD_AUTH'] = 'integrity';
export function kindOf(code: CrmGuardErrorCode, kinds: CrmGuardErrorKinds): ErrorKind {
  return kinds[code];
}
