// Download size per entry point: the files a browser (or worker, or Node) loads, each
// compressed on its own with GNU `gzip -9n` (as docs/BENCHMARKS.md has always reported; Node's
// zlib at level 9 gives about 2 % more), summed. Run after the package is built:
//   node scripts/sizes.mjs
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const gz = (f) => execFileSync('gzip', ['-9nc', new URL(`../${f}`, import.meta.url).pathname], { maxBuffer: 1 << 26 }).length;
const raw = (f) => readFileSync(new URL(`../${f}`, import.meta.url)).length;
const fields = ['pkg/crmguard_wasm_bg.wasm', 'pkg/crmguard_wasm.js', 'common.js', 'errors.js', 'webcrypto.js'];
const entries = {
  'crmguard (browser)': [...fields, 'browser.js'],
  'crmguard (worker)': [...fields, 'browser.js', 'worker.js'],
  'crmguard (node)': [...fields, 'node.js'],
  'crmguard/audit (browser, worker)': ['pkg-audit/crmguard_audit_bg.wasm', 'pkg-audit/crmguard_audit.js', 'audit/common.js', 'errors.js', 'audit/browser.js'],
  'crmguard/tokens (browser, worker)': ['pkg-tokens/crmguard_tokens_bg.wasm', 'pkg-tokens/crmguard_tokens.js', 'tokens/common.js', 'errors.js', 'tokens/browser.js'],
};
console.log('| entry point | files | raw | gzipped |');
console.log('| --- | --- | ---: | ---: |');
for (const [name, files] of Object.entries(entries)) {
  const sum = (f) => files.reduce((n, x) => n + f(x), 0).toLocaleString('en').replaceAll(',', ' ');
  console.log(`| \`${name}\` | ${files.map((f) => `${f} ${(gz(f) / 1000).toFixed(1)}`).join(', ')} | ${sum(raw)} B | **${sum(gz)} B** |`);
}
