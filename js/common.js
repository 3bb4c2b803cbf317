// Shared by every entry point: the error class and the re-exported API. No platform API here.
import * as wasm from './pkg/crmguard_wasm.js';
import { CrmGuardError } from './errors.js';
import { installAsyncMethods, WEBCRYPTO_MIN_BYTES } from './webcrypto.js';

export { CrmGuardError, WEBCRYPTO_MIN_BYTES };

installAsyncMethods(wasm);

let ready = false;

/** Called by each loader once the wasm module is instantiated. */
export function registerInstance() {
  if (!ready) {
    wasm.__setErrorClass(CrmGuardError);
    ready = true;
  }
}

export const {
  Keyring,
  RecordSchema,
  generateTenantKeyPair,
  tenantPublicKey,
  sealToTenant,
  openFromTenant,
  openFromTenantBytes,
  errorCodes,
} = wasm;

export const initWasm = wasm.default;
export const initWasmSync = wasm.initSync;
