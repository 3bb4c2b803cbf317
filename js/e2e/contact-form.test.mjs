// Browser end to end: the contact-form example in headless Debian chromium (playwright-core).
// The page seals e-mail and phone to the tenant's public key with the package's browser entry
// and posts to a loopback endpoint run here; the captured body must hold no plaintext, and
// the Rust CLI must open each value with the tenant's private key to exactly what was typed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { cli, contextArgs } from '../test/helpers.mjs';

const pkgDir = fileURLToPath(new URL('../', import.meta.url));
const exampleDir = fileURLToPath(new URL('../examples/contact-form/', import.meta.url));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

let dir, server, origin, keyPath, publicKey;
const submissions = [];
const requested = [];

function serveFile(res, base, rel) {
  const path = normalize(join(base, rel));
  if (!path.startsWith(base) || !existsSync(path) || !statSync(path).isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
  res.end(readFileSync(path));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'crmguard-e2e-'));
  keyPath = join(dir, 'tenant.key');
  cli(['tenant-key', 'new', '--out', keyPath, '--public-out', join(dir, 'tenant.pub')]);
  publicKey = readFileSync(join(dir, 'tenant.pub'), 'utf8').trim();
  server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    requested.push(url.pathname);
    if (req.method === 'POST' && url.pathname === '/submit') {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        submissions.push({ contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
      return;
    }
    if (url.pathname === '/form-config') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ tenant: 'acme', record: 'web-0001', publicKey, submit: '/submit' }));
      return;
    }
    if (url.pathname.startsWith('/crmguard/')) return serveFile(res, pkgDir, url.pathname.slice('/crmguard/'.length));
    return serveFile(res, exampleDir, url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the contact form seals e-mail and phone in chromium; only the tenant key opens them', async () => {
  const profile = join(dir, 'profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const typed = { name: 'Ada Lovelace', email: 'ada.lovelace@example.com', phone: '+44 20 7946 0958' };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${origin}/`);
    await page.waitForSelector('#send:not([disabled])', { timeout: 30_000 });
    await page.fill('#name', typed.name);
    await page.fill('#email', typed.email);
    await page.fill('#phone', typed.phone);
    await page.click('#send');
    await page.waitForFunction(() => document.getElementById('status').textContent.length > 0, null, { timeout: 30_000 });
    assert.equal(await page.textContent('#status'), 'Thank you — we will be in touch.');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }

  // The .wasm was fetched from the package (compiled streaming: served as application/wasm).
  assert.ok(requested.includes('/crmguard/pkg/crmguard_wasm_bg.wasm'), requested.join(' '));
  assert.equal(submissions.length, 1);
  const { body, contentType } = submissions[0];
  assert.equal(contentType, 'application/json');
  for (const secret of [typed.email, typed.phone, 'ada.lovelace', 'example.com', '7946', '0958']) {
    assert.ok(!body.includes(secret), `request body must not contain ${JSON.stringify(secret)}`);
  }
  const posted = JSON.parse(body);
  assert.equal(posted.record, 'web-0001');
  for (const field of ['email', 'phone']) {
    assert.match(posted[field], /^cgh1:[A-Za-z0-9_-]+$/);
    const ctx = { tenant: 'acme', object: 'contact', record: 'web-0001', field };
    const opened = cli(['tenant-key', 'open', '--key', keyPath, ...contextArgs(ctx)], posted[field]).toString('utf8');
    assert.equal(opened, typed[field]);
  }
  // Bound to its field: the e-mail value does not open as the phone.
  assert.throws(
    () => cli(['tenant-key', 'open', '--key', keyPath, ...contextArgs({ tenant: 'acme', object: 'contact', record: 'web-0001', field: 'phone' })], posted.email),
    (e) => e.stderr.startsWith('ERR_TENANT_SEALED_AUTH'),
  );
});

test('in chromium the async methods seal and open large values through WebCrypto, in the format Node opens', async () => {
  const profile = join(dir, 'profile-webcrypto');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const key = Array.from(crypto.getRandomValues(new Uint8Array(32)));
  const ctx = { tenant: 'acme', object: 'contact', record: 'web-0002', field: 'notes' };
  let result;
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${origin}/`); // the page's import map resolves `crmguard`
    result = await page.evaluate(async ({ key, ctx }) => {
      const { default: init, Keyring, WEBCRYPTO_MIN_BYTES } = await import('crmguard');
      await init();
      let gcmEncrypts = 0;
      const encrypt = crypto.subtle.encrypt.bind(crypto.subtle);
      crypto.subtle.encrypt = (algorithm, ...rest) => {
        if (algorithm?.name === 'AES-GCM') gcmEncrypts += 1;
        return encrypt(algorithm, ...rest);
      };
      const k = Keyring.fromKeys(1, new Uint8Array(key), new Uint8Array(32));
      const note = 'Met at the fair; prefers e-mail. '.repeat(128); // 4 KiB
      const sealed = await k.sealFieldAsync(ctx, note);
      const roundTrips = k.openField(ctx, sealed) === note && (await k.openFieldAsync(ctx, k.sealField(ctx, note))) === note;
      let code;
      try { await k.openFieldAsync({ ...ctx, record: 'web-0003' }, sealed); } catch (e) { code = e.code; }
      k.free();
      return { sealed, note, roundTrips, code, gcmEncrypts, min: WEBCRYPTO_MIN_BYTES, secure: isSecureContext };
    }, { key, ctx });
  } finally {
    await context.close();
  }
  assert.equal(result.secure, true);
  assert.ok(result.note.length >= result.min);
  assert.equal(result.gcmEncrypts, 1, 'the large value was encrypted by WebCrypto');
  assert.equal(result.roundTrips, true);
  assert.equal(result.code, 'ERR_SEALED_FIELD_AUTH');
  // What chromium's WebCrypto path sealed, the package in Node (wasm AES-GCM) opens.
  const { Keyring } = await import('crmguard');
  const k = Keyring.fromKeys(1, new Uint8Array(key), new Uint8Array(32));
  assert.equal(k.openField(ctx, result.sealed), result.note);
  k.free();
});
