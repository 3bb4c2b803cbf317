// Shared by the audit entry points: a second wasm module (crates/wasm with the `audit`
// feature), so the field-encryption module stays small. No platform API here.
import * as wasm from '../pkg-audit/crmguard_audit.js';
import { CrmGuardError } from '../errors.js';

export { CrmGuardError };

let ready = false;

export function registerInstance() {
  if (!ready) {
    wasm.__setErrorClass(CrmGuardError);
    ready = true;
  }
}

export const { AuditChain, verifyAuditLog } = wasm;

/** Appends `event` (at `time`, ms since the epoch) to `chain`; returns the record's line. */
export function buildAuditRecord(chain, event, time) {
  return chain.buildAuditRecord(event, time);
}

export const initWasm = wasm.default;
export const initWasmSync = wasm.initSync;
