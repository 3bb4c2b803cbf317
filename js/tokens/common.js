// Shared by the token entry points: a third wasm module (crates/wasm with the `tokens`
// feature). No platform API here.
import * as wasm from '../pkg-tokens/crmguard_tokens.js';
import { CrmGuardError } from '../errors.js';

export { CrmGuardError };

let ready = false;

export function registerInstance() {
  if (!ready) {
    wasm.__setErrorClass(CrmGuardError);
    ready = true;
  }
}

/**
 * Verifies a compact JWT against a JWKS (object or JSON text) and returns its claims.
 * `options.now` (seconds) defaults to the current time.
 */
export function verifyToken(token, jwks, options = {}) {
  const text = typeof jwks === 'string' ? jwks : JSON.stringify(jwks);
  return wasm.__verifyToken(token, text, { ...options, now: options.now ?? Date.now() / 1000 });
}

export const initWasm = wasm.default;
export const initWasmSync = wasm.initSync;
