//! The files generated from crmguard-core's error code table are current (a code added,
//! renamed or reworded without `cargo xtask codes` fails here), and the codes are well formed.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::Path;

use crmguard_conformance::{CODES_COMMAND, error_code_files, kind_description};
use crmguard_core::{ERROR_CODE_TABLE, ERROR_CODES, ErrorKind, error_kind};

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

#[test]
fn every_code_has_a_kind_and_error_kind_agrees_with_the_table() {
    for row in ERROR_CODE_TABLE {
        assert!(ErrorKind::ALL.contains(&row.kind), "{}", row.code);
        assert_eq!(error_kind(row.code), Some(row.kind), "{}", row.code);
    }
    assert_eq!(
        error_kind("ERR_IO"),
        None,
        "ERR_IO is the CLI's, not core's"
    );
    // Every kind is used by some code (a kind nothing has is not worth an adapter's case).
    for kind in ErrorKind::ALL {
        assert!(
            ERROR_CODE_TABLE.iter().any(|row| row.kind == *kind),
            "no code is {kind}"
        );
    }
}

#[test]
fn the_generated_files_list_each_code_s_kind() {
    let [(_, markdown), (_, dts)] = error_code_files();
    for row in ERROR_CODE_TABLE {
        let kind = row.kind.as_str();
        assert!(
            markdown.contains(&format!(
                "| `{}` | `codes::{}` | `{kind}` |",
                row.code, row.name
            )),
            "docs/ERRORS.md does not give {} the kind {kind}",
            row.code
        );
        assert!(
            dts.contains(&format!("\n  {}: '{kind}';\n", row.code)),
            "js/codes.d.ts does not give {} the kind {kind}",
            row.code
        );
    }
    assert!(markdown.contains("\n## Kinds\n"));
    for kind in ErrorKind::ALL {
        let (meaning, status) = kind_description(*kind);
        assert!(
            markdown.contains(&format!("| `{}` | {meaning} | {status} |", kind.as_str())),
            "{kind}"
        );
        assert!(dts.contains(&format!("  | '{}'", kind.as_str())), "{kind}");
    }
    assert!(dts.contains("export type ErrorKind =\n"));
    // The existing export stays as it was: index.d.ts and the type check import it.
    assert!(dts.contains("export type CrmGuardErrorCode =\n"));
}
