use super::*;
use crate::{BlindIndexScope, Key256, KeyId, SystemEntropy};
use serde_json::json;

const SCHEMA: &str = r#"{
  "object": "contact",
  "record_id": "id",
  "subject": "id",
  "fields": {
    "id": {"action": "clear"},
    "email": {"action": "blind-index", "blind_index": {"normalize": ["email"], "bits": 32}},
    "phone": {"action": "encrypt", "blind_index": {"normalize": ["phone"], "bits": 16}},
    "name": {"action": "encrypt", "key": "subject"},
    "address": {"action": "encrypt"},
    "emails[]": {"action": "blind-index", "blind_index": {"normalize": ["email"]}},
    "phones[].number": {"action": "encrypt"},
    "phones[].kind": {"action": "clear"},
    "profile.birth_year": {"action": "encrypt", "key": "subject"},
    "profile.vip": {"action": "encrypt"},
    "profile.owner": {"action": "clear"}
  }
}"#;

fn setup() -> (Keyring, RecordSchema, RecordTarget, Value) {
    let mut k = Keyring::from_keys(
        1,
        Key256::from_bytes([1; 32]),
        Key256::from_bytes([2; 32]),
        0,
    )
    .unwrap();
    k.add_subject(&SubjectId::new("0042").unwrap(), &mut SystemEntropy, 0)
        .unwrap();
    let schema = RecordSchema::from_json(SCHEMA).unwrap();
    let target = RecordTarget::tenant(TenantId::new("acme").unwrap());
    let record = json!({
        "id": "0042",
        "email": "Ada@Example.com",
        "phone": "+44 20 7946 0958",
        "name": "Ada Lovelace ✓",
        "address": {"street": "12 St James's Square", "city": "London", "geo": [51.5074, -0.1278]},
        "emails": ["ada@example.com", "countess@example.org"],
        "phones": [{"kind": "work", "number": "+44 1"}, {"kind": "home", "number": null}],
        "profile": {"birth_year": 1815, "vip": true, "owner": "u-7"}
    });
    (k, schema, target, record)
}

#[test]
fn round_trip_preserves_every_type_and_order() {
    let (k, schema, target, record) = setup();
    let sealed = k
        .seal_record(&schema, &record, &target, &mut SystemEntropy)
        .unwrap();
    let text = sealed.to_string();
    for secret in ["Ada", "7946", "London", "1815", "countess", "+44 1"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert_eq!(sealed["id"], "0042");
    assert_eq!(sealed["phones"][0]["kind"], "work");
    assert_eq!(sealed["phones"][1]["number"], Value::Null);
    assert_eq!(sealed["profile"]["owner"], "u-7");
    assert!(
        sealed["profile"]["vip"]
            .as_str()
            .unwrap()
            .starts_with("cg1:")
    );
    let idx = &sealed["_blind"];
    assert_eq!(idx["email"].as_str().unwrap().len(), 8);
    assert_eq!(idx["phone"].as_str().unwrap().len(), 4);
    assert_eq!(idx["emails[]"].as_array().unwrap().len(), 2);
    let opened = k
        .open_record(&schema, &sealed, &target, OpenRecordOptions::default())
        .unwrap();
    assert_eq!(opened, record);
    // Key order survives too.
    assert_eq!(
        serde_json::to_string(&opened).unwrap(),
        serde_json::to_string(&record).unwrap()
    );
}

#[test]
fn blind_index_finds_the_record_and_matches_single_field_api() {
    let (k, schema, target, record) = setup();
    let sealed = k
        .seal_record(&schema, &record, &target, &mut SystemEntropy)
        .unwrap();
    let spec = schema.rule_for("email").unwrap().index_spec().unwrap();
    let probe = k
        .blind_index(
            &target.tenant,
            schema.object(),
            &FieldName::new("email").unwrap(),
            &spec,
            "ada@example.com",
        )
        .unwrap();
    assert_eq!(sealed["_blind"]["email"], probe.as_str());
    // A sealed field from a record opens with the single-field API and the path as field.
    let ctx = FieldContext::new("acme", "contact", "0042", "email").unwrap();
    assert_eq!(
        k.open_text(&ctx, sealed["email"].as_str().unwrap())
            .unwrap(),
        b"Ada@Example.com"
    );
}

#[test]
fn moving_a_sealed_value_between_fields_or_records_fails() {
    let (k, schema, target, record) = setup();
    let sealed = k
        .seal_record(&schema, &record, &target, &mut SystemEntropy)
        .unwrap();
    let mut swapped = sealed.clone();
    swapped["phone"] = sealed["email"].clone();
    let e = k
        .open_record(&schema, &swapped, &target, OpenRecordOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), "ERR_SEALED_FIELD_AUTH");
    let mut moved = sealed.clone();
    moved["id"] = "0043".into();
    let other = RecordTarget {
        subject: Some(SubjectId::new("0042").unwrap()),
        ..target.clone()
    };
    let e = k
        .open_record(&schema, &moved, &other, OpenRecordOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), "ERR_SEALED_FIELD_AUTH");
    let mut unsealed = sealed.clone();
    unsealed["email"] = "plain@example.com".into();
    let e = k
        .open_record(&schema, &unsealed, &target, OpenRecordOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), "ERR_RECORD_INVALID");
}

