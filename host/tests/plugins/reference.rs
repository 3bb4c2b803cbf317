//! The reference policy plugin, through the crypto component.

use crate::support::{fixture, request};

#[test]
fn support_sees_names_masked_contacts_and_the_ssn_still_sealed() {
    let f = fixture();
    let req = request(&["support"], "read");
    let out = f.host.decide(&f.reference, &f.crypto, &req);
    assert!(out.verdict.is_allow(), "{out:?}");
    assert_eq!(out.record["name"], "Ada Lovelace");
    assert_eq!(out.record["email"], "****");
    assert_eq!(out.record["phone"], "****");
    assert_eq!(
        out.record["ssn"], req.record["ssn"],
        "left sealed as stored"
    );
    assert!(!out.record.contains_key("company"), "dropped: {out:?}");
    assert_eq!(out.actions["company"], "drop");
    assert_eq!(out.actions["ssn"], "encrypt");
    assert_eq!(out.log.len(), 1);
}

#[test]
fn admin_sees_sealed_fields_opened_by_the_crypto_component() {
    let f = fixture();
    let out = f
        .host
        .decide(&f.reference, &f.crypto, &request(&["admin"], "read"));
    assert!(out.verdict.is_allow(), "{out:?}");
    assert_eq!(out.record["email"], "ada@example.com");
    assert_eq!(out.record["ssn"], "078-05-1120");
    assert_eq!(out.record.len(), 5);
}

#[test]
fn the_most_permissive_role_wins_per_field() {
    let f = fixture();
    let out = f.host.decide(
        &f.reference,
        &f.crypto,
        &request(&["support", "sales"], "read"),
    );
    assert_eq!(
        out.record["email"], "ada@example.com",
        "sales: pass beats support: mask"
    );
    assert_eq!(out.record["phone"], "****");
    assert_eq!(out.record["company"], "Analytical Engines");
}

#[test]
fn analysts_get_every_field_sealed_and_it_opens_natively() {
    let f = fixture();
    let out = f
        .host
        .decide(&f.reference, &f.crypto, &request(&["analyst"], "read"));
    assert!(out.verdict.is_allow(), "{out:?}");
    let sealed = out.record["name"].as_str().unwrap();
    assert!(sealed.starts_with("cg1:"), "{sealed}");
    let ctx = crmguard_core::FieldContext::new("acme", "contact", "0042", "name").unwrap();
    assert_eq!(
        crate::support::keyring().open_text(&ctx, sealed).unwrap(),
        b"Ada Lovelace"
    );
}

#[test]
fn unknown_roles_and_disallowed_actions_are_denied() {
    let f = fixture();
    let out = f
        .host
        .decide(&f.reference, &f.crypto, &request(&["intern"], "read"));
    assert_eq!(out.verdict.code(), Some("ERR_POLICY_DENIED"), "{out:?}");
    assert!(out.record.is_empty());
    let out = f
        .host
        .decide(&f.reference, &f.crypto, &request(&["admin"], "export"));
    assert_eq!(out.verdict.code(), Some("ERR_POLICY_DENIED"), "{out:?}");
}

#[test]
fn a_field_sealed_for_another_record_is_a_deny_with_cores_code() {
    let f = fixture();
    let mut req = request(&["admin"], "read");
    req.record.insert(
        "email".into(),
        crate::support::seal("acme", "0043", "email", "eve@example.com").into(),
    );
    let out = f.host.decide(&f.reference, &f.crypto, &req);
    assert_eq!(out.verdict.code(), Some("ERR_SEALED_FIELD_AUTH"), "{out:?}");
}
