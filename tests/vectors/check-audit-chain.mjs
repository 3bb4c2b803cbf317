// Verifies tests/vectors/audit-chain.json with nothing but Node's standard library, following
// docs/AUDIT.md: an independent check that the specification is enough to verify a chain.
// Usage: node tests/vectors/check-audit-chain.mjs [path/to/audit-chain.json]
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? new URL('./audit-chain.json', import.meta.url);
const doc = JSON.parse(readFileSync(path, 'utf8'));
const out = doc.outputs;

// RFC 8785 for the values audit documents hold (objects, arrays, strings, safe integers):
// members sorted by UTF-16 code units, JSON.stringify for strings and numbers.
const jcs = (v) =>
  Array.isArray(v) ? `[${v.map(jcs).join(',')}]`
  : v !== null && typeof v === 'object'
    ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`
    : JSON.stringify(v);
const sha256 = (...parts) => { const h = createHash('sha256'); parts.forEach((p) => h.update(p)); return h.digest(); };
const without = (o, k) => Object.fromEntries(Object.entries(o).filter(([m]) => m !== k));
const fail = (msg) => { console.error(msg); process.exit(1); };

const pub = Buffer.from(out.public_key_hex, 'hex');
const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' });
const leaf = (h) => sha256(Buffer.from([0]), h);
const node = (l, r) => sha256(Buffer.from([1]), l, r);
const mth = (leaves) => {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0];
  let k = 1; while (k * 2 < leaves.length) k *= 2;
  return node(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
};

let prev = null, seq = 0, leaves = [], checkpoints = 0;
for (const line of out.log_jsonl.split('\n').filter(Boolean)) {
  const obj = JSON.parse(line);
  if (jcs(obj) !== line) fail(`line not canonical at seq ${seq}`);
  if (obj.kind === 'crmguard.checkpoint') {
    const msg = Buffer.concat([Buffer.from('crmguard/audit/checkpoint/v1\0'), Buffer.from(jcs(without(obj, 'signature')))]);
    if (!verify(null, msg, key, Buffer.from(obj.signature, 'base64'))) fail(`ERR_AUDIT_SIGNATURE at ${seq}`);
    if (obj.size !== seq || obj.head_hash !== prev.toString('hex') || obj.root_hash !== mth(leaves).toString('hex')) fail('ERR_AUDIT_CHECKPOINT');
    checkpoints++;
    continue;
  }
  if (obj.seq !== seq) fail(`ERR_AUDIT_SEQ at ${seq}`);
  if (seq === 0) prev = sha256(Buffer.from('crmguard/audit/genesis/v1\0'), Buffer.from(obj.metadata.log_name));
  if (obj.prev_hash !== prev.toString('hex')) fail(`ERR_AUDIT_HASH (prev) at ${seq}`);
  const h = sha256(Buffer.from('crmguard/audit/record/v1\0'), Buffer.from(jcs(without(obj, 'hash'))));
  if (h.toString('hex') !== obj.hash) fail(`ERR_AUDIT_HASH at ${seq}`);
  prev = h; leaves.push(leaf(h)); seq++;
}

// The inclusion proof (RFC 9162 §2.1.3.2).
const p = doc.outputs.inclusion_proof;
let [fn, sn] = [p.record.seq, p.checkpoint.size - 1];
let r = leaf(sha256(Buffer.from('crmguard/audit/record/v1\0'), Buffer.from(jcs(without(p.record, 'hash')))));
for (const hx of p.audit_path) {
  const x = Buffer.from(hx, 'hex');
  if (fn % 2 === 1 || fn === sn) { r = node(x, r); if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn >>= 1; sn >>= 1; } }
  else r = node(r, x);
  fn >>= 1; sn >>= 1;
}
if (sn !== 0 || r.toString('hex') !== p.checkpoint.root_hash) fail('ERR_AUDIT_PROOF');
console.log(`ok: ${seq} records, ${checkpoints} checkpoints, inclusion proof for seq ${p.record.seq} verified`);
