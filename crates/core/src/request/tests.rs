//! The pipeline end to end: a token in, a bound request, a decider, the caller's view and its
//! audit event; and every way a decider's answer is refused.

use std::cell::Cell;

use serde_json::{Map, Value, json};

use super::*;
use crate::token::test_keys::{TestSigner, jwks};
use crate::{
    Algorithm, AuditFieldAction, ClaimNames, Decision as AuditDecision, Entropy, FieldContext,
    KeySet, Keyring, Policy, SealedField, Treatment, VerificationOptions,
};

const POLICY: &str = include_str!("../../../../examples/policy.json");
const NOW: u64 = 1_764_400_000;

/// A counter for nonces: deterministic and good enough for tests.
struct Counter(u8);
impl Entropy for Counter {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), crate::Error> {
        self.0 = self.0.wrapping_add(1);
        buf.fill(self.0);
        Ok(())
    }
}

fn keyring() -> Keyring {
    Keyring::generate(&mut Counter(100), NOW).unwrap()
}

struct Idp {
    signer: TestSigner,
    keys: KeySet,
}

impl Idp {
    fn new() -> Self {
        let signer = TestSigner::hmac();
        let keys = KeySet::from_json(&jwks(&[signer.jwk(None, None)])).unwrap();
        Self { signer, keys }
    }

    fn token(&self, claims: Value) -> String {
        let mut c = json!({"sub": "user-7", "exp": NOW + 600, "tenant": "acme"});
        for (k, v) in claims.as_object().unwrap() {
            c[k] = v.clone();
        }
        self.signer
            .token(Algorithm::Hs256, r#"{"alg":"HS256"}"#, &c.to_string())
    }
}

fn time() -> UnixTime {
    UnixTime::from_secs(NOW).unwrap()
}

fn target(tenant: Option<&str>, action: &str, object: &str) -> Target {
    Target::parse(tenant, action, object, "r-1", Some("ada")).unwrap()
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// A decider that answers what it is given and counts its calls.
struct Scripted {
    answer: Result<Proposal, DeciderFailure>,
    calls: Cell<u32>,
}

impl Scripted {
    fn new(answer: Result<Proposal, DeciderFailure>) -> Self {
        Self {
            answer,
            calls: Cell::new(0),
        }
    }
    fn allow(fields: Vec<ProposedField>) -> Self {
        Self::new(Ok(Proposal::Allow {
            reason: "ok".into(),
            fields,
        }))
    }
}

impl Decider for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    fn decide(&mut self, _request: &AccessRequest) -> Result<Proposal, DeciderFailure> {
        self.calls.set(self.calls.get() + 1);
        self.answer.clone()
    }
    fn invalid_answer_code(&self) -> &'static str {
        "ERR_TEST_OUTPUT"
    }
}

fn field(name: &str, action: Treatment) -> ProposedField {
    ProposedField::new(name, action)
}

fn run(idp: &Idp, claims: Value, target: Target, record: Value, d: &mut dyn Decider) -> Decided {
    let options = VerificationOptions::waive_issuer_and_audience();
    let names = ClaimNames::default();
    let issuers = TenantIssuers::any();
    let pipeline = Pipeline {
        keys: &idp.keys,
        options: &options,
        names: &names,
        issuers: &issuers,
    };
    // Every test keyring is the same (deterministic generation), so values sealed with
    // `keyring()` open here.
    let keys = keyring();
    let mut sealer = KeyringSealer::new(&keys, Counter(200));
    pipeline
        .decide(
            &idp.token(claims),
            target,
            time(),
            obj(record),
            d,
            &mut sealer,
        )
        .unwrap()
}

