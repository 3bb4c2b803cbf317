// Node entry of `crmguard/tokens`: the module is read and compiled at import.
import { readFileSync } from 'node:fs';
import { initWasmSync, registerInstance } from './common.js';

initWasmSync({ module: readFileSync(new URL('../pkg-tokens/crmguard_tokens_bg.wasm', import.meta.url)) });
registerInstance();

/** Already initialised in Node; resolves at once. */
export async function init() {}

export { CrmGuardError, verifyToken } from './common.js';
