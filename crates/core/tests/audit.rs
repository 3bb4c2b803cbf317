//! Audit chain: building, verifying, the tamper matrix, checkpoints, proofs, canonical form.
#![allow(clippy::unwrap_used)] // test code: a panic is a test failure

use crmguard_core::{
    Activity, Anchor, AuditChain, AuditError, AuditEvent, AuditFieldAction, AuditRecord,
    AuditSigningKey, AuditVerifyingKey, ChainVerifier, Checkpoint, ConsistencyProof, Decision,
    EventActor, EventClass, EventEndpoint, EventField, EventResource, InclusionProof, Outcome,
    ProofDocument, RecordOptions, VerifiedLog, parse_proof,
};
use proptest::prelude::*;

fn key() -> AuditSigningKey {
    AuditSigningKey::from_seed(&[7; 32], [9; 32])
}

fn actor(i: u64) -> EventActor {
    EventActor {
        uid: format!("user-{}", i % 3),
        tenant: "acme".into(),
        roles: vec!["sales".into()],
    }
}

fn event(i: u64) -> AuditEvent {
    AuditEvent {
        class: EventClass::ApiActivity,
        activity: Activity::Read,
        actor: actor(i),
        source: Some(EventEndpoint {
            ip: Some("203.0.113.7".parse().unwrap()),
            port: None,
        }),
        operation: Some("contacts.get".into()),
        request_id: Some(format!("req-{i}")),
        resources: vec![EventResource {
            kind: "contact".into(),
            uid: format!("c-{i}"),
            fields: vec![
                EventField {
                    name: "email".into(),
                    action: AuditFieldAction::Encrypt,
                },
                EventField {
                    name: "ssn".into(),
                    action: AuditFieldAction::Deny,
                },
            ],
        }],
        outcome: Outcome {
            decision: if i % 4 == 3 {
                Decision::Deny
            } else {
                Decision::Allow
            },
            reason: (i % 4 == 3).then(|| "role sales may not read ssn".to_owned()),
        },
    }
}

fn opts() -> RecordOptions {
    RecordOptions::new("0.1.0", Some(key().pseudonym_key().clone()))
}

/// A log of `n` records with a checkpoint after every `every` records and one at the end.
fn build_log(n: u64, every: u64) -> Vec<String> {
    let k = key();
    let mut chain = AuditChain::new("log-test", opts()).unwrap();
    let mut lines = Vec::new();
    for i in 0..n {
        let rec = chain.append(&event(i), 1_700_000_000_000 + i).unwrap();
        lines.push(rec.to_line());
        if (i + 1) % every == 0 && i + 1 < n {
            lines.push(
                chain
                    .checkpoint(&k, 1_700_000_000_000 + i)
                    .unwrap()
                    .to_line(),
            );
        }
    }
    if let Some(c) = chain.checkpoint(&k, 1_700_000_000_000 + n) {
        lines.push(c.to_line());
    }
    lines
}

fn verify(lines: &[String], anchor: &Anchor) -> Result<VerifiedLog, AuditError> {
    let mut v = ChainVerifier::new(vec![key().verifying_key()]);
    for l in lines {
        v.push_line(l)?;
    }
    v.finish(anchor)
}

fn is_record(l: &str) -> bool {
    l.starts_with("{\"activity_id\"")
}

/// Index in `lines` of the record with this seq.
fn line_of(lines: &[String], seq: u64) -> usize {
    let mut n = 0;
    for (i, l) in lines.iter().enumerate() {
        if is_record(l) {
            if n == seq {
                return i;
            }
            n += 1;
        }
    }
    panic!("no record {seq}")
}

fn last_checkpoint(lines: &[String]) -> Checkpoint {
    Checkpoint::parse(lines.iter().rev().find(|l| !is_record(l)).unwrap(), 0).unwrap()
}

#[test]
fn a_built_log_verifies() {
    let lines = build_log(10, 4);
    let log = verify(&lines, &Anchor::default()).unwrap();
    assert_eq!(log.size, 10);
    assert_eq!(log.checkpoints, 3);
    assert_eq!(log.uncovered, 0);
    assert_eq!(log.log_id, "log-test");
    let anchor = Anchor {
        checkpoint: Some(last_checkpoint(&lines)),
        min_size: Some(10),
    };
    verify(&lines, &anchor).unwrap();
    // An empty log verifies as empty.
    assert_eq!(verify(&[], &Anchor::default()).unwrap().size, 0);
}