#[test]
fn another_tenants_record_is_refused_audited_and_no_decider_runs() {
    let idp = Idp::new();
    let mut d = Scripted::allow(vec![]);
    let out = run(
        &idp,
        json!({"roles": ["admin"]}),
        target(Some("globex"), "read", "contact"),
        json!({"name": "x"}),
        &mut d,
    );
    assert_eq!(d.calls.get(), 0, "the decider must not run");
    assert_eq!(out.decision.code(), Some("ERR_REQUEST_TENANT_MISMATCH"));
    assert!(out.decision.record.is_empty());
    assert!(out.request.is_none());
    assert_eq!(
        out.event.actor.tenant, "acme",
        "audited under the caller's tenant"
    );
    assert_eq!(out.event.outcome.decision, AuditDecision::Deny);
    assert!(out.event.resources[0].fields.is_empty());
    // The caller's own tenant, named or implied, reaches the decider.
    for t in [Some("acme"), None] {
        let mut d = Scripted::allow(vec![]);
        let out = run(
            &idp,
            json!({}),
            target(t, "read", "contact"),
            json!({}),
            &mut d,
        );
        assert_eq!(d.calls.get(), 1);
        assert!(out.decision.is_allowed());
        assert_eq!(out.request.unwrap().tenant().as_str(), "acme");
    }
}

#[test]
fn a_token_that_does_not_verify_decides_nothing() {
    let idp = Idp::new();
    let other = Idp {
        signer: TestSigner::hmac_with(&[7; 64]),
        ..Idp::new()
    };
    let options = VerificationOptions::waive_issuer_and_audience();
    let (names, issuers) = (ClaimNames::default(), TenantIssuers::any());
    let pipeline = Pipeline {
        keys: &idp.keys,
        options: &options,
        names: &names,
        issuers: &issuers,
    };
    let mut d = Scripted::allow(vec![]);
    let forged = other.token(json!({}));
    let e = pipeline
        .decide(
            &forged,
            target(None, "read", "contact"),
            time(),
            Map::new(),
            &mut d,
            &mut KeyringSealer::new(&keyring(), Counter(1)),
        )
        .unwrap_err();
    assert!(e.code().starts_with("ERR_JWS_"), "{}", e.code());
    let anonymous = idp.token(json!({"tenant": null}));
    let e = pipeline
        .decide(
            &anonymous,
            target(None, "read", "contact"),
            time(),
            Map::new(),
            &mut d,
            &mut KeyringSealer::new(&keyring(), Counter(1)),
        )
        .unwrap_err();
    assert_eq!(e.code(), "ERR_REQUEST_TENANT_CLAIM");
    assert_eq!(d.calls.get(), 0);
}

#[test]
fn a_valid_answer_becomes_the_callers_view_and_its_audit_event() {
    let idp = Idp::new();
    let sealed = keyring()
        .seal_with(
            &FieldContext::new("acme", "contact", "r-1", "ssn").unwrap(),
            b"123",
            crate::ContentType::Bytes,
            &mut Counter(1),
        )
        .unwrap()
        .to_text();
    let mut email = field("email", Treatment::Mask);
    email.style = crate::MaskStyle::EmailLocalPart;
    let mut d = Scripted::allow(vec![
        field("name", Treatment::Clear),
        email,
        field("ssn", Treatment::Sealed),
        field("notes", Treatment::Hidden),
    ]);
    let out = run(
        &idp,
        json!({"roles": ["sales_rep"]}),
        target(None, "read", "contact"),
        json!({"name": "Ada", "email": "ada@example.com", "ssn": sealed, "notes": "n", "unnamed": 1}),
        &mut d,
    );
    assert!(out.decision.is_allowed());
    assert_eq!(
        Value::Object(out.decision.record.clone()),
        json!({"name": "Ada", "email": "****@example.com", "ssn": sealed})
    );
    let shown = serde_json::to_value(&out.decision).unwrap();
    assert_eq!(
        shown["actions"],
        json!({"email": "mask", "name": "pass", "notes": "drop", "ssn": "encrypt"})
    );
    let fields: Vec<_> = out.event.resources[0]
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.action))
        .collect();
    assert_eq!(
        fields,
        [
            ("email", AuditFieldAction::Mask),
            ("name", AuditFieldAction::Pass),
            ("notes", AuditFieldAction::Drop),
            ("ssn", AuditFieldAction::Encrypt),
        ]
    );
    assert_eq!(out.event.actor.roles, ["sales_rep"]);
    assert_eq!(out.event.operation.as_deref(), Some("contact.read"));
    assert_eq!(out.event.resources[0].uid, "r-1");
    let text = serde_json::to_string(&out.event).unwrap();
    assert!(
        !text.contains("Ada") && !text.contains(&sealed),
        "no values in audit"
    );
}

