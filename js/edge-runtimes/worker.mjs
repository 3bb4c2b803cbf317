// A Cloudflare Worker that uses the package as a Worker would: the `workerd` entry, each
// .wasm imported as a module (workerd hands it over as a compiled WebAssembly.Module; code
// generation from bytes is disallowed there). POST the checks' data; the answer is the report.
import init, * as crmguard from 'crmguard';
import initAudit, * as audit from 'crmguard/audit';
import initTokens, * as tokens from 'crmguard/tokens';
import wasm from 'crmguard/crmguard.wasm';
import auditWasm from 'crmguard/audit.wasm';
import tokensWasm from 'crmguard/tokens.wasm';
import { runChecks } from './checks.mjs';

/** That this runtime refuses to compile wasm from bytes, which is why the modules are imported. */
function compileFromBytesRefused() {
  // The smallest module: magic and version.
  const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  try {
    new WebAssembly.Module(bytes);
  } catch (e) {
    return String(e.message ?? e);
  }
  return null;
}

export default {
  async fetch(request) {
    try {
      if (!(wasm instanceof WebAssembly.Module)) throw new Error('crmguard.wasm did not arrive as a WebAssembly.Module');
      await Promise.all([init(wasm), initAudit(auditWasm), initTokens(tokensWasm)]);
      const report = await runChecks({ crmguard, audit, tokens, data: await request.json() });
      report.runtime = { name: 'workerd', navigator: navigator.userAgent, compileFromBytesRefused: compileFromBytesRefused() };
      return Response.json(report);
    } catch (e) {
      return new Response(String(e?.stack ?? e), { status: 500 });
    }
  },
};
