//! The reference policy plugin: crmguard-core's policy engine running examples/policy.json in
//! a component, opening and sealing through the crypto component.

use crmguard_core::{Action, AuthorizationRequest, FieldVisibility, Policy};
use serde_json::json;

use crate::support::{fixture, keyring, request, request_as, request_for, seal};

fn policy() -> Policy {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/policy.json");
    Policy::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_sales_rep_gets_personal_fields_masked_after_opening_and_no_national_id() {
    let f = fixture();
    let out = f
        .host
        .decide(&f.reference, &f.services, &request(&["sales_rep"], "read"));
    assert!(out.verdict.is_allow(), "{out:?}");
    assert_eq!(out.record["name"], "****");
    assert_eq!(
        out.record["email"], "****@example.com",
        "opened, then masked"
    );
    assert_eq!(out.record["phone"], "****0000");
    assert_eq!(out.record["lifecycle_stage"], "customer");
    assert!(!out.record.contains_key("national_id"), "{out:?}");
    assert_eq!(out.actions["national_id"].wire_name(), "drop");
    assert_eq!(
        out.actions["legacy_notes"].wire_name(),
        "drop",
        "unknown to the policy"
    );
    assert_eq!(out.log.len(), 1);
    match &out.verdict {
        crmguard_runtime::Verdict::Allow { reason } => assert_eq!(reason, "allowed by sales-read"),
        v => panic!("{v:?}"),
    }
}

#[test]
fn an_admin_sees_sealed_fields_opened_by_the_crypto_component() {
    let f = fixture();
    let out = f
        .host
        .decide(&f.reference, &f.services, &request(&["admin"], "read"));
    assert!(out.verdict.is_allow(), "{out:?}");
    assert_eq!(out.record["email"], "ada@example.com");
    assert_eq!(out.record["national_id"], "078-05-1120");
    assert_eq!(out.record.len(), 7, "every field but the unknown column");
}

/// The visibility core gives, in the plugin's action names.
fn action_name(v: &FieldVisibility) -> &'static str {
    match v {
        FieldVisibility::Clear => "pass",
        FieldVisibility::Mask { .. } => "mask",
        FieldVisibility::Sealed => "encrypt",
        FieldVisibility::Hidden => "drop",
    }
}

#[test]
fn the_plugin_decides_exactly_as_core_does() {
    let f = fixture();
    let policy = policy();
    let callers = [
        json!({ "sub": "u", "tenant": "acme", "roles": ["sales_rep"] }),
        json!({ "sub": "u", "tenant": "acme", "roles": ["support_agent"] }),
        json!({ "sub": "u", "tenant": "acme", "roles": ["clinician"] }),
        json!({ "sub": "u", "tenant": "acme", "roles": ["admin"] }),
        json!({ "sub": "u", "tenant": "acme", "roles": ["admin"], "groups": ["contractors"] }),
        json!({ "sub": "u", "tenant": "acme", "roles": ["finance"] }),
        json!({ "sub": "u", "tenant": "acme", "roles": ["sales_rep", "support_agent"] }),
        json!({ "sub": "u", "tenant": "acme", "roles": "sales_rep admin" }),
        json!({ "sub": "u", "tenant": "acme", "roles": ["sales_rep"], "scope": "crm.write" }),
        json!({ "sub": "u", "tenant": "acme", "roles": ["intern"] }),
    ];
    // Callers of other tenants, or of none, never reach a plugin with acme's record: the host
    // binds the request's tenant to the token (`another_tenants_record_or_token_is_denied`,
    // core's `request` tests, and `crmguard run`'s tenant check in cli.rs).
    let actions = [
        Action::Read,
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::Export,
    ];
    let (mut compared, mut allowed) = (0, 0);
    for claims in &callers {
        for action in actions {
            let name = serde_json::to_value(action).unwrap();
            let req = request_as(claims.clone(), name.as_str().unwrap());
            let native = policy
                .evaluate_verified_elsewhere(
                    claims.as_object().unwrap(),
                    &AuthorizationRequest {
                        tenant: "acme".into(),
                        object: "contact".into(),
                        action,
                        record_id: Some("0042".into()),
                    },
                )
                .unwrap();
            let out = f.host.decide(&f.reference, &f.services, &req);
            assert_eq!(
                out.verdict.is_allow(),
                native.is_allowed(),
                "{claims} {action:?}: {out:?}"
            );
            if native.is_allowed() {
                allowed += 1;
                for name in req.record().keys() {
                    let want = native.fields.get(name).map_or("drop", action_name);
                    assert_eq!(
                        out.actions[name].wire_name(),
                        want,
                        "{claims} {action:?} {name}"
                    );
                }
            } else {
                assert_eq!(out.verdict.code(), Some("ERR_POLICY_DENIED"));
                match &out.verdict {
                    crmguard_runtime::Verdict::Deny { reason, .. } => {
                        assert_eq!(reason, &native.reason.to_string());
                    }
                    v => panic!("{v:?}"),
                }
            }
            compared += 1;
        }
    }
    assert_eq!(compared, callers.len() * actions.len());
    // Allowed: sales read (1); support read, update (2); clinician read, create, update (3);
    // admin read, update, delete, export (4); the contractor admin only read, update (2);
    // finance nothing on contacts (0); sales + support (2); "sales_rep admin" (4); sales
    // with crm.write read, create, update (3); intern (0).
    assert_eq!(allowed, 21, "allowed decisions");
}

