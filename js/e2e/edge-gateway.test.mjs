// Browser end to end through the edge function (crates/edge under `crmguard serve --edge`):
// a contact form in headless chromium posts what was typed to the gateway (cross-origin,
// with a CORS preflight); the loopback CRM API behind it (the origin) must store no plaintext
// of a sealed field; the record is then read back through the gateway as three callers: an
// admin sees it clear, a sales rep masked (national id hidden), another tenant is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { cli } from '../test/helpers.mjs';

const MASTER = 'ERERERERERERERERERERERERERERERERERERERERERE=';
const page = readFileSync(fileURLToPath(new URL('./gateway-form/index.html', import.meta.url)));
const policy = JSON.parse(readFileSync(fileURLToPath(new URL('../../examples/policy.json', import.meta.url)), 'utf8'));

let dir, gateway, gatewayUrl, siteUrl, signingKey;
const servers = [];
const rows = new Map();
const originRequests = [];
const events = [];

function listen(handler) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${server.address().port}`)));
}

function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

async function token(claims) {
  return new SignJWT({ tenant: 'acme', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'idp-1', typ: 'JWT' })
    .setIssuer('https://idp.test')
    .setAudience('crm-api')
    .setSubject(claims.sub ?? 'user-1')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(signingKey);
}

before(async () => {
  const component = process.env.CRMGUARD_EDGE_COMPONENT;
  assert.ok(component, 'CRMGUARD_EDGE_COMPONENT must name crmguard_edge.wasm (cargo xtask test sets it)');
  dir = mkdtempSync(join(tmpdir(), 'crmguard-edge-e2e-'));
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  cli(['keys', 'new', '--out', join(dir, 'acme.json')], '', { CRMGUARD_MASTER_KEY: MASTER });

  // The origin: a CRM API storing contacts as it gets them.
  const origin = await listen((req, res, body) => {
    originRequests.push({ method: req.method, url: req.url, body: body.toString('utf8') });
    const id = decodeURIComponent(req.url.split('/').pop());
    if (req.method === 'POST') {
      const record = JSON.parse(body);
      rows.set(record.id, record);
      return json(res, 201, record);
    }
    if (req.method === 'GET' && rows.has(id)) return json(res, 200, rows.get(id));
    return json(res, 404, { error: 'no such contact' });
  });
  // The audit collector.
  const collector = await listen((req, res, body) => {
    events.push(JSON.parse(body));
    json(res, 200, {});
  });
  // The web site the form is on (another origin than the gateway: CORS).
  siteUrl = `http://${await listen((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page))}`;

  const settings = {
    origin_url: `http://${origin}`,
    audit_url: `http://${collector}/events`,
    key_set: { keys: [jwk] },
    token_options: { allowed_issuers: ['https://idp.test'], allowed_audiences: ['crm-api'] },
    policy,
    schemas: {
      contact: {
        object: 'contact', record_id: 'id', fields: {
          id: { action: 'clear' }, tenant_id: { action: 'clear' }, lifecycle_stage: { action: 'clear' },
          name: { action: 'encrypt' }, phone: { action: 'encrypt' }, national_id: { action: 'encrypt' },
          email: { action: 'blind-index', blind_index: { normalize: ['email'] } },
        },
      },
    },
    routes: [{ path: '/api/{tenant}/contacts', object: 'contact' }],
    master_key: MASTER,
    keyrings: { acme: JSON.parse(readFileSync(join(dir, 'acme.json'), 'utf8')) },
    cors_origins: [siteUrl],
  };
  writeFileSync(join(dir, 'edge.json'), JSON.stringify(settings));
  gateway = spawn(process.env.CRMGUARD_CLI, ['serve', '--listen', '127.0.0.1:0', '--edge', component, '--edge-config', join(dir, 'edge.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise((resolve, reject) => {
    createInterface({ input: gateway.stdout }).once('line', resolve);
    gateway.once('exit', (code) => reject(new Error(`crmguard serve --edge exited ${code}`)));
  });
  gatewayUrl = first.replace('crmguard serve: edge component listening on ', '').trim();
  assert.match(gatewayUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
});

after(() => {
  gateway?.kill('SIGTERM');
  for (const s of servers) s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a form posts through the gateway: the origin stores sealed values; reads are per caller', async () => {
  const typed = { name: 'Ada Lovelace', email: 'ada.lovelace@example.com', phone: '+44 20 7946 0958', national_id: 'QQ123456C' };
  const writer = await token({ sub: 'web-form', roles: ['sales_rep'], scope: 'crm.write' });
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const tab = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    const q = new URLSearchParams({ gateway: gatewayUrl, token: writer, tenant: 'acme', record: 'web-0042' });
    await tab.goto(`${siteUrl}/?${q}`);
    for (const [field, value] of Object.entries(typed)) await tab.fill(`#${field}`, value);
    await tab.click('#send');
    await tab.waitForFunction(() => document.getElementById('status').textContent.length > 0, null, { timeout: 30_000 });
    assert.equal(await tab.textContent('#status'), 'Thank you — we will be in touch.');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }

  // The origin got one write, and no plaintext of a sealed field in it.
  const writes = originRequests.filter((r) => r.method === 'POST');
  assert.equal(writes.length, 1);
  for (const secret of [typed.name, typed.email, typed.phone, typed.national_id, 'Lovelace', '7946', 'QQ123456']) {
    assert.ok(!writes[0].body.includes(secret), `the origin must not see ${JSON.stringify(secret)}`);
  }
  const stored = rows.get('web-0042');
  for (const field of ['name', 'phone', 'national_id']) assert.match(stored[field], /^cg1:/);
  assert.equal(stored.lifecycle_stage, 'lead');

  const read = async (claims) => {
    const r = await fetch(`${gatewayUrl}/api/acme/contacts/web-0042`, { headers: { authorization: `Bearer ${await token(claims)}` } });
    return { status: r.status, type: r.headers.get('content-type'), body: await r.json() };
  };
  const admin = await read({ sub: 'admin-1', roles: ['admin'] });
  assert.equal(admin.status, 200);
  assert.deepEqual(
    { name: admin.body.name, email: admin.body.email, phone: admin.body.phone, national_id: admin.body.national_id },
    typed,
  );
  const rep = await read({ sub: 'rep-1', roles: ['sales_rep'] });
  assert.equal(rep.status, 200);
  assert.notEqual(rep.body.name, typed.name);
  assert.ok(rep.body.phone.endsWith('0958') && !rep.body.phone.includes('7946'), rep.body.phone);
  assert.ok(!rep.body.email.startsWith('ada.lovelace'), rep.body.email);
  assert.equal(rep.body.national_id, undefined);
  const other = await read({ sub: 'g-1', roles: ['admin'], tenant: 'globex' });
  assert.equal(other.status, 403);
  assert.equal(other.type, 'application/problem+json');
  assert.equal(other.body.code, 'ERR_REQUEST_TENANT_MISMATCH');

  // Every decision was audited at the collector: the write, three reads; no value in any.
  assert.equal(events.length, 4);
  assert.deepEqual(events.map((e) => e.outcome.decision), ['allow', 'allow', 'allow', 'deny']);
  for (const secret of Object.values(typed)) assert.ok(!JSON.stringify(events).includes(secret));
});
