// Browser, worker and edge entry of `crmguard/tokens`: web-platform API only.
import { initWasm, registerInstance } from './common.js';

let pending;

export function init(input) {
  pending ??= initWasm({
    module_or_path: input ?? new URL('../pkg-tokens/crmguard_tokens_bg.wasm', import.meta.url),
  }).then(() => registerInstance());
  return pending;
}

export default init;

export { CrmGuardError, verifyToken } from './common.js';
