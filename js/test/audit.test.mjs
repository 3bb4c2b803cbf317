// Audit records built in JS are byte-identical with the core's published chain
// (tests/vectors/audit-chain.json); the published log verifies, and a modified one fails with
// the core's stable code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditChain, buildAuditRecord, verifyAuditLog, CrmGuardError } from 'crmguard/audit';
import { readJson, hex } from './helpers.mjs';

const doc = readJson('tests/vectors/audit-chain.json');
const { inputs, outputs } = doc;

test('buildAuditRecord reproduces every published record and checkpoint line', () => {
  const chain = new AuditChain(inputs.log_id, {
    productVersion: inputs.product_version,
    pseudonymKey: hex(inputs.pseudonym_key),
    pseudonymizeActors: inputs.pseudonymize_actors,
    pseudonymizeSubjects: inputs.pseudonymize_subjects,
  });
  const lines = [];
  let built = 0;
  for (const [i, { time, event }] of inputs.events.entries()) {
    const line = buildAuditRecord(chain, event, time);
    assert.equal(line, outputs.records[i].line, `record ${i}`);
    lines.push(line);
    built += 1;
    if (inputs.checkpoint_after.includes(i + 1)) {
      // The checkpoint's time is an input of the vector (published with its line).
      const published = outputs.checkpoints[lines.filter((l) => l.includes('"crmguard.checkpoint"')).length];
      const c = chain.checkpoint(hex(inputs.signing_seed), hex(inputs.pseudonym_key), JSON.parse(published.line).time);
      assert.equal(c, published.line);
      lines.push(c);
    }
  }
  assert.equal(built, outputs.records.length);
  assert.equal(chain.size, outputs.records.length);
  assert.equal(lines.join('\n') + '\n', outputs.log_jsonl);
  chain.free();
});

test('verifyAuditLog accepts the published log and rejects a modified one', () => {
  const keys = [hex(outputs.public_key_hex)];
  const ok = verifyAuditLog(outputs.log_jsonl, { verifyingKeys: keys, logId: inputs.log_id });
  assert.equal(ok.logId, inputs.log_id);
  assert.equal(ok.size, outputs.records.length);
  const tampered = outputs.log_jsonl.replace('"u-1001"', '"u-1009"');
  assert.notEqual(tampered, outputs.log_jsonl);
  assert.throws(() => verifyAuditLog(tampered, { verifyingKeys: keys }), (e) => e instanceof CrmGuardError && e.code.startsWith('ERR_AUDIT_'));
  const dropped = outputs.log_jsonl.split('\n').filter((_, i) => i !== 1).join('\n');
  assert.throws(() => verifyAuditLog(dropped, { verifyingKeys: keys }), (e) => e instanceof CrmGuardError && e.code.startsWith('ERR_AUDIT_'));
});
