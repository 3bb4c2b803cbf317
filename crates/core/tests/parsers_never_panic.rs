//! Every parser of untrusted input returns a typed error on garbage, never panics. (The
//! cargo-fuzz targets in fuzz/ explore the same entry points with coverage guidance.)
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use crmguard_core::{Keyring, KeyringFileOptions, RecordSchema, SealedField, parse_master_key};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn sealed_field_text(s in "(cg1:)?[A-Za-z0-9_=+/ -]{0,120}") {
        let _ = SealedField::from_text(&s);
    }

    #[test]
    fn sealed_field_bytes(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(f) = SealedField::from_bytes(&b) {
            // Parsed values re-encode to the same bytes and text round-trips.
            prop_assert_eq!(f.as_bytes(), &b[..]);
            prop_assert_eq!(SealedField::from_text(&f.to_text()).unwrap(), f);
        }
    }

    #[test]
    fn keyring_json(s in "\\PC{0,200}") {
        let _ = Keyring::from_json(&s, &KeyringFileOptions::insecure_cleartext());
    }

    #[test]
    fn keyring_json_shaped(primary in any::<u32>(), id in any::<u32>(), status in "(active|decrypt-only|destroyed|x)",
                           material in "[A-Za-z0-9_-]{0,50}") {
        let doc = format!(
            r#"{{"format":"crmguard-keyring/v1","protection":"none","keyring":{{"format":"crmguard-keyring/v1","primary":{primary},"keys":[{{"id":{id},"status":"{status}","created":0,"material":"{material}"}}],"blind_index_root":"{material}"}}}}"#
        );
        let _ = Keyring::from_json(&doc, &KeyringFileOptions::insecure_cleartext());
    }

    #[test]
    fn schema_json(path in "[a-z.\\[\\]]{0,20}", action in "(clear|encrypt|blind-index|x)", bits in any::<u16>()) {
        let doc = format!(
            r#"{{"object":"c","fields":{{"{path}":{{"action":"{action}","blind_index":{{"bits":{bits}}}}}}}}}"#
        );
        let _ = RecordSchema::from_json(&doc);
    }

    #[test]
    fn master_key(s in "\\PC{0,80}") {
        let _ = parse_master_key(&s);
    }
}