#[test]
fn forgetting_the_subject_erases_only_its_fields() {
    let (mut k, schema, target, record) = setup();
    let sealed = k
        .seal_record(&schema, &record, &target, &mut SystemEntropy)
        .unwrap();
    k.forget_subject(&SubjectId::new("0042").unwrap(), 9)
        .unwrap();
    let e = k
        .open_record(&schema, &sealed, &target, OpenRecordOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), "ERR_SUBJECT_FORGOTTEN");
    let opened = k
        .open_record(
            &schema,
            &sealed,
            &target,
            OpenRecordOptions {
                forgotten_as_null: true,
            },
        )
        .unwrap();
    assert_eq!(opened["name"], Value::Null);
    assert_eq!(opened["profile"]["birth_year"], Value::Null);
    assert_eq!(opened["email"], "Ada@Example.com");
    assert_eq!(opened["address"], record["address"]);
}

/// A contact whose e-mail is sealed under the subject's key and blind-indexed.
const SUBJECT_INDEXED: &str = r#"{
  "object": "contact",
  "record_id": "id",
  "subject": "id",
  "fields": {
    "id": {"action": "clear"},
    "email": {"action": "blind-index", "key": "subject",
              "blind_index": {"normalize": ["email"], "bits": 32}},
    "work_email": {"action": "blind-index", "blind_index": {"normalize": ["email"]}}
  }
}"#;

#[test]
fn erasure_leaves_no_key_that_confirms_a_subject_keyed_blind_index() {
    let (mut k, _, target, _) = setup();
    let schema = RecordSchema::from_json(SUBJECT_INDEXED).unwrap();
    let subject = SubjectId::new("0042").unwrap();
    let record =
        json!({"id": "0042", "email": "Ada@Example.com", "work_email": "ada@corp.example"});
    let sealed = k
        .seal_record(&schema, &record, &target, &mut SystemEntropy)
        .unwrap();
    let stored = sealed["_blind"]["email"].as_str().unwrap().to_owned();
    let live = RecordTarget {
        subject: Some(subject.clone()),
        ..target.clone()
    };
    // Query side while the subject is live: the schema-driven index finds the record, and so
    // does the explicitly subject-scoped one; a subject-keyed field needs its subject.
    let probe = k
        .record_blind_index(&schema, &live, "email", " ada@EXAMPLE.com")
        .unwrap();
    assert_eq!(probe.as_str(), stored);
    let spec = schema.rule_for("email").unwrap().index_spec().unwrap();
    let email = FieldName::new("email").unwrap();
    let scoped = k
        .blind_index_scoped(
            BlindIndexScope::Subject(&subject),
            &target.tenant,
            schema.object(),
            &email,
            &spec,
            "ada@example.com",
        )
        .unwrap();
    assert_eq!(scoped.as_str(), stored);
    let e = k
        .record_blind_index(&schema, &target, "email", "ada@example.com")
        .unwrap_err();
    assert_eq!(e.code(), "ERR_SUBJECT_REQUIRED");
    // A keyring-keyed field of the same record keeps the tenant-wide index.
    assert_eq!(
        k.record_blind_index(&schema, &target, "work_email", "ada@corp.example")
            .unwrap()
            .as_str(),
        sealed["_blind"]["work_email"].as_str().unwrap()
    );

    k.forget_subject(&subject, 9).unwrap();
    // The tenant-wide root no longer reproduces the stored value (it never did)...
    let tenant_wide = k
        .blind_index(
            &target.tenant,
            schema.object(),
            &email,
            &spec,
            "ada@example.com",
        )
        .unwrap();
    assert_ne!(tenant_wide.as_str(), stored);
    // ...and the subject-scoped index, the only one that did, fails like opening does.
    for e in [
        k.record_blind_index(&schema, &live, "email", "ada@example.com")
            .unwrap_err(),
        k.blind_index_scoped(
            BlindIndexScope::Subject(&subject),
            &target.tenant,
            schema.object(),
            &email,
            &spec,
            "ada@example.com",
        )
        .unwrap_err(),
        k.open_record(&schema, &sealed, &target, OpenRecordOptions::default())
            .unwrap_err(),
    ] {
        assert_eq!(e.code(), "ERR_SUBJECT_FORGOTTEN");
    }
}