#[test]
fn records_hold_no_values_and_pseudonymise_subjects() {
    let k = key();
    let mut o = opts();
    o.pseudonymize_actors = true;
    let mut chain = AuditChain::new("log-p", o).unwrap();
    let rec = chain
        .append(
            &AuditEvent::subject_erasure(actor(1), "alice@example.com", None),
            5,
        )
        .unwrap();
    let line = rec.to_line();
    assert!(!line.contains("alice"), "{line}");
    assert!(!line.contains("user-1"), "{line}");
    assert_eq!(
        rec.resources[0].uid,
        k.pseudonym_key().pseudonym("alice@example.com")
    );
    assert!(rec.resources[0].uid.starts_with("ps1:"));
    assert_eq!(rec.class_uid, 3004);
    assert_eq!(rec.activity_id, 4);
    assert_eq!(rec.type_uid, 300404);
    // Pseudonymisation on but no key: refused, nothing written (it used to write the id in
    // clear).
    let mut keyless = AuditChain::new("log-k", RecordOptions::new("0.1.0", None)).unwrap();
    let head = keyless.head();
    let e = keyless
        .append(&AuditEvent::subject_erasure(actor(1), "s-1", None), 5)
        .unwrap_err();
    assert_eq!(e.code(), "ERR_AUDIT_PSEUDONYM_KEY");
    assert_eq!(keyless.head(), head, "nothing appended");
    // Events without a data subject are written as before.
    keyless
        .append(&AuditEvent::key_rotation(actor(1), "keyring/3"), 6)
        .unwrap();
    // Without pseudonymisation (said explicitly) the id stays in clear.
    let mut clear = AuditChain::new(
        "log-c",
        RecordOptions {
            pseudonymize_subjects: false,
            ..RecordOptions::new("0.1.0", None)
        },
    )
    .unwrap();
    let rec = clear
        .append(&AuditEvent::subject_erasure(actor(1), "s-1", None), 5)
        .unwrap();
    assert_eq!(rec.resources[0].uid, "s-1");
    let rot = clear
        .append(&AuditEvent::key_rotation(actor(1), "keyring/3"), 6)
        .unwrap();
    assert_eq!((rot.class_uid, rot.activity_id), (3004, 3));
}

#[test]
fn ocsf_ids_and_bad_events() {
    let mut chain = AuditChain::new("log", opts()).unwrap();
    let r = chain.append(&event(3), 1).unwrap();
    assert_eq!(
        (r.category_uid, r.class_uid, r.activity_id, r.type_uid),
        (6, 6003, 2, 600302)
    );
    assert_eq!((r.status_id, r.severity_id), (2, 3));
    assert_eq!(
        r.status_detail.as_deref(),
        Some("role sales may not read ssn")
    );
    let mut e = event(0);
    e.class = EventClass::Authentication;
    assert_eq!(chain.append(&e, 1).unwrap_err().code(), "ERR_AUDIT_EVENT");
    e.activity = Activity::Logon;
    assert_eq!(chain.append(&e, 1).unwrap().type_uid, 300201);
    let mut e = event(0);
    e.actor.tenant = String::new();
    assert_eq!(chain.append(&e, 1).unwrap_err().code(), "ERR_AUDIT_EVENT");
    let mut e = event(0);
    e.resources[0].fields[0].name = "a\nb".into();
    assert_eq!(chain.append(&e, 1).unwrap_err().code(), "ERR_AUDIT_EVENT");
    assert_eq!(
        chain.append(&event(0), 1 << 53).unwrap_err().code(),
        "ERR_AUDIT_EVENT"
    );
    // A failed append changes nothing.
    assert_eq!(chain.size(), 2);
    assert!(AuditChain::new("", opts()).is_err());
}

#[derive(Clone, Copy, Debug)]
enum Tamper {
    Modify,
    Rewrite,
    Delete,
    Insert,
    Reorder,
    Duplicate,
    Truncate,
}

