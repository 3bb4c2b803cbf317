// Node entry: the .wasm is read from the package and compiled synchronously at import, so
// no `await init()` is needed (init() is still exported, for code shared with browsers).
import { readFileSync } from 'node:fs';
import { initWasmSync, registerInstance } from './common.js';

initWasmSync({ module: readFileSync(new URL('./pkg/crmguard_wasm_bg.wasm', import.meta.url)) });
registerInstance();

/** Already initialised in Node; resolves at once. */
export async function init() {}

export {
  CrmGuardError,
  Keyring,
  RecordSchema,
  generateTenantKeyPair,
  tenantPublicKey,
  sealToTenant,
  openFromTenant,
  openFromTenantBytes,
  errorCodes,
  WEBCRYPTO_MIN_BYTES,
} from './common.js';
