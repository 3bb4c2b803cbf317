#![no_main]
//! Arbitrary records against a fixed schema: sealing either fails with a typed error or
//! round-trips exactly.
use crmguard_core::{Key256, Keyring, OpenRecordOptions, RecordSchema, RecordTarget, SystemEntropy, TenantId};
use libfuzzer_sys::fuzz_target;

const SCHEMA: &str = r#"{"object":"contact","record_id":"id","unknown_fields":"encrypt","fields":{
  "id":{"action":"clear"},"email":{"action":"blind-index","blind_index":{"normalize":["email"]}},
  "tags[]":{"action":"encrypt"},"a.b[].c":{"action":"encrypt"}}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(record) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let keyring = Keyring::from_keys(1, Key256::from_bytes([1; 32]), Key256::from_bytes([2; 32]), 0).unwrap();
    let schema = RecordSchema::from_json(SCHEMA).unwrap();
    let target = RecordTarget::tenant(TenantId::new("t").unwrap());
    if let Ok(sealed) = keyring.seal_record(&schema, &record, &target, &mut SystemEntropy) {
        let opened = keyring.open_record(&schema, &sealed, &target, OpenRecordOptions::default()).unwrap();
        assert_eq!(opened, record);
    }
});
