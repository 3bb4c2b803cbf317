//! The same inputs through crmguard-core natively and through the components give the same
//! outputs: the crypto component opens every published sealed-field vector byte-identically
//! and fails the invalid ones with core's code; the tokens component gives core's verdict
//! (claims, or the error code) on every token case; the audit component verifies the
//! published chain to the same head and chains events to the same bytes.

use std::sync::Arc;

use crmguard_conformance::vector_keyring;
use crmguard_core::{FieldContext, SubjectId};
use crmguard_runtime::TenantKeyrings;
use serde_json::Value;

use crate::support::fixture;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/sealed-fields.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn context(v: &Value) -> FieldContext {
    let s = |k: &str| v[k].as_str().unwrap();
    let mut ctx = FieldContext::new(s("tenant"), s("object"), s("record"), s("field")).unwrap();
    if let Some(subject) = v["subject"].as_str() {
        ctx = ctx.with_subject(SubjectId::new(subject).unwrap());
    }
    ctx
}

#[test]
fn every_valid_vector_opens_identically_through_the_component() {
    let f = fixture();
    let doc = vectors();
    let mut opened = 0;
    for v in doc["vectors"].as_array().unwrap() {
        let keyring = vector_keyring(
            v["key_hex"].as_str().unwrap(),
            u32::try_from(v["key_id"].as_u64().unwrap()).unwrap(),
            v["subject"].as_str(),
        )
        .unwrap();
        let ctx = context(v);
        let sealed = v["sealed"].as_str().unwrap();
        let native = keyring.open_text(&ctx, sealed).unwrap();
        let crypto = f.services.crypto.with_keys(Arc::new(
            TenantKeyrings::new().with(ctx.tenant.clone(), keyring.to_cleartext_json()),
        ));
        let mut session = crypto.session(&ctx.tenant).unwrap();
        let component = session.open(&ctx, sealed).unwrap();
        assert_eq!(component, native, "vector {}", v["id"]);
        assert_eq!(
            hex::encode(&component),
            v["plaintext_hex"].as_str().unwrap()
        );
        opened += 1;
    }
    assert_eq!(opened, 22, "every published vector");
}

#[test]
fn every_invalid_vector_fails_with_cores_code_through_the_component() {
    let f = fixture();
    let doc = vectors();
    let invalid = doc["invalid"].as_array().unwrap();
    assert!(!invalid.is_empty());
    let mut checked = 0;
    for v in invalid {
        let sealed = v["sealed"].as_str().unwrap();
        let keyring = vector_keyring(
            v["key_hex"].as_str().unwrap(),
            u32::try_from(v["key_id"].as_u64().unwrap()).unwrap(),
            v["subject"].as_str(),
        )
        .unwrap();
        let ctx = context(v);
        let native = keyring.open_text(&ctx, sealed).unwrap_err();
        let crypto = f.services.crypto.with_keys(Arc::new(
            TenantKeyrings::new().with(ctx.tenant.clone(), keyring.to_cleartext_json()),
        ));
        let e = crypto
            .session(&ctx.tenant)
            .unwrap()
            .open(&ctx, sealed)
            .unwrap_err();
        assert_eq!(e.code, native.code(), "invalid vector {}", v["id"]);
        assert_eq!(
            Some(e.code),
            v["error"].as_str(),
            "invalid vector {}",
            v["id"]
        );
        checked += 1;
    }
    assert_eq!(checked, 10, "every published invalid vector");
}