#[test]
fn a_value_under_another_key_scope_than_its_rule_is_refused() {
    let (k, schema, target, record) = setup();
    let sealed = k
        .seal_record(&schema, &record, &target, &mut SystemEntropy)
        .unwrap();
    // `name` is `"key": "subject"`: put a keyring-sealed value with the right context there.
    let ctx = FieldContext::new("acme", "contact", "0042", "name").unwrap();
    let under_keyring = k.seal(&ctx, b"Ada Lovelace").unwrap();
    let mut forged = sealed.clone();
    forged["name"] = Value::String(under_keyring.to_text());
    // The value itself is genuine: the single-field API opens it.
    assert_eq!(k.open(&ctx, &under_keyring).unwrap(), b"Ada Lovelace");
    let opts = OpenRecordOptions::default();
    let e = k.open_record(&schema, &forged, &target, opts).unwrap_err();
    assert_eq!(e.code(), "ERR_SEALED_FIELD_KEY_SCOPE");
    let e = k
        .reseal_record(&schema, &mut forged.clone(), &target, &mut SystemEntropy)
        .unwrap_err();
    assert_eq!(e.code(), "ERR_SEALED_FIELD_KEY_SCOPE");
    // And the other way round: a subject-sealed value where the rule says keyring.
    let mut swapped = sealed.clone();
    let addr_ctx = ctx
        .for_field(FieldName::new("address").unwrap())
        .with_subject(SubjectId::new("0042").unwrap());
    swapped["address"] = Value::String(k.seal(&addr_ctx, b"x").unwrap().to_text());
    let e = k.open_record(&schema, &swapped, &target, opts).unwrap_err();
    assert_eq!(e.code(), "ERR_SEALED_FIELD_KEY_SCOPE");
    // Untouched, the record still opens.
    assert_eq!(
        k.open_record(&schema, &sealed, &target, opts).unwrap(),
        record
    );
}

#[test]
fn reseal_record_moves_everything_to_the_primary() {
    let (mut k, schema, target, record) = setup();
    let mut sealed = k
        .seal_record(&schema, &record, &target, &mut SystemEntropy)
        .unwrap();
    assert_eq!(
        k.reseal_record(&schema, &mut sealed, &target, &mut SystemEntropy)
            .unwrap(),
        0
    );
    k.rotate(&mut SystemEntropy, 1).unwrap();
    let before = sealed.clone();
    let n = k
        .reseal_record(&schema, &mut sealed, &target, &mut SystemEntropy)
        .unwrap();
    // email, phone, address, 2 emails, 1 phone number, vip: keyring-scoped and non-null.
    assert_eq!(n, 7);
    assert_ne!(before["email"], sealed["email"]);
    assert_eq!(
        before["name"], sealed["name"],
        "subject-keyed fields are not rotated"
    );
    assert_eq!(before["_blind"], sealed["_blind"]);
    k.destroy_key(KeyId(1)).unwrap();
    let opened = k
        .open_record(&schema, &sealed, &target, OpenRecordOptions::default())
        .unwrap();
    assert_eq!(opened, record);
}

#[test]
fn unknown_fields_policy() {
    let (k, _, target, _) = setup();
    let base = json!({"object": "deal", "record_id": "id", "fields": {"id": {"action": "clear"}}});
    let rec = json!({"id": 7, "amount": 125000.5, "stage": "won"});
    let reject = RecordSchema::new(serde_json::from_value(base.clone()).unwrap()).unwrap();
    let e = k
        .seal_record(&reject, &rec, &target, &mut SystemEntropy)
        .unwrap_err();
    assert_eq!(e.code(), "ERR_RECORD_INVALID");
    assert!(e.to_string().contains("amount"));
    let mut doc = base.clone();
    doc["unknown_fields"] = "encrypt".into();
    let enc = RecordSchema::new(serde_json::from_value(doc).unwrap()).unwrap();
    let sealed = k
        .seal_record(&enc, &rec, &target, &mut SystemEntropy)
        .unwrap();
    assert!(sealed["amount"].as_str().unwrap().starts_with("cg1:"));
    assert_eq!(sealed["id"], 7);
    assert_eq!(
        k.open_record(&enc, &sealed, &target, OpenRecordOptions::default())
            .unwrap(),
        rec
    );
    let mut doc = base;
    doc["unknown_fields"] = "clear".into();
    let clear = RecordSchema::new(serde_json::from_value(doc).unwrap()).unwrap();
    assert_eq!(
        k.seal_record(&clear, &rec, &target, &mut SystemEntropy)
            .unwrap(),
        rec
    );
}

