//! The files generated from crmguard-core's error code table are current (a code added,
//! renamed or reworded without `cargo xtask codes` fails here), and the codes are well formed.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::Path;

use crmguard_conformance::{CODES_COMMAND, error_code_files};
use crmguard_core::{ERROR_CODE_TABLE, ERROR_CODES};

#[test]
fn committed_files_are_what_the_generator_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for (rel, generated) in error_code_files() {
        let committed = std::fs::read_to_string(root.join(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e}; run `{CODES_COMMAND}`"));
        assert!(
            committed == generated,
            "{rel} is out of date with crates/core/src/error/codes.rs; run `{CODES_COMMAND}`"
        );
    }
}

#[test]
fn codes_are_unique_and_well_formed() {
    let unique: BTreeSet<&str> = ERROR_CODES.iter().copied().collect();
    assert_eq!(unique.len(), ERROR_CODES.len(), "a code is listed twice");
    for code in ERROR_CODES {
        let rest = code
            .strip_prefix("ERR_")
            .unwrap_or_else(|| panic!("{code}: no ERR_ prefix"));
        assert!(
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "{code} does not match ^ERR_[A-Z0-9_]+$"
        );
    }
}

#[test]
fn every_code_is_documented_and_typed() {
    let [(_, markdown), (_, dts)] = error_code_files();
    for row in ERROR_CODE_TABLE {
        assert!(
            markdown.contains(&format!("| `{}` |", row.code)),
            "{}",
            row.code
        );
        assert!(dts.contains(&format!("| '{}'", row.code)), "{}", row.code);
    }
    for family in [
        "SEALED_FIELD",
        "KEY",
        "KEYRING",
        "JWT/JWS/JWKS",
        "POLICY",
        "REQUEST",
    ] {
        assert!(markdown.contains(&format!("\n## {family}\n")), "{family}");
    }
    assert!(markdown.contains(CODES_COMMAND) && dts.contains(CODES_COMMAND));
}
