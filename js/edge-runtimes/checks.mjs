// The package's checks for an edge runtime (workerd, Deno), with web-platform API only: no
// Buffer, no node:*, no file system. The caller passes the three entry points, already
// initialised, and `data`: the published vectors (tests/vectors) and token cases signed by the
// driver (run.mjs). Every check throws on a mismatch; the report counts what each check ran
// and carries the deterministic outputs, which the driver compares across runtimes.

const dec = new TextDecoder();
const hexOf = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const bytesOf = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
const b64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function fail(what, got, want) {
  throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
function eq(what, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) fail(what, got, want);
}
/** The stable code `fn` fails with (a CrmGuardError of `mod`), or 'OK'. */
function codeOf(mod, fn) {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof mod.CrmGuardError)) throw new Error(`not a CrmGuardError: ${e}`);
    return e.code;
  }
  return 'OK';
}
async function asyncCodeOf(mod, fn) {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof mod.CrmGuardError)) throw new Error(`not a CrmGuardError: ${e}`);
    return e.code;
  }
  return 'OK';
}

const ctxOf = (v) => ({
  tenant: v.tenant, object: v.object, record: v.record, field: v.field,
  ...(v.subject ? { subject: v.subject } : {}),
});
const zero32 = new Uint8Array(32);

/** The keyring a sealed-field vector was sealed with, from its published bytes only. */
function keyringFor(crmguard, v) {
  if (v.scope !== 'subject') return crmguard.Keyring.fromKeys(v.key_id, bytesOf(v.key_hex), zero32);
  const file = {
    format: 'crmguard-keyring/v1',
    protection: 'none',
    warning: 'INSECURE: this keyring is stored in cleartext',
    keyring: {
      format: 'crmguard-keyring/v1',
      primary: 1,
      keys: [{ id: 1, status: 'active', created: 0, material: b64url(zero32) }],
      blind_index_root: b64url(zero32),
      subjects: [{ id: v.subject ?? 'contact-0042', generation: v.key_id, created: 0, material: b64url(bytesOf(v.key_hex)) }],
      forgotten: [],
    },
  };
  return crmguard.Keyring.fromJson(JSON.stringify(file), { allowCleartext: true });
}

function sealedVectors(crmguard, doc, report) {
  for (const v of doc.vectors) {
    const k = keyringFor(crmguard, v);
    eq(`sealed vector ${v.id}`, hexOf(k.openFieldBytes(ctxOf(v), v.sealed)), v.plaintext_hex);
    if (v.content_type === 'json') {
      eq(`sealed vector ${v.id} (json)`, k.openField(ctxOf(v), v.sealed), JSON.parse(dec.decode(bytesOf(v.plaintext_hex))));
    }
    k.free();
  }
  report.count('sealed-field vectors opened', doc.vectors.length);
  for (const v of doc.invalid) {
    const k = keyringFor(crmguard, v);
    eq(`invalid sealed vector ${v.id}`, codeOf(crmguard, () => k.openField(ctxOf(v), v.sealed)), v.error);
    k.free();
  }
  report.count('invalid sealed-field vectors refused with their code', doc.invalid.length);
  for (const v of doc.blind_indexes) {
    const k = crmguard.Keyring.fromKeys(1, zero32, bytesOf(v.blind_index_root_hex));
    const spec = { tenant: v.tenant, object: v.object, field: v.field, normalize: v.normalize, bits: v.bits };
    eq(`blind-index vector ${v.value}`, k.blindIndex(spec, v.value), v.index);
    k.free();
  }
  report.count('blind-index vectors computed', doc.blind_indexes.length);
}

