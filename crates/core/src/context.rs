//! Identifiers that bind a sealed field to its place in the CRM.
//!
//! Parse, don't validate: each identifier is a newtype that can only hold an acceptable value
//! (1 to 256 bytes of UTF-8, no control characters), so the associated-data encoding never sees
//! an empty or ambiguous component.

use crate::error::InvalidIdentifier;
use core::fmt;

/// The longest identifier accepted, in bytes.
pub const MAX_IDENTIFIER_LEN: usize = 256;

fn check(kind: &'static str, s: &str) -> Result<(), InvalidIdentifier> {
    if s.is_empty() {
        return Err(InvalidIdentifier {
            kind,
            reason: "must not be empty",
        });
    }
    if s.len() > MAX_IDENTIFIER_LEN {
        return Err(InvalidIdentifier {
            kind,
            reason: "longer than 256 bytes",
        });
    }
    if s.chars().any(char::is_control) {
        return Err(InvalidIdentifier {
            kind,
            reason: "contains a control character",
        });
    }
    Ok(())
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier: 1 to 256 bytes, no control characters.
            pub fn new(s: impl Into<String>) -> Result<Self, InvalidIdentifier> {
                let s = s.into();
                check($kind, &s)?;
                Ok(Self(s))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl core::str::FromStr for $name {
            type Err = InvalidIdentifier;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
    };
}

identifier!(
    /// A CRM tenant (customer organisation) identifier.
    TenantId,
    "tenant id"
);
identifier!(
    /// A CRM object type, such as `contact`, `account` or `deal`.
    ObjectType,
    "object type"
);
identifier!(
    /// The id of one record of an object type.
    RecordId,
    "record id"
);
identifier!(
    /// The name (or schema path, such as `address.city`) of a field within a record.
    FieldName,
    "field name"
);
identifier!(
    /// A data subject (the person a record is about), owner of a per-subject key.
    SubjectId,
    "subject id"
);
identifier!(
    /// What a request does to a record: `read`, `create`, `update`, `delete`, `export`, or a
    /// deployment's own verb (a policy plugin decides what it means).
    ActionName,
    "action"
);

/// Where a sealed value lives: tenant, object type, record and field, and optionally the data
/// subject whose key seals it. All of it is bound into the ciphertext as associated data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldContext {
    /// The tenant that owns the record.
    pub tenant: TenantId,
    /// The object type of the record.
    pub object: ObjectType,
    /// The record id.
    pub record: RecordId,
    /// The field within the record.
    pub field: FieldName,
    /// The data subject, for values sealed under (or to be opened with) a per-subject key.
    pub subject: Option<SubjectId>,
}

impl FieldContext {
    /// A context without a data subject, from strings; fails on any invalid identifier.
    pub fn new(
        tenant: &str,
        object: &str,
        record: &str,
        field: &str,
    ) -> Result<Self, InvalidIdentifier> {
        Ok(Self {
            tenant: TenantId::new(tenant)?,
            object: ObjectType::new(object)?,
            record: RecordId::new(record)?,
            field: FieldName::new(field)?,
            subject: None,
        })
    }

    /// The same context naming a data subject.
    pub fn with_subject(mut self, subject: SubjectId) -> Self {
        self.subject = Some(subject);
        self
    }

    /// The same context for another field of the same record.
    pub fn for_field(&self, field: FieldName) -> Self {
        Self {
            field,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_reject_empty_long_and_control() {
        assert!(TenantId::new("").is_err());
        assert!(TenantId::new("a".repeat(257)).is_err());
        assert!(TenantId::new("a".repeat(256)).is_ok());
        assert!(FieldName::new("e\nmail").is_err());
        assert!(FieldName::new("e\u{7f}mail").is_err());
        assert!(FieldName::new("ünïcødé").is_ok());
        let e = RecordId::new("").unwrap_err();
        assert_eq!(e.to_string(), "invalid record id: must not be empty");
    }
}