/// Applies `t` at record `k`; returns the tampered lines and the anchor to verify with.
fn tamper(lines: &[String], t: Tamper, k: u64) -> (Vec<String>, Anchor) {
    let mut out = lines.to_vec();
    let i = line_of(lines, k);
    let mut anchor = Anchor::default();
    match t {
        Tamper::Modify => out[i] = out[i].replace("\"uid\":\"c-", "\"uid\":\"X-"),
        Tamper::Rewrite => {
            let mut r = AuditRecord::parse_line(&out[i], k).unwrap();
            r.resources[0].fields.pop();
            r.hash = r.compute_hash();
            out[i] = r.to_line();
        }
        Tamper::Delete => {
            out.remove(i);
        }
        Tamper::Insert => {
            let mut r = AuditRecord::parse_line(&out[i], k).unwrap();
            r.resources[0].uid = "forged".into();
            r.hash = r.compute_hash();
            out.insert(i, r.to_line());
        }
        Tamper::Reorder => {
            let j = if k + 1 < 10 {
                line_of(lines, k + 1)
            } else {
                line_of(lines, k - 1)
            };
            out.swap(i, j);
        }
        Tamper::Duplicate => out.insert(i + 1, out[i].clone()),
        Tamper::Truncate => {
            // Cut everything from record k on, checkpoints included; the anchor is the last
            // checkpoint, kept elsewhere.
            anchor.checkpoint = Some(last_checkpoint(lines));
            out.truncate(i);
        }
    }
    (out, anchor)
}

#[test]
fn tamper_matrix_reports_the_first_bad_seq_with_its_code() {
    let lines = build_log(10, 4);
    // (kind, record, expected code, expected seq)
    let cases: &[(Tamper, u64, &str, u64)] = &[
        (Tamper::Modify, 0, "ERR_AUDIT_HASH", 0),
        (Tamper::Modify, 5, "ERR_AUDIT_HASH", 5),
        (Tamper::Modify, 9, "ERR_AUDIT_HASH", 9),
        (Tamper::Rewrite, 0, "ERR_AUDIT_HASH", 1),
        (Tamper::Rewrite, 5, "ERR_AUDIT_HASH", 6),
        // The last record before a checkpoint: only the signed checkpoint catches it.
        (Tamper::Rewrite, 9, "ERR_AUDIT_CHECKPOINT", 9),
        (Tamper::Delete, 0, "ERR_AUDIT_SEQ", 0),
        (Tamper::Delete, 5, "ERR_AUDIT_SEQ", 5),
        (Tamper::Delete, 9, "ERR_AUDIT_TRUNCATED", 9),
        (Tamper::Insert, 0, "ERR_AUDIT_SEQ", 0),
        (Tamper::Insert, 5, "ERR_AUDIT_SEQ", 5),
        (Tamper::Insert, 9, "ERR_AUDIT_SEQ", 9),
        (Tamper::Reorder, 0, "ERR_AUDIT_SEQ", 0),
        (Tamper::Reorder, 5, "ERR_AUDIT_SEQ", 5),
        (Tamper::Reorder, 9, "ERR_AUDIT_SEQ", 8),
        (Tamper::Duplicate, 0, "ERR_AUDIT_SEQ", 0),
        (Tamper::Duplicate, 5, "ERR_AUDIT_SEQ", 5),
        (Tamper::Duplicate, 9, "ERR_AUDIT_SEQ", 9),
        (Tamper::Truncate, 1, "ERR_AUDIT_TRUNCATED", 1),
        (Tamper::Truncate, 5, "ERR_AUDIT_TRUNCATED", 5),
        (Tamper::Truncate, 9, "ERR_AUDIT_TRUNCATED", 9),
    ];
    for &(t, k, code, seq) in cases {
        let (bad, anchor) = tamper(&lines, t, k);
        assert_ne!(bad, lines, "{t:?} at {k} changed nothing");
        let err = verify(&bad, &anchor).expect_err(&format!("{t:?} at {k} undetected"));
        assert_eq!(
            (err.code(), err.seq()),
            (code, Some(seq)),
            "{t:?} at {k}: {err}"
        );
        assert!(err.to_string().starts_with(&format!("seq {seq}: ")));
    }
}