fn repo_file(rel: &str) -> String {
    let path = format!("{}/../../{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Core's verdict on a token: the claims as JSON text, or the error code.
fn native_verdict(
    token: &str,
    jwks: &str,
    options: &crmguard_core::VerificationOptions,
    now: u64,
) -> Result<String, String> {
    let keys = crmguard_core::KeySet::from_json(jwks).map_err(|e| e.code().to_owned())?;
    keys.verify_jwt(token, options, now)
        .map(|c| Value::Object(c.claims().clone()).to_string())
        .map_err(|e| e.code().to_owned())
}

#[test]
fn token_verdicts_are_cores_through_the_tokens_component() {
    let f = fixture();
    let tokens = f.services.tokens.as_ref().unwrap();
    let mut session = tokens.session().unwrap();
    let mut check = |token: &str, jwks: &str, o: &crmguard_core::VerificationOptions, now: u64| {
        let native = native_verdict(token, jwks, o, now);
        let at = crmguard_core::UnixTime::from_secs(now).unwrap();
        let component = session.key_set(jwks).and_then(|keys| {
            let verdict = session.verify(&keys, token, o, at);
            session.drop_key_set(keys).unwrap();
            verdict
        });
        let component = component.map_err(|e| e.code.to_owned());
        assert_eq!(component, native, "token {token:.40}… at {now}");
        native.is_ok()
    };
    let (mut cases, mut accepted) = (0, 0);

    // Wycheproof's JWS/JWK suite: key sets, algorithms and signatures, valid and not.
    let doc: Value = serde_json::from_str(&repo_file(
        "tests/vectors/wycheproof/json_web_key_test.json",
    ))
    .unwrap();
    let lenient = crmguard_core::VerificationOptions {
        require_exp: false,
        ..crmguard_core::VerificationOptions::waive_issuer_and_audience()
    };
    for group in doc["testGroups"].as_array().unwrap() {
        let jwks = group.get("public").unwrap_or(&group["private"]).to_string();
        for case in group["tests"].as_array().unwrap() {
            accepted += usize::from(check(case["jws"].as_str().unwrap(), &jwks, &lenient, 0));
            cases += 1;
        }
    }

    // The examples' tokens (ES256, EdDSA) and the HIPAA walk-through's, each at the moment
    // they are valid, after they expired, and against issuer and audience rules.
    let hipaa = "examples/plugins/hipaa";
    let sets = [
        ("examples/jwks.json", vec![repo_file("examples/token.jwt")]),
        (
            "examples/jwks.json",
            vec![
                serde_json::from_str::<Value>(&repo_file("examples/request-clinician.json"))
                    .unwrap()["token"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            ],
        ),
        (
            "examples/plugins/hipaa/jwks.json",
            ["treating", "other-clinician", "break-glass", "front-desk"]
                .iter()
                .map(|t| repo_file(&format!("{hipaa}/tokens/{t}.jwt")))
                .collect(),
        ),
    ];
    let strict = crmguard_core::VerificationOptions {
        allowed_issuers: vec!["https://idp.stmarys.example".into()],
        allowed_audiences: vec!["crm-api".into()],
        max_token_age_secs: Some(600),
        ..Default::default()
    };
    for (jwks, tokens) in &sets {
        let jwks = repo_file(jwks);
        for token in tokens {
            let token = token.trim_end();
            for now in [1_764_400_100, 1_764_410_000, 1_764_399_000] {
                for o in [
                    &crmguard_core::VerificationOptions::waive_issuer_and_audience(),
                    &strict,
                ] {
                    accepted += usize::from(check(token, &jwks, o, now));
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 26 + 6 * 6, "every case ran");
    // Valid at 1764400100 under the default options: 6 tokens; under the strict ones only
    // the hospital's 4 (issuer); plus Wycheproof's JWT-shaped valid cases (none has claims
    // that pass: their payloads are not JWT claim sets).
    assert_eq!(accepted, 6 + 4, "accepted cases");
}

#[test]
fn the_audit_component_verifies_and_chains_like_core() {
    let f = fixture();
    let audit = f.services.audit.as_ref().unwrap();
    let doc: Value = serde_json::from_str(&repo_file("tests/vectors/audit-chain.json")).unwrap();
    let log_id = doc["inputs"]["log_id"].as_str().unwrap();
    let jsonl = doc["outputs"]["log_jsonl"].as_str().unwrap();
    let key = doc["outputs"]["public_key_hex"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut session = audit.session().unwrap();

    // The published log, checkpoints included, verifies to the published head.
    let summary = session
        .verify(log_id, jsonl, std::slice::from_ref(&key))
        .unwrap();
    let records = doc["outputs"]["records"].as_array().unwrap();
    assert_eq!(summary.size, records.len() as u64);
    assert_eq!(
        summary.head_hash,
        records.last().unwrap()["hash"].as_str().unwrap()
    );
    assert_eq!(summary.checkpoints, 2);

    // Every single-byte change of a record's hash fails with core's code.
    let mut tampered = 0;
    for (i, line) in jsonl.lines().enumerate() {
        if !line.contains("\"hash\":\"") {
            continue;
        }
        let at = line.find("\"hash\":\"").unwrap() + 8;
        let flipped = if &line[at..=at] == "0" { "1" } else { "0" };
        let bad_line = format!("{}{flipped}{}", &line[..at], &line[at + 1..]);
        let bad: String = jsonl
            .lines()
            .enumerate()
            .map(|(j, l)| if i == j { bad_line.clone() } else { l.to_owned() } + "\n")
            .collect();
        let mut verifier = crmguard_core::ChainVerifier::new(Vec::new()).expect_log_id(log_id);
        let native = bad
            .lines()
            .try_for_each(|l| verifier.push_line(l))
            .and_then(|()| verifier.finish(&crmguard_core::Anchor::default()).map(drop))
            .unwrap_err();
        let component = session.verify(log_id, &bad, &[]).unwrap_err();
        assert_eq!(component.code, native.code(), "line {i}");
        tampered += 1;
    }
    assert_eq!(tampered, records.len(), "every record line");

    // The vector events, chained one by one through the component, are the bytes core's
    // chain makes with the same options. The component holds no pseudonym key, so the
    // erasure event (a data subject) is refused by both with the same code, never written
    // in clear.
    let mut native = crmguard_core::AuditChain::new(
        log_id,
        crmguard_core::RecordOptions::new(env!("CARGO_PKG_VERSION"), None),
    )
    .unwrap();
    let mut log = String::new();
    // One session for the whole chain: verified once, one record per append.
    let chain = session.open_log(log_id, "").unwrap();
    let (mut appended, mut refused) = (0, 0);
    for e in doc["inputs"]["events"].as_array().unwrap() {
        let event: crmguard_core::AuditEvent = serde_json::from_value(e["event"].clone()).unwrap();
        let time = e["time"].as_u64().unwrap();
        let at = crmguard_core::UnixTime::from_millis(time).unwrap();
        let component = session.append(&chain, &e["event"].to_string(), at);
        match native.append(&event, time) {
            Ok(record) => {
                let line = component.unwrap();
                assert_eq!(line, record.to_line());
                log.push_str(&line);
                log.push('\n');
                appended += 1;
            }
            Err(native) => {
                assert_eq!(native.code(), "ERR_AUDIT_PSEUDONYM_KEY");
                assert_eq!(component.unwrap_err().code, native.code());
                assert!(event.resources.iter().any(|r| r.kind == "data_subject"));
                refused += 1;
            }
        }
    }
    assert_eq!((appended, refused), (records.len() - 1, 1));
    let summary = session.summary(&chain).unwrap();
    assert_eq!(summary.size, appended as u64);
    assert_eq!(summary.head_hash, native.head().to_hex());
    // A session resumed from the log continues it with the same bytes as core.
    let resumed = session.open_log(log_id, &log).unwrap();
    assert_eq!(session.summary(&resumed).unwrap().size, appended as u64);
    assert_eq!(
        session.verify(log_id, &log, &[]).unwrap().head_hash,
        native.head().to_hex()
    );
}