#[test]
fn every_malformed_answer_is_a_deny_with_the_deciders_code() {
    let idp = Idp::new();
    let long = "r".repeat(MAX_REASON_LEN + 1);
    let huge = "v".repeat(MAX_DECISION_BYTES);
    let cases: Vec<(&str, Proposal)> = vec![
        (
            "unknown field",
            Proposal::Allow {
                reason: "ok".into(),
                fields: vec![field("salary", Treatment::Clear)],
            },
        ),
        (
            "twice",
            Proposal::Allow {
                reason: "ok".into(),
                fields: vec![
                    field("name", Treatment::Clear),
                    field("name", Treatment::Hidden),
                ],
            },
        ),
        (
            "over the bound",
            Proposal::Allow {
                reason: "ok".into(),
                fields: vec![field(&huge, Treatment::Clear)],
            },
        ),
        (
            "long reason",
            Proposal::Allow {
                reason: long.clone(),
                fields: vec![],
            },
        ),
        (
            "deny code",
            Proposal::Deny {
                code: Some("not-a-code".into()),
                reason: "no".into(),
            },
        ),
        (
            "deny reason",
            Proposal::Deny {
                code: None,
                reason: long,
            },
        ),
    ];
    let n = cases.len();
    for (what, answer) in cases {
        let mut d = Scripted::new(Ok(answer));
        let out = run(
            &idp,
            json!({}),
            target(None, "read", "contact"),
            json!({"name": "Ada"}),
            &mut d,
        );
        assert_eq!(out.decision.code(), Some("ERR_TEST_OUTPUT"), "{what}");
        assert!(out.decision.record.is_empty(), "{what}");
        assert_eq!(out.event.outcome.decision, AuditDecision::Deny, "{what}");
    }
    assert_eq!(n, 6);
    // The core code, when the decider names none of its own.
    let e = Proposal::Deny {
        code: Some("x".into()),
        reason: String::new(),
    };
    let request = AccessRequest::bind(
        Principal::from_verified(
            &crate::token::test_keys::hs256_verified(&json!({"sub": "u", "tenant": "acme"})),
            &ClaimNames::default(),
            &TenantIssuers::any(),
        )
        .unwrap(),
        target(None, "read", "contact"),
        time(),
        Map::new(),
        "t",
    )
    .unwrap();
    assert_eq!(
        e.validate(&request, &mut KeyringSealer::new(&keyring(), Counter(1)))
            .unwrap_err()
            .code(),
        "ERR_DECISION_INVALID"
    );
}

/// Deciders name treatments; core renders. A clear value shown sealed is sealed now under the
/// request's context; a stored value that does not open is a deny with the crypto code (the
/// decider did nothing wrong), never the value.
#[test]
fn core_renders_every_field_the_decider_names() {
    let idp = Idp::new();
    let mut d = Scripted::allow(vec![field("name", Treatment::Sealed)]);
    let out = run(
        &idp,
        json!({}),
        target(None, "read", "contact"),
        json!({"name": "Ada"}),
        &mut d,
    );
    let shown = SealedField::from_text(out.decision.record["name"].as_str().unwrap()).unwrap();
    let ctx = FieldContext::new("acme", "contact", "r-1", "name").unwrap();
    assert_eq!(keyring().open(&ctx, &shown).unwrap(), b"Ada");
    // Sealed for another record: it does not open here.
    let elsewhere = keyring()
        .seal_with(
            &FieldContext::new("acme", "contact", "r-2", "name").unwrap(),
            b"Eve",
            crate::ContentType::Bytes,
            &mut Counter(5),
        )
        .unwrap()
        .to_text();
    for action in [Treatment::Clear, Treatment::Mask] {
        let mut d = Scripted::allow(vec![field("name", action)]);
        let out = run(
            &idp,
            json!({}),
            target(None, "read", "contact"),
            json!({"name": elsewhere}),
            &mut d,
        );
        assert_eq!(
            out.decision.code(),
            Some("ERR_SEALED_FIELD_AUTH"),
            "{action:?}"
        );
        assert!(out.decision.record.is_empty());
        assert_eq!(out.event.outcome.decision, AuditDecision::Deny);
    }
}