#[test]
fn truncation_without_an_anchor_is_the_documented_limit() {
    // Cutting the tail together with its checkpoint leaves a valid shorter log; only an
    // anchor (the last checkpoint kept elsewhere, or a minimum size) catches it.
    let lines = build_log(10, 4);
    let cut = &lines[..line_of(&lines, 8)];
    assert_eq!(verify(cut, &Anchor::default()).unwrap().size, 8);
    let err = verify(
        cut,
        &Anchor {
            checkpoint: None,
            min_size: Some(10),
        },
    )
    .unwrap_err();
    assert_eq!((err.code(), err.seq()), ("ERR_AUDIT_TRUNCATED", Some(8)));
}

#[test]
fn checkpoint_tampering_is_detected() {
    let lines = build_log(8, 4);
    let ci = lines.len() - 1;
    let mut c = last_checkpoint(&lines);
    c.time += 1;
    let mut bad = lines.clone();
    bad[ci] = c.to_line();
    assert_eq!(
        verify(&bad, &Anchor::default()).unwrap_err().code(),
        "ERR_AUDIT_SIGNATURE"
    );
    // Signed by an untrusted key.
    let other = AuditSigningKey::from_seed(&[1; 32], [2; 32]);
    let c = Checkpoint::sign(&other, "log-test", c.size, c.head_hash, c.root_hash, c.time);
    bad[ci] = c.to_line();
    assert_eq!(
        verify(&bad, &Anchor::default()).unwrap_err().code(),
        "ERR_AUDIT_SIGNATURE"
    );
    // A checkpoint moved earlier.
    let mut bad = lines.clone();
    let c = bad.remove(ci);
    bad.insert(2, c);
    let err = verify(&bad, &Anchor::default()).unwrap_err();
    assert_eq!((err.code(), err.seq()), ("ERR_AUDIT_TRUNCATED", Some(2)));
    // A valid checkpoint duplicated later.
    let mut bad = lines.clone();
    let first = bad[4].clone();
    bad.push(first);
    assert_eq!(
        verify(&bad, &Anchor::default()).unwrap_err().code(),
        "ERR_AUDIT_CHECKPOINT"
    );
    // A signed anchor from another log.
    let other_log = {
        let mut ch = AuditChain::new("other", opts()).unwrap();
        ch.append(&event(0), 1).unwrap();
        ch.checkpoint(&key(), 2).unwrap()
    };
    let anchor = Anchor {
        checkpoint: Some(other_log),
        min_size: None,
    };
    assert_eq!(
        verify(&lines, &anchor).unwrap_err().code(),
        "ERR_AUDIT_CHECKPOINT"
    );
}

#[test]
fn malformed_lines_are_typed_errors() {
    let lines = build_log(3, 10);
    for junk in [
        "",
        "not json",
        "{}",
        "[1,2]",
        "{\"activity_id\":1}",
        "{\"head_hash\":\"00\"}",
    ] {
        let mut bad = lines.clone();
        bad.insert(1, junk.to_owned());
        let err = verify(&bad, &Anchor::default()).unwrap_err();
        assert_eq!(
            (err.code(), err.seq()),
            ("ERR_AUDIT_MALFORMED", Some(1)),
            "{junk}"
        );
    }
    // Non-canonical but equivalent JSON (extra space, a null member) is rejected.
    let mut bad = lines.clone();
    bad[1] = bad[1].replacen(":", ": ", 1);
    assert_eq!(
        verify(&bad, &Anchor::default()).unwrap_err().code(),
        "ERR_AUDIT_MALFORMED"
    );
    let mut bad = lines.clone();
    bad[1] = bad[1].replacen("{\"activity_id\"", "{\"zzz\":null,\"activity_id\"", 1);
    assert_eq!(
        verify(&bad, &Anchor::default()).unwrap_err().code(),
        "ERR_AUDIT_MALFORMED"
    );
}

