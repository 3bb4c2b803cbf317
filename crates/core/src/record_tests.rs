use super::*;
use crate::{Key256, KeyId, SystemEntropy};
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
