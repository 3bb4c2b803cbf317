// Token verification per algorithm: the package's `verifyToken` (crmguard/tokens, Rust
// compiled to wasm) vs jose's `jwtVerify` (WebCrypto, i.e. OpenSSL in Node), on the same
// tokens and the same JWKS, in one run. Before timing, both must accept every token with the
// same claims and reject a tampered one. The HMAC key is in a set of its own (the package
// refuses sets that mix symmetric and asymmetric keys); the others share one set.
//
//   node bench/tokens.mjs            (after the package is built: `cargo xtask test`)
import assert from 'node:assert/strict';
import { SignJWT, jwtVerify, createLocalJWKSet, generateKeyPair, exportJWK, importJWK } from 'jose';
import { verifyToken } from 'crmguard/tokens';

const now = 1767225600;
const claims = {
  iss: 'https://idp.example', aud: 'crm', sub: 'u-1001', iat: now - 10, exp: now + 600,
  tenant: 'acme', roles: ['sales', 'support'], scope: 'contacts:read contacts:write',
};
const checks = { issuers: ['https://idp.example'], audiences: ['crm'], now };
const joseChecks = { issuer: 'https://idp.example', audience: 'crm', currentDate: new Date(now * 1000) };

const algorithms = ['HS256', 'EdDSA', 'ES256', 'ES384', 'RS256', 'PS256'];
const hmacSet = { keys: [] };
const publicSet = { keys: [] };
const tokens = {};
for (const alg of algorithms) {
  const kid = `k-${alg.toLowerCase()}`;
  let signingKey;
  if (alg === 'HS256') {
    signingKey = crypto.getRandomValues(new Uint8Array(32));
    hmacSet.keys.push({ kty: 'oct', k: Buffer.from(signingKey).toString('base64url'), kid, alg, use: 'sig' });
  } else {
    const pair = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
    signingKey = pair.privateKey;
    publicSet.keys.push({ ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' });
  }
  tokens[alg] = await new SignJWT(claims).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(signingKey);
}
const setFor = (alg) => (alg === 'HS256' ? hmacSet : publicSet);
const texts = Object.fromEntries(algorithms.map((alg) => [alg, JSON.stringify(setFor(alg))]));
// jose's createLocalJWKSet takes asymmetric keys only: for HS256 it gets the set's one JWK
// through importJWK (the same key material).
const joseKey = (alg, set) => (alg === 'HS256' ? importJWK(set.keys[0], alg) : createLocalJWKSet(set));
const localSets = Object.fromEntries(await Promise.all(algorithms.map(async (alg) => [alg, await joseKey(alg, setFor(alg))])));

for (const alg of algorithms) {
  const [token, jwksText, localSet] = [tokens[alg], texts[alg], localSets[alg]];
  assert.deepEqual(verifyToken(token, jwksText, checks), claims, alg);
  assert.deepEqual((await jwtVerify(token, localSet, joseChecks)).payload, claims, alg);
  const tampered = token.slice(0, -4) + (token.at(-4) === 'A' ? 'B' : 'A') + token.slice(-3);
  assert.throws(() => verifyToken(tampered, jwksText, checks), (e) => e.code?.startsWith('ERR_JWS'), alg);
  await assert.rejects(jwtVerify(tampered, localSet, joseChecks), alg);
}

async function rate(fn, ms = 1000) {
  for (let i = 0; i < 50; i++) await fn(); // warm-up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) { await fn(); n += 1; }
  return (n * 1000) / (performance.now() - start);
}

const { version } = JSON.parse(await (await import('node:fs/promises')).readFile(new URL('../node_modules/jose/package.json', import.meta.url), 'utf8'));
console.log(`node ${process.version}, ${process.arch}; jose ${version}; token ${tokens.RS256.length} chars (RS256), JWKS of ${publicSet.keys.length} public keys (HS256: 1 oct key)`);
console.log('| algorithm | package verifyToken/s (JWKS text per call) | jose jwtVerify/s (key set built once) | jose jwtVerify/s (key set built per call) |');
console.log('| --- | ---: | ---: | ---: |');
for (const alg of algorithms) {
  const [token, jwksText, localSet] = [tokens[alg], texts[alg], localSets[alg]];
  const pkg = await rate(() => verifyToken(token, jwksText, checks));
  const jose = await rate(() => jwtVerify(token, localSet, joseChecks));
  const joseFresh = await rate(async () => jwtVerify(token, await joseKey(alg, JSON.parse(jwksText)), joseChecks));
  console.log(`| ${alg} | ${Math.round(pkg)} | ${Math.round(jose)} | ${Math.round(joseFresh)} |`);
}