#[test]
fn inclusion_and_consistency_proofs() {
    let lines = build_log(11, 4);
    let log = verify(&lines, &Anchor::default()).unwrap();
    let cps: Vec<Checkpoint> = lines
        .iter()
        .filter(|l| !is_record(l))
        .map(|l| Checkpoint::parse(l, 0).unwrap())
        .collect();
    let keys = vec![key().verifying_key()];
    let last = cps.last().unwrap().clone();
    for seq in 0..11 {
        let rec = AuditRecord::parse_line(&lines[line_of(&lines, seq)], seq).unwrap();
        let p = InclusionProof::build(&log, rec, last.clone()).unwrap();
        p.verify(&keys).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let doc = parse_proof(&json).unwrap();
        doc.verify(&keys).unwrap();
        // A changed record, path, or checkpoint fails.
        let mut bad = p.clone();
        bad.record.time += 1;
        assert_eq!(bad.verify(&keys).unwrap_err().code(), "ERR_AUDIT_PROOF");
        let mut bad = p.clone();
        bad.record.hash = bad.record.compute_hash();
        bad.record.seq ^= 1;
        bad.record.hash = bad.record.compute_hash();
        assert!(bad.verify(&keys).is_err());
        let mut bad = p.clone();
        bad.checkpoint.root_hash.0[0] ^= 1;
        assert_eq!(bad.verify(&keys).unwrap_err().code(), "ERR_AUDIT_SIGNATURE");
        if let Some(h) = p.audit_path.first() {
            let mut bad = p.clone();
            bad.audit_path[0].0[31] ^= h.0[31] | 1;
            assert_eq!(bad.verify(&keys).unwrap_err().code(), "ERR_AUDIT_PROOF");
        }
        assert!(
            p.verify(&[AuditSigningKey::from_seed(&[3; 32], [3; 32]).verifying_key()])
                .is_err()
        );
    }
    for old in &cps {
        let p = ConsistencyProof::build(&log, old.clone(), last.clone()).unwrap();
        p.verify(&keys).unwrap();
        ProofDocument::Consistency(Box::new(p.clone()))
            .verify(&keys)
            .unwrap();
        if old.size < last.size {
            let mut bad = p.clone();
            bad.consistency_path[0].0[0] ^= 1;
            assert_eq!(bad.verify(&keys).unwrap_err().code(), "ERR_AUDIT_PROOF");
        }
    }
    assert!(parse_proof("{}").is_err());
    assert!(parse_proof("{\"kind\":\"crmguard.audit-inclusion-proof\"}").is_err());
}

#[test]
fn key_files_round_trip_and_stay_secret() {
    let k = AuditSigningKey::from_seed(&[0x42; 32], [0x43; 32]);
    let json = k.to_json();
    let back = AuditSigningKey::from_json(&json).unwrap();
    assert_eq!(back.key_id(), k.key_id());
    assert_eq!(back.pseudonym_key(), k.pseudonym_key());
    let dbg = format!("{k:?} {:?}", k.pseudonym_key());
    assert!(!dbg.contains("42") || dbg.contains(&k.key_id()));
    assert!(dbg.contains("redacted"));
    let pubj = k.verifying_key().to_json();
    let vk = AuditVerifyingKey::from_json(&pubj).unwrap();
    assert_eq!(vk, k.verifying_key());
    assert!(!pubj.contains("seed"));
    // Wrong key id, wrong kind, bad base64, wrong lengths: typed errors.
    let tampered = pubj.replace(vk.key_id(), "0000000000000000");
    assert_eq!(
        AuditVerifyingKey::from_json(&tampered).unwrap_err().code(),
        "ERR_AUDIT_KEY"
    );
    assert!(AuditSigningKey::from_json(&pubj).is_err());
    assert!(AuditVerifyingKey::from_json(&json).is_err());
    assert!(AuditVerifyingKey::from_json("{").is_err());
    assert!(AuditVerifyingKey::from_bytes(&[0; 32]).is_err());
    let short = json.replace("\"seed\": \"", "\"seed\": \"AAAA");
    assert_eq!(
        AuditSigningKey::from_json(&short).unwrap_err().code(),
        "ERR_AUDIT_KEY"
    );
}