#[test]
fn deciders_that_fail_or_deny_answer_nothing() {
    let idp = Idp::new();
    let mut failing = Scripted::new(Err(DeciderFailure {
        code: "ERR_PLUGIN_TIMEOUT".into(),
        message: "overran".into(),
    }));
    let out = run(
        &idp,
        json!({}),
        target(None, "read", "contact"),
        json!({"a": 1}),
        &mut failing,
    );
    assert_eq!(out.decision.code(), Some("ERR_PLUGIN_TIMEOUT"));
    let mut denying = Scripted::new(Ok(Proposal::Deny {
        code: None,
        reason: "no rule".into(),
    }));
    let out = run(
        &idp,
        json!({}),
        target(None, "read", "contact"),
        json!({"a": 1}),
        &mut denying,
    );
    assert_eq!(out.decision.code(), Some(POLICY_DENIED));
    assert!(
        out.event
            .outcome
            .reason
            .unwrap()
            .contains("scripted: ERR_POLICY_DENIED: no rule")
    );
}

/// The native policy renders sealed values one way: opened for clear and mask (strictly
/// decoded), kept sealed for sealed, and a clear value shown sealed is sealed now.
#[test]
fn the_native_policy_opens_masks_and_seals_through_the_sealer() {
    let idp = Idp::new();
    let keys = keyring();
    let policy = Policy::from_json(POLICY).unwrap();
    let ctx = |f: &str| FieldContext::new("acme", "patient_note", "r-1", f).unwrap();
    let seal = |f: &str, v: &str| {
        keys.seal_with(
            &ctx(f),
            v.as_bytes(),
            crate::ContentType::Bytes,
            &mut Counter(9),
        )
        .unwrap()
        .to_text()
    };
    let record = json!({
        "id": "r-1", "tenant_id": "acme",
        "patient_id": seal("patient_id", "P-99887766"),
        "note": seal("note", "stable"),
        "diagnosis": "flu",
    });
    // An administrator: phi sealed, the rest clear.
    let mut admin = PolicyDecider::new(&policy);
    let out = run(
        &idp,
        json!({"roles": ["admin"]}),
        target(None, "read", "patient_note"),
        record.clone(),
        &mut admin,
    );
    assert!(out.decision.is_allowed(), "{:?}", out.decision);
    let shown = &out.decision.record;
    assert_eq!(shown["patient_id"], "P-99887766", "pii opened for an admin");
    assert_eq!(shown["note"], record["note"], "sealed stays as stored");
    let diagnosis = SealedField::from_text(shown["diagnosis"].as_str().unwrap()).unwrap();
    assert_eq!(keys.open(&ctx("diagnosis"), &diagnosis).unwrap(), b"flu");
    assert_eq!(out.decision.actions["diagnosis"], Treatment::Sealed);
    // A clinician: everything clear, sealed values opened.
    let mut clinician = PolicyDecider::new(&policy);
    let out = run(
        &idp,
        json!({"roles": ["clinician"]}),
        target(None, "read", "patient_note"),
        record.clone(),
        &mut clinician,
    );
    assert_eq!(out.decision.record["note"], "stable");
    assert_eq!(out.decision.record["diagnosis"], "flu");
    // A sales rep on a contact: the sealed e-mail is opened, then masked.
    let cctx = FieldContext::new("acme", "contact", "r-1", "email").unwrap();
    let email = keys
        .seal_with(
            &cctx,
            b"ada@example.com",
            crate::ContentType::Bytes,
            &mut Counter(3),
        )
        .unwrap()
        .to_text();
    let mut rep = PolicyDecider::new(&policy);
    let out = run(
        &idp,
        json!({"roles": ["sales_rep"]}),
        target(None, "read", "contact"),
        json!({"id": "r-1", "tenant_id": "acme", "email": email, "national_id": "QQ1"}),
        &mut rep,
    );
    let masked = out.decision.record["email"].as_str().unwrap();
    assert!(
        masked.ends_with("@example.com") && !masked.contains("ada"),
        "{masked}"
    );
    assert!(!out.decision.record.contains_key("national_id"));
    // A record of another tenant's rows (tenant field) is refused by the policy.
    let mut rep = PolicyDecider::new(&policy);
    let out = run(
        &idp,
        json!({"roles": ["sales_rep"]}),
        target(None, "read", "contact"),
        json!({"id": "r-1", "tenant_id": "globex"}),
        &mut rep,
    );
    assert_eq!(out.decision.code(), Some("ERR_POLICY_TENANT_MISMATCH"));
    // A verb the policy language does not know is refused, not guessed.
    let mut rep = PolicyDecider::new(&policy);
    let out = run(
        &idp,
        json!({}),
        target(None, "sleep", "contact"),
        json!({}),
        &mut rep,
    );
    assert_eq!(out.decision.code(), Some("ERR_POLICY_REQUEST_INVALID"));
}

