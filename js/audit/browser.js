// Browser, worker and edge entry of `crmguard/audit`: web-platform API only. `await init()`
// fetches the audit .wasm and compiles it streaming (or pass a WebAssembly.Module).
import { initWasm, registerInstance } from './common.js';

let pending;

export function init(input) {
  pending ??= initWasm({
    module_or_path: input ?? new URL('../pkg-audit/crmguard_audit_bg.wasm', import.meta.url),
  }).then(() => registerInstance());
  return pending;
}

export default init;

export { CrmGuardError, AuditChain, buildAuditRecord, verifyAuditLog } from './common.js';