fn arb_text() -> impl Strategy<Value = String> {
    // Printable text including quotes, backslashes, non-ASCII and astral characters.
    prop::collection::vec(
        prop_oneof![
            Just('"'),
            Just('\\'),
            Just('/'),
            Just('é'),
            Just('€'),
            Just('😀'),
            prop::char::range('a', 'z'),
            prop::char::range(' ', '~'),
        ],
        1..12,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn arb_event() -> impl Strategy<Value = AuditEvent> {
    (
        arb_text(),
        arb_text(),
        prop::collection::vec(arb_text(), 0..3),
        prop::option::of(arb_text()),
        prop::collection::vec(
            (
                arb_text(),
                arb_text(),
                prop::collection::vec(arb_text(), 0..3),
            ),
            0..3,
        ),
        any::<bool>(),
        prop::option::of(any::<u16>()),
    )
        .prop_map(
            |(uid, tenant, roles, reason, res, allow, port)| AuditEvent {
                class: EventClass::ApiActivity,
                activity: Activity::Update,
                actor: EventActor { uid, tenant, roles },
                source: port.map(|p| EventEndpoint {
                    ip: Some("2001:db8::1".parse().unwrap()),
                    port: Some(p),
                }),
                operation: reason.clone(),
                request_id: None,
                resources: res
                    .into_iter()
                    .map(|(kind, uid, fields)| EventResource {
                        kind,
                        uid,
                        fields: fields
                            .into_iter()
                            .map(|name| EventField {
                                name,
                                action: AuditFieldAction::Mask,
                            })
                            .collect(),
                    })
                    .collect(),
                outcome: Outcome {
                    decision: if allow {
                        Decision::Allow
                    } else {
                        Decision::Deny
                    },
                    reason,
                },
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Lines are exactly RFC 8785 JCS (checked against serde_json_canonicalizer), and the
    /// hash covers JCS of the record without `hash`.
    #[test]
    fn records_are_jcs_canonical(events in prop::collection::vec(arb_event(), 1..6), t in 0u64..(1 << 53)) {
        let mut chain = AuditChain::new("log-€", opts()).unwrap();
        for e in &events {
            let (rec, line) = chain.append_line(e, t).unwrap();
            prop_assert_eq!(&line, &rec.to_line());
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            prop_assert_eq!(serde_json_canonicalizer::to_string(&value).unwrap(), line.clone());
            let mut body = value.clone();
            body.as_object_mut().unwrap().remove("hash");
            prop_assert_eq!(serde_json_canonicalizer::to_vec(&body).unwrap(), rec.canonical_body());
            prop_assert_eq!(AuditRecord::parse_line(&line, rec.seq).unwrap(), rec);
        }
        let c = chain.checkpoint(&key(), t).unwrap();
        let line = c.to_line();
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(serde_json_canonicalizer::to_string(&value).unwrap(), line);
    }

    /// Random logs verify; flipping any one byte of any one line is detected.
    #[test]
    fn random_logs_verify_and_any_byte_flip_is_detected(n in 1u64..25, every in 1u64..8, line_pick in any::<usize>(), byte_pick in any::<usize>(), bit in 0u8..7) {
        let lines = build_log(n, every);
        let log = verify(&lines, &Anchor::default()).unwrap();
        prop_assert_eq!(log.size, n);
        let li = line_pick % lines.len();
        let mut bytes = lines[li].clone().into_bytes();
        let bi = byte_pick % bytes.len();
        bytes[bi] ^= 1 << bit;
        let mut bad = lines.clone();
        match String::from_utf8(bytes) {
            Ok(s) => bad[li] = s,
            Err(_) => return Ok(()),
        }
        prop_assert!(verify(&bad, &Anchor::default()).is_err(), "flip in line {} byte {} undetected", li, bi);
    }
}

/// One reader of log text for every runtime: LF-terminated lines only. A log that verifies
/// in one runtime verifies in all, and one that fails fails with the same code (the npm and
/// component readers used to accept CRLF and blank lines that `crmguard audit verify`
/// refuses).
#[test]
fn log_text_is_read_one_way() {
    let lines = build_log(5, 2);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let read = |t: &str| {
        let mut v = ChainVerifier::new(vec![key().verifying_key()]);
        v.push_log(t).and_then(|()| v.finish(&Anchor::default()))
    };
    assert_eq!(read(&text).unwrap().size, 5);
    assert_eq!(read("").unwrap().size, 0);
    let crlf = text.replace('\n', "\r\n");
    let blank = text.replacen('\n', "\n\n", 1);
    let leading = format!("\n{text}");
    let torn = text.trim_end_matches('\n').to_owned();
    let cases = [
        (crlf, "ERR_AUDIT_MALFORMED"),
        (blank, "ERR_AUDIT_MALFORMED"),
        (leading, "ERR_AUDIT_MALFORMED"),
        (torn, "ERR_AUDIT_TORN"),
    ];
    for (t, code) in &cases {
        assert_eq!(read(t).unwrap_err().code(), *code, "{:?}", &t[..20]);
    }
    assert_eq!(cases.len(), 4);
}