async function sealAndOpen(crmguard, report) {
  const k = crmguard.Keyring.fromKeys(3, new Uint8Array(32).fill(7), new Uint8Array(32).fill(9));
  const ctx = { tenant: 'acme', object: 'contact', record: 'c-42', field: 'email' };
  const values = ['ada@example.com', '', 'Jürgen Groß — 東京 ✓', 42, { a: [true, null] }];
  for (const v of values) eq(`round trip ${JSON.stringify(v)}`, k.openField(ctx, k.sealField(ctx, v)), v);
  eq('moved to another record', codeOf(crmguard, () => k.openField({ ...ctx, record: 'c-43' }, k.sealField(ctx, 'x'))), 'ERR_SEALED_FIELD_AUTH');
  eq('an unknown format version', codeOf(crmguard, () => k.openField(ctx, 'cg1:AAAA')), 'ERR_SEALED_FIELD_UNSUPPORTED');
  // Above the crossover the AES-GCM step runs in the runtime's WebCrypto; same format.
  const note = 'n'.repeat(crmguard.WEBCRYPTO_MIN_BYTES + 17);
  const viaWebCrypto = await k.sealFieldAsync(ctx, note);
  eq('WebCrypto-sealed opens synchronously', k.openField(ctx, viaWebCrypto), note);
  eq('sync-sealed opens through WebCrypto', await k.openFieldAsync(ctx, k.sealField(ctx, note)), note);
  eq('WebCrypto open of a moved value', await asyncCodeOf(crmguard, () => k.openFieldAsync({ ...ctx, field: 'phone' }, viaWebCrypto)), 'ERR_SEALED_FIELD_AUTH');
  k.free();
  report.count('seal/open round trips (sync and WebCrypto)', values.length + 2);
}

function records(crmguard, data, report) {
  const k = crmguard.Keyring.fromKeys(3, new Uint8Array(32).fill(7), new Uint8Array(32).fill(9));
  const schema = new crmguard.RecordSchema(data.schema);
  const sealed = k.sealRecord(schema, data.record, { tenant: 'acme' });
  const text = JSON.stringify(sealed);
  for (const plain of data.secrets) if (text.includes(plain)) fail('plaintext in a sealed record', plain, 'absent');
  eq('record round trip', k.openRecord(schema, sealed, { tenant: 'acme' }), data.record);
  eq('record of another tenant', codeOf(crmguard, () => k.openRecord(schema, sealed, { tenant: 'other' })), 'ERR_SEALED_FIELD_AUTH');
  eq('unknown field', codeOf(crmguard, () => k.sealRecord(schema, { ...data.record, ssn: '1' }, { tenant: 'acme' })), 'ERR_RECORD_INVALID');
  report.out.blind = sealed._blind;
  report.out.email = k.blindIndex({ tenant: 'acme', object: 'contact', field: 'email', normalize: ['email'], bits: 32 }, '  ADA@example.com ');
  eq('record index equals blindIndex', sealed._blind.email, report.out.email);
  schema.free();
  k.free();
  report.count('records sealed, opened and refused', 4);
}

function hpke(crmguard, doc, report) {
  const sk = bytesOf(doc.tenant_secret_key_hex);
  eq('tenant public key', hexOf(crmguard.tenantPublicKey(sk)), doc.tenant_public_key_hex);
  for (const v of doc.vectors) eq(`HPKE vector ${v.id}`, hexOf(crmguard.openFromTenantBytes(sk, ctxOf(v), v.sealed)), v.plaintext_hex);
  report.count('HPKE vectors opened', doc.vectors.length);
  for (const v of doc.invalid) eq(`invalid HPKE vector ${v.id}`, codeOf(crmguard, () => crmguard.openFromTenant(sk, ctxOf(v), v.sealed)), v.error);
  report.count('invalid HPKE vectors refused with their code', doc.invalid.length);
  const { publicKey, secretKey } = crmguard.generateTenantKeyPair();
  const ctx = { tenant: 'acme', object: 'contact', record: '7', field: 'phone' };
  const sealed = crmguard.sealToTenant(publicKey, ctx, '+49 30 1234567');
  eq('sealed to the tenant here', crmguard.openFromTenant(secretKey, ctx, sealed), '+49 30 1234567');
  const k = crmguard.Keyring.fromKeys(1, new Uint8Array(32).fill(5), zero32);
  eq('re-sealed under the keyring', k.openField(ctx, k.sealFromTenant(secretKey, ctx, sealed)), '+49 30 1234567');
  k.free();
  report.count('HPKE seal, open and re-seal here', 2);
}