#[test]
fn health_data_stays_sealed_for_admins_and_opens_natively() {
    let f = fixture();
    let mut req = request_for(
        json!({ "sub": "user-1", "tenant": "acme", "roles": ["admin"] }),
        "read",
        "patient_note",
        serde_json::from_value(json!({
            "id": "0042",
            "tenant_id": "acme",
            "patient_id": "p-000123",
            "diagnosis": "J45.909",
        }))
        .unwrap(),
    );
    // The note is stored sealed (for patient_note, field note).
    let ctx = crmguard_core::FieldContext::new("acme", "patient_note", "0042", "note").unwrap();
    let note = keyring()
        .seal_with(
            &ctx,
            b"Uses inhaler twice daily.",
            crmguard_core::ContentType::Bytes,
            &mut crmguard_core::SystemEntropy,
        )
        .unwrap()
        .to_text();
    req.record_mut().insert("note".into(), note.clone().into());
    let out = f.host.decide(&f.reference, &f.services, &req);
    assert!(out.verdict.is_allow(), "{out:?}");
    assert_eq!(out.actions["diagnosis"].wire_name(), "encrypt");
    assert_eq!(out.record["note"], note.as_str(), "left sealed as stored");
    let sealed = out.record["diagnosis"].as_str().unwrap();
    assert!(sealed.starts_with("cg1:"), "sealed by the crypto component");
    let ctx =
        crmguard_core::FieldContext::new("acme", "patient_note", "0042", "diagnosis").unwrap();
    assert_eq!(keyring().open_text(&ctx, sealed).unwrap(), b"J45.909");
}

#[test]
fn another_tenants_record_or_token_is_denied() {
    let f = fixture();
    let mut req = request(&["admin"], "read");
    req.record_mut().insert("tenant_id".into(), "globex".into());
    let out = f.host.decide(&f.reference, &f.services, &req);
    assert_eq!(out.verdict.code(), Some("ERR_POLICY_DENIED"), "{out:?}");
    assert!(out.record.is_empty());

    let req = request_as(
        json!({ "sub": "u", "tenant": "globex", "roles": ["admin"] }),
        "read",
    );
    // A globex caller's request is globex's by construction; acme's record in it is refused
    // by the policy's tenant field.
    assert_eq!(req.tenant().as_str(), "globex");
    let out = f.host.decide(&f.reference, &f.services, &req);
    match &out.verdict {
        crmguard_runtime::Verdict::Deny { reason, .. } => {
            assert!(reason.starts_with("tenant-mismatch"), "{reason}");
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn unknown_actions_and_roles_are_denied() {
    let f = fixture();
    let out = f
        .host
        .decide(&f.reference, &f.services, &request(&["admin"], "launch"));
    assert_eq!(out.verdict.code(), Some("ERR_POLICY_DENIED"), "{out:?}");
    let out = f
        .host
        .decide(&f.reference, &f.services, &request(&["intern"], "read"));
    assert_eq!(out.verdict.code(), Some("ERR_POLICY_DENIED"), "{out:?}");
}

#[test]
fn a_field_sealed_for_another_record_is_a_deny_with_cores_code() {
    let f = fixture();
    let mut req = request(&["admin"], "read");
    req.record_mut().insert(
        "email".into(),
        seal("acme", "0043", "email", "eve@example.com").into(),
    );
    let out = f.host.decide(&f.reference, &f.services, &req);
    assert_eq!(out.verdict.code(), Some("ERR_SEALED_FIELD_AUTH"), "{out:?}");
}

#[test]
fn the_preinitialised_image_decides_exactly_as_the_plugin_as_shipped() {
    let f = fixture();
    // The reference plugin exports `wizer-initialize`; the hostile one does not.
    assert!(f.reference.preinitialized());
    assert!(!f.hostile.preinitialized());
    let tmp = tempfile::tempdir().unwrap();
    let dir = crate::support::plugins_dir(tmp.path());
    let shipped_host = crmguard_runtime::PluginHost::new(crmguard_runtime::HostConfig {
        preinitialize: false,
        deadline: f.host_deadline(),
        ..crmguard_runtime::HostConfig::default()
    })
    .unwrap();
    let shipped = shipped_host
        .load_plugin(&dir.manifest("reference").unwrap())
        .unwrap();
    assert!(!shipped.preinitialized());
    let mut compared = 0;
    for roles in [json!(["admin"]), json!(["sales_rep"]), json!(["intern"])] {
        for action in ["read", "update", "export", "no-such-action"] {
            let req = request_as(
                json!({ "sub": "u", "tenant": "acme", "roles": roles }),
                action,
            );
            // Twice each: the image starts from the same state on every request.
            for _ in 0..2 {
                let image = f.host.decide(&f.reference, &f.services, &req);
                let as_shipped = shipped_host.decide(&shipped, &f.services, &req);
                assert_eq!(image, as_shipped, "{roles} {action}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 24);
}
