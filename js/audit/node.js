// Node entry of `crmguard/audit`: the module is read and compiled at import.
import { readFileSync } from 'node:fs';
import { initWasmSync, registerInstance } from './common.js';

initWasmSync({ module: readFileSync(new URL('../pkg-audit/crmguard_audit_bg.wasm', import.meta.url)) });
registerInstance();

/** Already initialised in Node; resolves at once. */
export async function init() {}

export { CrmGuardError, AuditChain, buildAuditRecord, verifyAuditLog } from './common.js';
