// verifyToken against tokens signed here with node:crypto (ES256, EdDSA, RS256), checked the
// same way by the Rust CLI (`crmguard token verify`) in the same run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, createSign } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyToken, CrmGuardError } from 'crmguard/tokens';
import { cli } from './helpers.mjs';

const b64u = (x) => Buffer.from(x).toString('base64url');
const now = 1767225600;
const keys = {};
let dir, jwksPath, jwks;

function jwt(alg, kid, claims) {
  const head = b64u(JSON.stringify({ alg, kid, typ: 'JWT' }));
  const body = b64u(JSON.stringify(claims));
  const input = Buffer.from(`${head}.${body}`);
  let sig;
  if (alg === 'ES256') sig = sign('sha256', input, { key: keys[kid].privateKey, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'EdDSA') sig = sign(null, input, keys[kid].privateKey);
  else sig = createSign('RSA-SHA256').update(input).sign(keys[kid].privateKey);
  return `${head}.${body}.${b64u(sig)}`;
}

before(() => {
  keys.es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  keys.ed = generateKeyPairSync('ed25519');
  keys.rs = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = (kid, alg) => ({ ...keys[kid].publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' });
  jwks = { keys: [jwk('es', 'ES256'), jwk('ed', 'EdDSA'), jwk('rs', 'RS256')] };
  dir = mkdtempSync(join(tmpdir(), 'crmguard-js-tokens-'));
  jwksPath = join(dir, 'jwks.json');
  writeFileSync(jwksPath, JSON.stringify(jwks));
});

after(() => rmSync(dir, { recursive: true, force: true }));

const claims = { iss: 'https://idp.example', aud: 'crm', sub: 'u-1001', tenant: 'acme', iat: now - 10, exp: now + 600 };
const cliVerify = (token, extra = []) => cli(['token', 'verify', '--jwks', jwksPath, '--now', String(now), ...extra], token + '\n');
// Issuer and audience are required unless waived, in the package as in the CLI.
const checks = { now, issuers: ['https://idp.example'], audiences: ['crm'] };
const cliChecks = ['--issuer', 'https://idp.example', '--audience', 'crm'];

test('ES256, EdDSA and RS256 tokens verify to the same claims as the Rust CLI', () => {
  for (const [alg, kid] of [['ES256', 'es'], ['EdDSA', 'ed'], ['RS256', 'rs']]) {
    const token = jwt(alg, kid, claims);
    const got = verifyToken(token, jwks, { now, issuers: ['https://idp.example'], audiences: ['crm'] });
    assert.deepEqual(got, claims, alg);
    assert.deepEqual(JSON.parse(cliVerify(token, ['--issuer', 'https://idp.example', '--audience', 'crm']).toString()), got, alg);
  }
});

test('expired, wrong audience, tampered and unknown-key tokens fail with the CLI codes', () => {
  const thrown = (fn) => { try { fn(); } catch (e) { assert.ok(e instanceof CrmGuardError, String(e)); return e; } assert.fail('accepted'); };
  const code = (fn) => thrown(fn).code;
  // jose's claim and reason, on claim failures only.
  const claimOf = (fn) => { const e = thrown(fn); return [e.code, e.claim, e.reason]; };
  const cliCode = (token, extra) => { try { cliVerify(token, extra); } catch (e) { return e.stderr.split(':')[0]; } assert.fail('CLI accepted'); };
  const expired = jwt('ES256', 'es', { ...claims, exp: now - 3600 });
  assert.deepEqual(claimOf(() => verifyToken(expired, jwks, checks)), ['ERR_JWT_EXPIRED', 'exp', 'check_failed']);
  assert.equal(cliCode(expired, cliChecks), 'ERR_JWT_EXPIRED');
  const token = jwt('EdDSA', 'ed', claims);
  assert.deepEqual(claimOf(() => verifyToken(token, jwks, { ...checks, audiences: ['other'] })), ['ERR_JWT_CLAIM_VALIDATION_FAILED', 'aud', 'check_failed']);
  assert.equal(cliCode(token, ['--issuer', 'https://idp.example', '--audience', 'other']), 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  const noIss = jwt('EdDSA', 'ed', { ...claims, iss: undefined });
  assert.deepEqual(claimOf(() => verifyToken(noIss, jwks, checks)), ['ERR_JWT_CLAIM_VALIDATION_FAILED', 'iss', 'missing']);
  const [h, , s] = token.split('.');
  const tampered = `${h}.${b64u(JSON.stringify({ ...claims, sub: 'admin' }))}.${s}`;
  assert.equal(code(() => verifyToken(tampered, jwks, checks)), cliCode(tampered, cliChecks));
  assert.deepEqual(claimOf(() => verifyToken(tampered, jwks, checks)), ['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', undefined, undefined]);
  const other = jwt('EdDSA', 'ed', claims).replace(/^[^.]+/, b64u(JSON.stringify({ alg: 'EdDSA', kid: 'nope' })));
  assert.equal(code(() => verifyToken(other, jwks, checks)), cliCode(other, cliChecks));
  assert.match(code(() => verifyToken(token, { keys: [] }, checks)), /^ERR_JWKS_/);
  assert.ok(code(() => verifyToken('not.a.jwt', jwks, checks)).startsWith('ERR_J'));
});

test('issuer and audience are required unless waived; typ is checked', () => {
  const code = (fn) => { try { fn(); } catch (e) { assert.ok(e instanceof CrmGuardError, String(e)); return e.code; } return 'OK'; };
  const cliCode = (token, extra) => { try { cliVerify(token, extra); } catch (e) { return e.stderr.split(':')[0]; } return 'OK'; };
  const token = jwt('ES256', 'es', claims);
  assert.equal(code(() => verifyToken(token, jwks, { now })), 'ERR_JWT_OPTIONS');
  assert.equal(cliCode(token, []), 'ERR_JWT_OPTIONS');
  assert.equal(code(() => verifyToken(token, jwks, { now, issuers: ['https://idp.example'] })), 'ERR_JWT_OPTIONS');
  assert.equal(code(() => verifyToken(token, jwks, { now, anyIssuer: true, anyAudience: true })), 'OK');
  assert.equal(cliCode(token, ['--any-issuer', '--any-audience']), 'OK');
  // An ID token (typ JWT) is not an RFC 9068 access token.
  // jose reports a typ it does not accept as a claim validation failure on "typ".
  assert.equal(code(() => verifyToken(token, jwks, { ...checks, tokenType: 'at+jwt' })), 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  assert.equal(cliCode(token, [...cliChecks, '--access-token']), 'ERR_JWT_CLAIM_VALIDATION_FAILED');
  assert.throws(() => verifyToken(token, jwks, { ...checks, tokenType: 'nonsense' }), TypeError);
});
