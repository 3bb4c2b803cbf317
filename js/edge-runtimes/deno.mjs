// Deno: the package imported by name from node_modules, as a Deno project with a package.json
// does, through its `deno` entry; each `init()` fetches its .wasm next to the entry (a file:
// URL). Reads the checks' data from the file named by the first argument, prints the report.
import init, * as crmguard from 'crmguard';
import initAudit, * as audit from 'crmguard/audit';
import initTokens, * as tokens from 'crmguard/tokens';
import { runChecks } from './checks.mjs';

await Promise.all([init(), initAudit(), initTokens()]);
const report = await runChecks({ crmguard, audit, tokens, data: JSON.parse(await Deno.readTextFile(Deno.args[0])) });
report.runtime = {
  name: 'deno',
  version: Deno.version.deno,
  entries: [import.meta.resolve('crmguard'), import.meta.resolve('crmguard/audit'), import.meta.resolve('crmguard/tokens')],
};
console.log(JSON.stringify(report));