#[test]
fn opened_bytes_are_decoded_strictly() {
    let keys = keyring();
    let ctx = FieldContext::new("acme", "contact", "r-1", "name").unwrap();
    // `json` content that is not JSON does not render as anything.
    let bad = keys
        .seal_with(
            &ctx,
            b"{not json",
            crate::ContentType::Json,
            &mut Counter(1),
        )
        .unwrap()
        .to_text();
    let mut sealer = KeyringSealer::new(&keys, Counter(2));
    let e = render_field(
        Treatment::Clear,
        crate::MaskStyle::default(),
        &Value::from(bad),
        &ctx,
        &mut sealer,
    )
    .unwrap_err();
    assert_eq!(e.code(), "ERR_RECORD_INVALID");
}

/// The audited roles are the ones the policy read (its document names the claim), not a
/// hard-coded `roles` claim a caller could fill with anything.
#[test]
fn the_audited_roles_come_from_the_policys_roles_claim() {
    let mut doc: Value = serde_json::from_str(POLICY).unwrap();
    doc["claims"]["roles"] = "app_roles".into();
    let policy = Policy::from_json(&doc.to_string()).unwrap();
    let claims = crate::token::test_keys::hs256_verified(
        &json!({"sub": "u", "tenant": "acme", "app_roles": ["admin"], "roles": ["forged"]}),
    );
    let asked = crate::AuthorizationRequest {
        tenant: "acme".into(),
        object: "contact".into(),
        action: crate::Action::Read,
        record_id: Some("r-1".into()),
    };
    let decision = policy.evaluate(&claims, &asked).unwrap();
    assert!(decision.is_allowed());
    let event =
        crate::AuditEvent::policy_decision(&decision, &claims, &policy.document().claims, None);
    assert_eq!(event.actor.roles, ["admin"]);
}

/// Every member of a target is its identifier type, the tenant too: a tenant with a control
/// character is refused as input (`ERR_CONTEXT_INVALID`), not compared and denied.
#[test]
fn a_target_is_identifiers_throughout() {
    for (tenant, object) in [
        (Some("acme\u{9b}"), "contact"),
        (Some(""), "contact"),
        (None, "con\u{0}tact"),
    ] {
        let e = Target::parse(tenant, "read", object, "r-1", None).unwrap_err();
        assert_eq!(e.code(), "ERR_CONTEXT_INVALID", "{tenant:?} {object:?}");
    }
    assert!(Target::parse(Some("acme"), "read", "contact", "r-1", Some("s-1")).is_ok());
}

