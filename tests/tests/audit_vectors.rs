//! tests/vectors/audit-chain.json: a small audit chain (records, canonical bytes, hashes,
//! checkpoints with the signing public key and signatures, an inclusion and a consistency
//! proof) generated from a fixed Ed25519 seed. Core must reproduce every byte from the
//! file's inputs.
//!
//! Regenerate (only when the format changes on purpose) with
//! `CRMGUARD_WRITE_VECTORS=1 cargo test -p crmguard-conformance --test audit_vectors`.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use crmguard_core::{
    Anchor, AuditChain, AuditEvent, AuditRecord, AuditSigningKey, ChainVerifier, Checkpoint,
    ConsistencyProof, InclusionProof, RecordOptions, genesis_hash, merkle,
};
use serde_json::{Value, json};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/audit-chain.json");

/// The inputs used when (re)generating the file.
fn default_inputs() -> Value {
    let actor = |uid: &str| json!({"uid": uid, "tenant": "acme", "roles": ["sales", "emea"]});
    json!({
        "signing_seed": hex::encode([0x11u8; 32]),
        "pseudonym_key": hex::encode([0x22u8; 32]),
        "log_id": "log-vectors-1",
        "product_version": "0.1.0",
        "pseudonymize_actors": false,
        "pseudonymize_subjects": true,
        "checkpoint_after": [3, 5],
        "events": [
            {"time": 1_767_225_600_000u64, "event": {
                "class": "api_activity", "activity": "read", "actor": actor("u-1001"),
                "source": {"ip": "203.0.113.7", "port": 443},
                "operation": "contacts.get", "request_id": "req-1",
                "resources": [{"type": "contact", "uid": "c-42", "fields": [
                    {"name": "email", "action": "encrypt"}, {"name": "ssn", "action": "deny"}]}],
                "outcome": {"decision": "allow"}}},
            {"time": 1_767_225_600_010u64, "event": {
                "class": "authorization", "activity": "assign_privileges", "actor": actor("u-1002"),
                "request_id": "req-2",
                "outcome": {"decision": "deny", "reason": "role \"sales\" may not export"}}},
            {"time": 1_767_225_600_020u64, "event": {
                "class": "key_event", "activity": "rotate", "actor": actor("ops-1"),
                "operation": "keys.rotate",
                "resources": [{"type": "key", "uid": "keyring/acme/7"}],
                "outcome": {"decision": "allow"}}},
            {"time": 1_767_225_600_030u64, "event": {
                "class": "subject_erasure", "activity": "erase", "actor": actor("dpo-1"),
                "operation": "subject.forget",
                "resources": [{"type": "data_subject", "uid": "alice@example.com"}],
                "outcome": {"decision": "allow"}}},
            {"time": 1_767_225_600_040u64, "event": {
                "class": "authentication", "activity": "logon", "actor": actor("u-1003"),
                "source": {"ip": "2001:db8::5"},
                "outcome": {"decision": "allow", "reason": "mfa ok — ünïcødé"}}}
        ]
    })
}

fn h32(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

/// Everything the file publishes, computed by core from `inputs`.
fn compute(inputs: &Value) -> Value {
    let key =
        AuditSigningKey::from_seed(&h32(&inputs["signing_seed"]), h32(&inputs["pseudonym_key"]));
    let vk = key.verifying_key();
    let mut opts = RecordOptions::new(
        inputs["product_version"].as_str().unwrap(),
        Some(key.pseudonym_key().clone()),
    );
    opts.pseudonymize_actors = inputs["pseudonymize_actors"].as_bool().unwrap();
    opts.pseudonymize_subjects = inputs["pseudonymize_subjects"].as_bool().unwrap();
    let log_id = inputs["log_id"].as_str().unwrap();
    let mut chain = AuditChain::new(log_id, opts).unwrap();
    let cp_after: Vec<u64> = inputs["checkpoint_after"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let mut records = Vec::new();
    let mut recs = Vec::new();
    let mut checkpoints = Vec::new();
    let mut lines = Vec::new();
    for e in inputs["events"].as_array().unwrap() {
        let event: AuditEvent = serde_json::from_value(e["event"].clone()).unwrap();
        let time = e["time"].as_u64().unwrap();
        let rec = chain.append(&event, time).unwrap();
        records.push(json!({
            "seq": rec.seq,
            "line": rec.to_line(),
            "hashed_bytes_hex": hex::encode([b"crmguard/audit/record/v1\0".as_slice(), &rec.canonical_body()].concat()),
            "hash": rec.hash.to_hex(),
            "leaf_hash": merkle::leaf_hash(&rec.hash).to_hex(),
        }));
        lines.push(rec.to_line());
        recs.push(rec);
        if cp_after.contains(&chain.size()) {
            let c = chain.checkpoint(&key, time + 1).unwrap();
            checkpoints.push(json!({
                "line": c.to_line(),
                "signed_message_hex": hex::encode(c.signed_message()),
                "signature": c.signature,
            }));
            lines.push(c.to_line());
        }
    }
    // The published chain must verify, and the proofs come from the verified log.
    let mut v = ChainVerifier::new(vec![vk.clone()]);
    for l in &lines {
        v.push_line(l).unwrap();
    }
    let log = v.finish(&Anchor::default()).unwrap();
    let cps: Vec<Checkpoint> = checkpoints
        .iter()
        .map(|c| Checkpoint::parse(c["line"].as_str().unwrap(), 0).unwrap())
        .collect();
    let last = cps.last().unwrap().clone();
    let inclusion = InclusionProof::build(&log, recs[2].clone(), last.clone()).unwrap();
    inclusion.verify(std::slice::from_ref(&vk)).unwrap();
    let consistency = ConsistencyProof::build(&log, cps[0].clone(), last).unwrap();
    consistency.verify(std::slice::from_ref(&vk)).unwrap();
    json!({
        "public_key_hex": hex::encode(vk.to_bytes()),
        "public_key_file": vk.to_json(),
        "key_id": vk.key_id(),
        "genesis_prev_hash": genesis_hash(log_id).to_hex(),
        "records": records,
        "checkpoints": checkpoints,
        "log_jsonl": lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
        "inclusion_proof": serde_json::to_value(&inclusion).unwrap(),
        "consistency_proof": serde_json::to_value(&consistency).unwrap(),
    })
}

#[test]
fn core_reproduces_the_published_audit_chain_byte_for_byte() {
    if std::env::var_os("CRMGUARD_WRITE_VECTORS").is_some() {
        let inputs = default_inputs();
        let outputs = compute(&inputs);
        let doc = json!({
            "description": "CRMGuard audit chain vectors: see docs/AUDIT.md. Inputs are fixed; every output is reproduced by crmguard-core in tests/tests/audit_vectors.rs.",
            "inputs": inputs,
            "outputs": outputs,
        });
        std::fs::write(PATH, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    }
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let got = compute(&doc["inputs"]);
    let want = &doc["outputs"];
    for k in want.as_object().unwrap().keys() {
        assert_eq!(
            &got[k], &want[k],
            "output {k} differs from the published vector"
        );
    }
    assert_eq!(
        got.as_object().unwrap().len(),
        want.as_object().unwrap().len()
    );
    // Records in the file parse back to themselves, and the secret inputs never appear in the
    // log (the subject's id is pseudonymised).
    for r in want["records"].as_array().unwrap() {
        let line = r["line"].as_str().unwrap();
        assert_eq!(AuditRecord::parse_line(line, 0).unwrap().to_line(), line);
    }
    assert!(!want["log_jsonl"].as_str().unwrap().contains("alice"));
}
