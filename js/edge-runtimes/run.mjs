// The package in real edge runtimes, run by `cargo xtask test` after `npm pack`:
//   node edge-runtimes/run.mjs PROJECT
// PROJECT is a fresh project where the packed tarball is installed. The checks (checks.mjs)
// run three times on the same data: in Node from this folder (the reference), inside workerd
// (miniflare runs the real workerd binary) bundled from PROJECT as wrangler bundles a Worker,
// and in Deno (npm `deno`) importing the package from PROJECT's node_modules. Each run must
// pass every check, with the same case counts and the same outputs as the others.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { Miniflare } from 'miniflare';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { runChecks } from './checks.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const project = path.resolve(process.argv[2] ?? '');
if (!process.argv[2]) throw new Error('usage: node edge-runtimes/run.mjs PROJECT (a project with the packed tarball installed)');

const vector = (name) => JSON.parse(readFileSync(path.join(repo, 'tests/vectors', name), 'utf8'));

// Token cases: signed here with jose, the expected verdict stated with each case.
const now = 1767225600;
async function tokenCases() {
  const claims = { iss: 'https://idp.example', aud: 'crm', sub: 'u-1001', tenant: 'acme', iat: now - 10, exp: now + 600 };
  const checks = { now, issuers: ['https://idp.example'], audiences: ['crm'] };
  const keys = [];
  const signers = {};
  for (const [alg, kid, opts] of [['ES256', 'es'], ['EdDSA', 'ed', { crv: 'Ed25519' }], ['RS256', 'rs'], ['PS256', 'ps']]) {
    const { publicKey, privateKey } = await generateKeyPair(alg, { ...opts, extractable: true });
    keys.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' });
    signers[alg] = { kid, key: privateKey };
  }
  const hmac = crypto.getRandomValues(new Uint8Array(32));
  // A set holding a shared secret is its own set: core refuses one that mixes oct and public keys.
  const secretSet = { keys: [{ kty: 'oct', k: Buffer.from(hmac).toString('base64url'), kid: 'hs', alg: 'HS256', use: 'sig' }] };
  signers.HS256 = { kid: 'hs', key: hmac };
  const sign = (alg, body, header = {}) =>
    new SignJWT(body).setProtectedHeader({ alg, kid: signers[alg].kid, typ: 'JWT', ...header }).sign(signers[alg].key);
  const cases = [];
  for (const alg of Object.keys(signers)) {
    const jwks = alg === 'HS256' ? secretSet : undefined;
    cases.push({ name: `${alg} valid`, token: await sign(alg, claims), jwks, options: checks, expect: { claims } });
  }
  const es = await sign('ES256', claims);
  const [h, , s] = es.split('.');
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  cases.push(
    { name: 'expired', token: await sign('ES256', { ...claims, exp: now - 3600 }), options: checks, expect: { code: 'ERR_JWT_EXPIRED', claim: 'exp', reason: 'check_failed' } },
    { name: 'wrong audience', token: await sign('EdDSA', claims), options: { ...checks, audiences: ['other'] }, expect: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'aud', reason: 'check_failed' } },
    { name: 'no issuer', token: await sign('RS256', { ...claims, iss: undefined }), options: checks, expect: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss', reason: 'missing' } },
    { name: 'tampered payload', token: `${h}.${b64({ ...claims, sub: 'admin' })}.${s}`, options: checks, expect: { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' } },
    { name: 'alg none', token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, options: checks, expect: { code: 'ERR_JOSE_ALG_NOT_ALLOWED' } },
    { name: 'an ID token where an access token is required', token: es, options: { ...checks, tokenType: 'at+jwt' }, expect: { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'typ', reason: 'check_failed' } },
    { name: 'a set mixing a shared secret and public keys', token: await sign('HS256', claims), jwks: { keys: [...keys, ...secretSet.keys] }, options: checks, expect: { code: 'ERR_JWKS_INVALID' } },
    { name: 'an HS256 token against the public keys', token: await sign('HS256', claims), options: checks, expect: { code: 'ERR_JWKS_NO_MATCHING_KEY' } },
    { name: 'not a JWT', token: 'not.a.jwt', options: checks, expect: { code: 'ERR_JWT_INVALID' } },
  );
  return { jwks: { keys }, cases };
}

const data = {
  sealed: vector('sealed-fields.json'),
  hpke: vector('hpke-sealed.json'),
  audit: vector('audit-chain.json'),
  tokens: await tokenCases(),
  records: {
    schema: {
      object: 'contact',
      record_id: 'id',
      index_member: '_blind',
      unknown_fields: 'reject',
      fields: {
        id: { action: 'clear' },
        email: { action: 'blind-index', blind_index: { normalize: ['email'], bits: 32 } },
        'phones[].number': { action: 'encrypt', blind_index: { normalize: ['phone'], bits: 24 } },
        'phones[].kind': { action: 'clear' },
        address: { action: 'encrypt' },
        notes: { action: 'encrypt' },
      },
    },
    record: {
      id: 'c-42',
      email: 'Ada@Example.com',
      phones: [{ number: '+44 20 7946 0958', kind: 'work' }, { number: '030 1234567', kind: 'home' }],
      address: { city: 'Bonn', street: 'Hauptstr. 1' },
      notes: ['first call', { vip: true }],
    },
    secrets: ['Ada@', 'Bonn', 'Hauptstr', '7946', 'first call'],
  },
};

// What every runtime must have run: the published vector counts, asserted, not just compared.
const expectedCounts = {
  'sealed-field vectors opened': 22,
  'invalid sealed-field vectors refused with their code': 10,
  'blind-index vectors computed': 7,
  'seal/open round trips (sync and WebCrypto)': 7,
  'records sealed, opened and refused': 4,
  'HPKE vectors opened': 7,
  'invalid HPKE vectors refused with their code': 11,
  'HPKE seal, open and re-seal here': 2,
  'token cases verified or refused with their code': data.tokens.cases.length,
  'audit records and checkpoints rebuilt byte for byte': data.audit.outputs.records.length + data.audit.outputs.checkpoints.length,
  'audit logs verified or refused': 2,
};

/**
 * Bundles a Worker from PROJECT as wrangler does: the conditions workerd, worker, browser, and
 * every imported .wasm handed to workerd as a CompiledWasm module. Returns esbuild's result,
 * the wasm files and the Miniflare options that run it.
 */
async function bundleWorker(entry) {
  const wasmFiles = new Map();
  const wasmAsModule = {
    name: 'wasm-as-module',
    setup(build) {
      build.onResolve({ filter: /\.wasm$/ }, async (args) => {
        if (args.pluginData?.inner) return undefined;
        const r = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
        if (r.errors.length) return { errors: r.errors };
        const name = path.basename(r.path);
        wasmFiles.set(name, r.path);
        return { path: `./${name}`, external: true };
      });
    },
  };
  const out = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: project,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    plugins: [wasmAsModule],
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  const root = '/worker';
  out.wasmFiles = wasmFiles;
  out.miniflare = {
    modulesRoot: root,
    modules: [
      { type: 'ESModule', path: `${root}/worker.mjs`, contents: out.outputFiles[0].text },
      ...[...wasmFiles].map(([name, file]) => ({ type: 'CompiledWasm', path: `${root}/${name}`, contents: readFileSync(file) })),
    ],
    compatibilityDate: '2026-04-01',
  };
  return out;
}

const results = {};

// 1. Node, the reference: the package built in js/ (self-reference, the "node" entry).
{
  const crmguard = await import('crmguard');
  const audit = await import('crmguard/audit');
  const tokens = await import('crmguard/tokens');
  results.node = await runChecks({ crmguard, audit, tokens, data });
  console.log(`node ${process.versions.node}: ${Object.values(results.node.counts).reduce((a, b) => a + b)} cases passed`);
}

for (const f of ['checks.mjs', 'worker.mjs', 'deno.mjs']) copyFileSync(path.join(here, f), path.join(project, f));

// 2. workerd. wrangler bundles with the conditions workerd, worker, browser and hands each
// imported .wasm to workerd as a CompiledWasm module; the same here with esbuild.
{
  const out = await bundleWorker(path.join(project, 'worker.mjs'));
  const inputs = Object.keys(out.metafile.inputs);
  const fromPackage = inputs.filter((p) => p.includes('node_modules/crmguard/'));
  assert.ok(fromPackage.some((p) => p.endsWith('node_modules/crmguard/worker.js')), `the workerd entry was not bundled: ${fromPackage}`);
  assert.ok(!fromPackage.some((p) => /\/node\.js$/.test(p)), `a node entry reached the Worker bundle: ${fromPackage}`);
  assert.equal(out.wasmFiles.size, 3, `three wasm modules: ${[...out.wasmFiles.keys()]}`);
  const mf = new Miniflare(out.miniflare);
  try {
    const res = await mf.dispatchFetch('http://worker.test/', { method: 'POST', body: JSON.stringify(data) });
    const text = await res.text();
    assert.equal(res.status, 200, `the Worker failed:\n${text}`);
    results.workerd = JSON.parse(text);
  } finally {
    await mf.dispose();
  }
  const rt = results.workerd.runtime;
  // The constraint the imported modules exist for is real in this runtime.
  assert.ok(rt.compileFromBytesRefused, 'workerd compiled wasm from bytes: not the restricted runtime this test is for');
  const bundleKib = (out.outputFiles[0].contents.length / 1024).toFixed(0);
  const wasmKib = [...out.wasmFiles.values()].map((f) => (readFileSync(f).length / 1024).toFixed(0));
  console.log(`workerd ${require('workerd/package.json').version} (miniflare ${require('miniflare/package.json').version}): ${Object.values(results.workerd.counts).reduce((a, b) => a + b)} cases passed; bundle ${bundleKib} KiB JS + ${wasmKib.join(' + ')} KiB wasm; compiling from bytes refused there ("${rt.compileFromBytesRefused}")`);
}

// 2b. The Worker README.md and js/README.md show, exactly as printed, with a keyring file the
// CLI made as its binding: what it seals must open with the CLI.
{
  const cliBin = process.env.CRMGUARD_CLI;
  if (!cliBin) throw new Error('CRMGUARD_CLI must name the built crmguard binary (cargo xtask test sets it)');
  const scratch = mkdtempSync(path.join(tmpdir(), 'crmguard-worker-readme-'));
  const masterKey = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');
  const cli = (args, input = '') => {
    const r = spawnSync(cliBin, args, { input, env: { ...process.env, CRMGUARD_MASTER_KEY: masterKey }, maxBuffer: 16 << 20 });
    assert.equal(r.status, 0, `crmguard ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.toString();
  };
  try {
    const keyringFile = path.join(scratch, 'keyring.json');
    cli(['keys', 'new', '--out', keyringFile]);
    for (const readme of [path.join(repo, 'README.md'), path.join(repo, 'js/README.md')]) {
      const blocks = [...readFileSync(readme, 'utf8').matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
      const shown = blocks.filter((b) => b.includes('export default') && b.includes("'crmguard/crmguard.wasm'"));
      assert.equal(shown.length, 1, `${readme}: one Worker example`);
      const entry = path.join(project, 'readme-worker.mjs');
      writeFileSync(entry, shown[0]);
      const out = await bundleWorker(entry);
      const mf = new Miniflare({
        ...out.miniflare,
        bindings: { KEYRING: readFileSync(keyringFile, 'utf8'), MASTER_KEY: masterKey },
      });
      try {
        const res = await mf.dispatchFetch('http://worker.test/', { method: 'POST', body: 'ada@example.com' });
        const sealed = await res.text();
        assert.equal(res.status, 200, sealed);
        assert.match(sealed, /^cg1:/);
        const ctx = ['--tenant', 'acme', '--object', 'contact', '--record', 'c-42', '--field', 'email'];
        assert.equal(cli(['open', '--keyring', keyringFile, ...ctx], sealed), 'ada@example.com');
      } finally {
        await mf.dispose();
      }
      console.log(`workerd: the Worker in ${path.relative(repo, readme)} sealed a value that the CLI opened`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// 3. Deno, from PROJECT's node_modules (a package.json project: Deno's "manual" node_modules).
{
  const denoBin = path.join(path.dirname(require.resolve('deno/package.json')), process.platform === 'win32' ? 'deno.exe' : 'deno');
  const scratch = mkdtempSync(path.join(tmpdir(), 'crmguard-deno-'));
  try {
    const dataFile = path.join(scratch, 'data.json');
    writeFileSync(dataFile, JSON.stringify(data));
    const r = spawnSync(denoBin, ['run', `--allow-read=${project},${scratch}`, '--node-modules-dir=manual', '--no-remote', 'deno.mjs', dataFile], {
      cwd: project,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      env: { ...process.env, DENO_DIR: path.join(scratch, 'cache'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    assert.equal(r.status, 0, `deno failed (${r.status}):\n${r.stderr}`);
    results.deno = JSON.parse(r.stdout);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const rt = results.deno.runtime;
  for (const entry of rt.entries) assert.match(entry, /node_modules\/crmguard\/(worker|audit\/browser|tokens\/browser)\.js$/, 'Deno took a non-Deno entry');
  console.log(`deno ${rt.version}: ${Object.values(results.deno.counts).reduce((a, b) => a + b)} cases passed; entries ${rt.entries.map((e) => e.replace(/^.*node_modules\//, '')).join(', ')}`);
}

for (const [name, r] of Object.entries(results)) {
  assert.deepEqual(r.counts, expectedCounts, `${name}: case counts`);
  assert.deepEqual(r.out, results.node.out, `${name}: outputs differ from Node's`);
}
const total = Object.values(expectedCounts).reduce((a, b) => a + b);
console.log(`edge runtimes: node, workerd and deno ran the same ${total} cases each, with identical outputs`);