/// The longest object type and action still make an event the audit log records: found by
/// schemathesis against `crmguard serve`, where `object.action` over 256 bytes made the
/// audit record impossible and every such request a 503.
#[test]
fn the_longest_identifiers_still_make_a_recordable_event() {
    let idp = Idp::new();
    let object = "o".repeat(crate::MAX_IDENTIFIER_LEN);
    let action = "é".repeat(crate::MAX_IDENTIFIER_LEN / 2);
    let mut d = Scripted::allow(vec![]);
    let out = run(
        &idp,
        json!({}),
        target(None, &action, &object),
        json!({}),
        &mut d,
    );
    let op = out.event.operation.clone().unwrap();
    assert!(
        op.len() <= crate::MAX_IDENTIFIER_LEN && op.starts_with("ooo"),
        "{op}"
    );
    assert_eq!(out.event.resources[0].kind, object);
    let mut chain =
        crate::AuditChain::new("log-1", crate::RecordOptions::new("test", None)).unwrap();
    chain.append(&out.event, 1).unwrap();
}

/// An allowed decision whose adapter step then fails becomes the deny it is, with the event
/// to record in place of the allow.
#[test]
fn an_allow_whose_next_step_fails_is_recorded_as_a_deny() {
    let idp = Idp::new();
    let mut d = Scripted::allow(vec![field("name", Treatment::Clear)]);
    let mut out = run(
        &idp,
        json!({}),
        target(None, "create", "contact"),
        json!({"name": "Ada"}),
        &mut d,
    );
    assert!(out.decision.is_allowed());
    out.refuse_after("write-path", &crate::SealedFieldError::Auth.into());
    assert_eq!(out.decision.code(), Some("ERR_SEALED_FIELD_AUTH"));
    assert!(out.decision.record.is_empty());
    assert_eq!(out.event.outcome.decision, AuditDecision::Deny);
    assert!(
        out.event
            .outcome
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("write-path: ERR_SEALED_FIELD_AUTH")),
        "{:?}",
        out.event.outcome
    );
}

/// Browser-sealed values open for the request's own record only, into their JSON values.
#[test]
fn tenant_sealed_values_open_for_the_requests_own_record() {
    let key = crate::TenantSecretKey::generate(&mut Counter(7)).unwrap();
    let sealed_for = |record: &str| {
        crate::seal_to_tenant(
            key.public_key(),
            &FieldContext::new("acme", "contact", record, "email").unwrap(),
            b"ada@example.com",
            crate::ContentType::Bytes,
            &mut Counter(9),
        )
        .unwrap()
        .to_text()
    };
    let request = AccessRequest::bind(
        Principal::from_verified(
            &crate::token::test_keys::hs256_verified(&json!({"sub": "u", "tenant": "acme"})),
            &ClaimNames::default(),
            &TenantIssuers::any(),
        )
        .unwrap(),
        Target::parse(None, "create", "contact", "r-1", None).unwrap(),
        time(),
        Map::new(),
        "t",
    )
    .unwrap();
    let mut record = obj(json!({"email": sealed_for("r-1"), "name": "Ada"}));
    request.open_tenant_sealed(&mut record, Some(&key)).unwrap();
    assert_eq!(
        Value::Object(record),
        json!({"email": "ada@example.com", "name": "Ada"})
    );
    for (value, key, code) in [
        (sealed_for("r-2"), Some(&key), "ERR_TENANT_SEALED_AUTH"),
        (
            "cgh1:!".to_owned(),
            Some(&key),
            "ERR_TENANT_SEALED_MALFORMED",
        ),
        (sealed_for("r-1"), None, "ERR_TENANT_KEY_MISSING"),
    ] {
        let mut record = obj(json!({ "email": value }));
        let e = request.open_tenant_sealed(&mut record, key).unwrap_err();
        assert_eq!(e.code(), code);
    }
}
