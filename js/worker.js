// Workers and edge runtimes (web workers, service workers, Cloudflare workerd, Vercel edge,
// Deno): only web-platform API. Pass a WebAssembly.Module where the platform imports .wasm
// files as modules (e.g. `import wasm from 'crmguard/crmguard.wasm'` in workerd); otherwise
// the .wasm next to this file is fetched and compiled streaming.
import { initWasm, registerInstance } from './common.js';

let pending;

/** Loads the wasm module once; `input`: a WebAssembly.Module, URL, Response or bytes. */
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
} from './common.js';
