// Browser entry: `await init()` fetches the .wasm next to this file and compiles it while it
// downloads (WebAssembly.instantiateStreaming). No Node API.
import { initWasm, registerInstance } from './common.js';

let pending;

/**
 * Loads the wasm module once. `input` may be a URL, a Response, a WebAssembly.Module or the
 * bytes; by default the package's crmguard_wasm_bg.wasm is fetched.
 */
export function init(input) {
  pending ??= initWasm({
    module_or_path: input ?? new URL('./pkg/crmguard_wasm_bg.wasm', import.meta.url),
  }).then(() => registerInstance());
  return pending;
}

export default init;

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
