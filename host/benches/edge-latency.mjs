// Added latency of the edge function (crates/edge under `crmguard serve --edge`), side by side
// in one run with calling the origin directly: the same requests, one at a time over a
// keep-alive connection, for a 30-field contact (four fields sealed by the schema).
//
//   node host/benches/edge-latency.mjs [path/to/release/crmguard] [requests]
//
// Needs the component (`cargo xtask components`) and a release crmguard (`cargo build
// --release -p crmguard-host`). The origin and the audit collector are Node HTTP servers in
// this process (each answer a stored JSON body), so the origin's own cost is the same small
// one on both sides.
import { createServer, Agent, request } from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const bin = resolve(process.argv[2] ?? join(repo, 'target/release/crmguard'));
const n = Number(process.argv[3] ?? 3000);
const component = join(repo, 'target/wasm32-wasip2/component/crmguard_edge.wasm');
const MASTER = 'ERERERERERERERERERERERERERERERERERERERERERE=';
const dir = mkdtempSync(join(tmpdir(), 'crmguard-edge-bench-'));

const b64 = (b) => Buffer.from(b).toString('base64url');
const secret = Buffer.alloc(64, 0x42);
function token(claims) {
  const head = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64(JSON.stringify({ iss: 'https://idp.test', aud: 'crm-api', sub: 'user-1', tenant: 'acme', exp: Math.floor(Date.now() / 1000) + 3600, ...claims }));
  return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
}

function listen(handler) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, addr: `127.0.0.1:${server.address().port}` })));
}

const rows = new Map();
const origin = await listen((req, res, body) => {
  let out;
  if (req.method === 'POST') {
    const r = JSON.parse(body);
    rows.set(r.id, body);
    out = body;
  } else {
    out = rows.get(req.url.split('/').pop()) ?? '{}';
  }
  res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }).end(out);
});
let audited = 0;
const collector = await listen((req, res) => {
  audited += 1;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }).end('{}');
});