function tokens(mod, data, report) {
  const verdicts = {};
  for (const c of data.tokens.cases) {
    let got;
    try {
      got = { claims: mod.verifyToken(c.token, c.jwks ?? data.tokens.jwks, c.options) };
    } catch (e) {
      if (!(e instanceof mod.CrmGuardError)) throw new Error(`token case ${c.name}: not a CrmGuardError: ${e}`);
      got = { code: e.code, ...(e.claim ? { claim: e.claim, reason: e.reason } : {}) };
    }
    eq(`token case ${c.name}`, got, c.expect);
    verdicts[c.name] = got;
  }
  report.out.tokens = verdicts;
  report.count('token cases verified or refused with their code', data.tokens.cases.length);
}

function auditChain(mod, doc, report) {
  const { inputs, outputs } = doc;
  const chain = new mod.AuditChain(inputs.log_id, {
    productVersion: inputs.product_version,
    pseudonymKey: bytesOf(inputs.pseudonym_key),
    pseudonymizeActors: inputs.pseudonymize_actors,
    pseudonymizeSubjects: inputs.pseudonymize_subjects,
  });
  const lines = [];
  let checkpoints = 0;
  for (const [i, { time, event }] of inputs.events.entries()) {
    const line = mod.buildAuditRecord(chain, event, time);
    eq(`audit record ${i}`, line, outputs.records[i].line);
    lines.push(line);
    if (inputs.checkpoint_after.includes(i + 1)) {
      const published = outputs.checkpoints[checkpoints];
      const c = chain.checkpoint(bytesOf(inputs.signing_seed), bytesOf(inputs.pseudonym_key), JSON.parse(published.line).time);
      eq(`checkpoint ${checkpoints}`, c, published.line);
      lines.push(c);
      checkpoints += 1;
    }
  }
  eq('audit log', lines.join('\n') + '\n', outputs.log_jsonl);
  report.count('audit records and checkpoints rebuilt byte for byte', outputs.records.length + checkpoints);
  chain.free();
  const keys = [bytesOf(outputs.public_key_hex)];
  const ok = mod.verifyAuditLog(outputs.log_jsonl, { verifyingKeys: keys, logId: inputs.log_id });
  eq('verified log size', ok.size, outputs.records.length);
  report.out.auditHead = ok.headHash;
  const tampered = outputs.log_jsonl.replace('"u-1001"', '"u-1009"');
  if (tampered === outputs.log_jsonl) fail('tampering changed nothing', tampered.length, 'a change');
  const code = codeOf(mod, () => mod.verifyAuditLog(tampered, { verifyingKeys: keys }));
  if (!code.startsWith('ERR_AUDIT_')) fail('tampered log', code, 'ERR_AUDIT_*');
  report.out.auditTampered = code;
  report.count('audit logs verified or refused', 2);
}

/**
 * Runs every check; returns `{ counts, out }` or throws the first mismatch. `runtimeChecks`
 * are the caller's own (e.g. that workerd refuses to compile wasm from bytes).
 */
export async function runChecks({ crmguard, audit, tokens: tokenMod, data }) {
  const report = {
    counts: {},
    out: {},
    count(name, n) {
      if (!(n > 0)) fail(`check "${name}" ran no case`, n, '> 0');
      this.counts[name] = n;
    },
  };
  eq('error codes', crmguard.errorCodes().length > 20, true);
  sealedVectors(crmguard, data.sealed, report);
  await sealAndOpen(crmguard, report);
  records(crmguard, data.records, report);
  hpke(crmguard, data.hpke, report);
  tokens(tokenMod, data, report);
  auditChain(audit, data.audit, report);
  // One error class across the three entry points.
  eq('one CrmGuardError class', new audit.CrmGuardError('ERR_X', 'x') instanceof crmguard.CrmGuardError, true);
  return { counts: report.counts, out: report.out };
}