#[test]
fn bad_schemas_and_records_get_typed_errors() {
    for bad in [
        r#"{"object": "c", "fields": {"a": {"action": "encrypt"}, "a.b": {"action": "clear"}}}"#,
        r#"{"object": "c", "fields": {"a[]": {"action": "encrypt"}, "a": {"action": "clear"}}}"#,
        r#"{"object": "c", "fields": {"a..b": {"action": "encrypt"}}}"#,
        r#"{"object": "c", "fields": {"a": {"action": "shred"}}}"#,
        r#"{"object": "c", "fields": {"a": {"action": "clear", "blind_index": {}}}}"#,
        r#"{"object": "c", "fields": {"a": {"action": "encrypt", "blind_index": {"bits": 300}}}}"#,
        r#"{"object": "c", "record_id": "id", "fields": {"id": {"action": "encrypt"}}}"#,
        r#"{"object": "", "fields": {}}"#,
        r#"{"object": "c", "fields": {"_blind": {"action": "clear"}}}"#,
        r#"{"object": "c", "fields": {}, "surprise": 1}"#,
    ] {
        let e = RecordSchema::from_json(bad).unwrap_err();
        assert!(
            matches!(e.code(), "ERR_SCHEMA_INVALID" | "ERR_BLIND_INDEX_CONFIG"),
            "{bad}: {e}"
        );
    }
    let (k, schema, target, record) = setup();
    let mut no_id = record.clone();
    no_id.as_object_mut().unwrap().remove("id");
    for bad in [
        json!([1, 2]),
        json!("x"),
        no_id,
        json!({"id": "0042", "address": 5, "emails": "not-an-array"}),
        json!({"id": "0042", "phones": [{"number": "1", "extra": 1}]}),
    ] {
        let e = k
            .seal_record(&schema, &bad, &target, &mut SystemEntropy)
            .unwrap_err();
        assert_eq!(e.code(), "ERR_RECORD_INVALID", "{bad}");
    }
    let mut nosubject = record;
    nosubject["id"] = "0099".into();
    let e = k
        .seal_record(&schema, &nosubject, &target, &mut SystemEntropy)
        .unwrap_err();
    assert_eq!(e.code(), "ERR_SUBJECT_NOT_FOUND");
}

/// With `unknown_fields: encrypt`, a member literally named "profile.vip" would be sealed in
/// the same context as the schema's `profile` → `vip`, so the sealed value of one could be
/// moved into the other and still open. Names with path syntax are refused instead.
#[test]
fn unknown_names_with_path_syntax_are_not_sealed_into_a_schema_paths_context() {
    let (k, _, target, _) = setup();
    let doc = json!({"object": "deal", "record_id": "id", "unknown_fields": "encrypt",
        "fields": {"id": {"action": "clear"}, "profile.vip": {"action": "encrypt"}}});
    let schema = RecordSchema::new(serde_json::from_value(doc).unwrap()).unwrap();
    let nested = k
        .seal_record(
            &schema,
            &json!({"id": 7, "profile": {"vip": "yes"}}),
            &target,
            &mut SystemEntropy,
        )
        .unwrap();
    // The substitution: the nested sealed value moved to a top-level "profile.vip".
    let moved = json!({"id": 7, "profile.vip": nested["profile"]["vip"]});
    let e = k
        .open_record(&schema, &moved, &target, OpenRecordOptions::default())
        .unwrap_err();
    assert_eq!(e.code(), "ERR_RECORD_INVALID");
    for name in ["profile.vip", "tags[]", "a[0]", "x]"] {
        let rec = json!({"id": 7, name: "v"});
        let e = k
            .seal_record(&schema, &rec, &target, &mut SystemEntropy)
            .unwrap_err();
        assert_eq!(e.code(), "ERR_RECORD_INVALID", "{name}");
        assert!(e.to_string().contains("cannot be sealed"), "{name}: {e}");
    }
    // Plain unknown names still seal and open.
    let rec = json!({"id": 7, "stage": "won"});
    let sealed = k
        .seal_record(&schema, &rec, &target, &mut SystemEntropy)
        .unwrap();
    assert_eq!(
        k.open_record(&schema, &sealed, &target, OpenRecordOptions::default())
            .unwrap(),
        rec
    );
}