const r = spawnSync(bin, ['keys', 'new', '--out', join(dir, 'acme.json')], { env: { ...process.env, CRMGUARD_MASTER_KEY: MASTER } });
if (r.status !== 0) throw new Error(String(r.stderr));
const record = { id: '0042', tenant_id: 'acme', lifecycle_stage: 'customer', owner_id: 'user-7', name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0958', national_id: '078-05-1120' };
for (let i = 1; i <= 22; i += 1) record[`custom_${i}`] = `value ${i}`;
const settings = {
  origin_url: `http://${origin.addr}`,
  audit_url: `http://${collector.addr}/events`,
  key_set: { keys: [{ kty: 'oct', k: b64(secret), alg: 'HS256' }] },
  token_options: { allowed_issuers: ['https://idp.test'], allowed_audiences: ['crm-api'] },
  policy: JSON.parse(readFileSync(join(repo, 'examples/policy.json'), 'utf8')),
  schemas: {
    contact: {
      object: 'contact', record_id: 'id', unknown_fields: 'clear', fields: {
        id: { action: 'clear' }, tenant_id: { action: 'clear' }, lifecycle_stage: { action: 'clear' }, owner_id: { action: 'clear' },
        name: { action: 'encrypt' }, phone: { action: 'encrypt' }, national_id: { action: 'encrypt' },
        email: { action: 'blind-index', blind_index: { normalize: ['email'] } },
      },
    },
  },
  routes: [{ path: '/api/{tenant}/contacts', object: 'contact' }],
  master_key: MASTER,
  keyrings: { acme: JSON.parse(readFileSync(join(dir, 'acme.json'), 'utf8')) },
  server_timing: 'true',
};
writeFileSync(join(dir, 'edge.json'), JSON.stringify(settings));
// Two gateways on the same settings: the component pre-initialised at load (the default), and
// as shipped (`--edge-no-preinit`: every request's instance reads and parses the settings).
async function startGateway(extra) {
  const child = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--edge', component, '--edge-config', join(dir, 'edge.json'), ...extra], { stdio: ['ignore', 'pipe', 'ignore'] });
  const line = await new Promise((ok) => createInterface({ input: child.stdout }).once('line', ok));
  return { child, addr: line.replace('crmguard serve: edge component listening on http://', '').trim() };
}
const gw = await startGateway([]);
const gateway = gw.addr;
const shipped = await startGateway(['--edge-no-preinit']);

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function call(addr, method, path, headers, body) {
  return new Promise((ok, fail) => {
    const [host, port] = addr.split(':');
    const t0 = process.hrtime.bigint();
    const req = request({ host, port, method, path, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), us: Number(process.hrtime.bigint() - t0) / 1000, timing: res.headers['server-timing'] }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

const writer = token({ roles: ['sales_rep'], scope: 'crm.write' });
const reader = token({ roles: ['sales_rep'] });
const json = JSON.stringify(record);
const writeHeaders = (t) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });

// Seed the origin through the gateway (so the stored row is the sealed one), check it.
const seeded = await call(gateway, 'POST', '/api/acme/contacts', writeHeaders(writer), json);
if (seeded.status !== 201 || rows.get('0042').includes('Ada Lovelace')) throw new Error(`seed: ${seeded.status} ${seeded.body}`);
const first = JSON.parse((await call(gateway, 'GET', '/api/acme/contacts/0042', { authorization: `Bearer ${reader}` })).body);
if (first.email !== '****@example.com' || first.national_id !== undefined) throw new Error(`read: ${JSON.stringify(first)}`);
const sealedRow = rows.get('0042');

async function measure(label, fn) {
  for (let i = 0; i < 200; i += 1) await fn(); // warm-up
  const us = [];
  const parts = {};
  for (let i = 0; i < n; i += 1) {
    const r = await fn();
    if (r.status >= 300) throw new Error(`${label}: ${r.status} ${r.body}`);
    us.push(r.us);
    // Server-Timing: where the gateway's time went (ms), per part.
    for (const m of (r.timing ?? '').matchAll(/(\w+);dur=([\d.]+)/g)) (parts[m[1]] ??= []).push(Number(m[2]) * 1000);
  }
  const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  const split = Object.entries(parts).map(([k, xs]) => `${k} ${q(xs, 0.5).toFixed(0)}`).join(', ');
  return { label, p50: q(us, 0.5), p99: q(us, 0.99), split };
}

const results = [];
// Reads: the origin's sealed row, directly (what a caller would get: ciphertext) and through
// the gateway (verified, decided, opened and masked, audited).
results.push(await measure('GET  origin directly', () => call(origin.addr, 'GET', '/api/acme/contacts/0042', {})));
results.push(await measure('GET  through the gateway', () => call(gateway, 'GET', '/api/acme/contacts/0042', { authorization: `Bearer ${reader}` })));
results.push(await measure('GET  through the gateway as shipped (no pre-init)', () => call(shipped.addr, 'GET', '/api/acme/contacts/0042', { authorization: `Bearer ${reader}` })));
// Writes: the plain record directly, and through the gateway (sealed before the origin).
results.push(await measure('POST origin directly', () => call(origin.addr, 'POST', '/api/acme/contacts', writeHeaders(writer), json)));
rows.set('0042', sealedRow);
results.push(await measure('POST through the gateway', () => call(gateway, 'POST', '/api/acme/contacts', writeHeaders(writer), json)));
results.push(await measure('POST through the gateway as shipped (no pre-init)', () => call(shipped.addr, 'POST', '/api/acme/contacts', writeHeaders(writer), json)));

gw.child.kill('SIGTERM');
shipped.child.kill('SIGTERM');
origin.server.close();
collector.server.close();
agent.destroy();
rmSync(dir, { recursive: true, force: true });

const size = statSync(component).size;
console.log(`crmguard_edge.wasm: ${(size / 1024).toFixed(0)} KiB; ${n} sequential requests each, 30-field contact, 4 sealed; ${audited} audit events`);
console.log('| path | p50 µs | p99 µs | Server-Timing p50 µs |');
console.log('|---|---:|---:|---|');
for (const r of results) console.log(`| ${r.label} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${r.split} |`);
const added = (a, b) => `p50 +${(b.p50 - a.p50).toFixed(0)} µs, p99 +${(b.p99 - a.p99).toFixed(0)} µs`;
console.log(`added by the gateway: read ${added(results[0], results[1])}; write ${added(results[3], results[4])}`);
console.log(`added as shipped (no pre-init): read ${added(results[0], results[2])}; write ${added(results[3], results[5])}`);
