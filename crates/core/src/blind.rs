//! Blind indexes: keyed, truncated HMAC-SHA256 of a normalised value, for equality search
//! over encrypted fields without deterministic encryption.
//!
//! Each (tenant, object, field) gets its own HMAC key, derived with HKDF-SHA256 from the
//! keyring's blind-index root, so equal values in two fields or two tenants do not match.
//! A field sealed under a data subject's key (`"key": "subject"` in a record schema) is
//! indexed under a key derived from that subject's key instead ([`BlindIndexScope::Subject`]),
//! so that forgetting the subject also makes its index values unconfirmable: after erasure no
//! key left in the keyring reproduces them.
//! Truncation to `bits` is deliberate: with `N` distinct values in a column, a lookup returns
//! about `N / 2^bits` false positives, which the caller discards after opening the
//! candidates (see docs/FORMAT.md for the table).

use serde::{Deserialize, Serialize};

use crate::context::{FieldName, ObjectType, SubjectId, TenantId};
use crate::crypto::{Key256, hkdf_sha256, hmac_sha256, put_lp};
use crate::{BlindIndexError, Error, Keyring};

/// A normalisation step applied before hashing, so that equal-meaning inputs match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalizer {
    /// Strip leading and trailing whitespace.
    Trim,
    /// Unicode lower case.
    Lowercase,
    /// An e-mail address: trimmed, lower-cased, exactly one `@` with text on both sides.
    Email,
    /// A phone number: ASCII digits only (at least 3); `+`, spaces and punctuation dropped.
    Phone,
}

impl Normalizer {
    fn name(self) -> &'static str {
        match self {
            Normalizer::Trim => "trim",
            Normalizer::Lowercase => "lowercase",
            Normalizer::Email => "email",
            Normalizer::Phone => "phone",
        }
    }

    fn apply(self, s: String) -> Result<String, BlindIndexError> {
        Ok(match self {
            Normalizer::Trim => s.trim().to_owned(),
            Normalizer::Lowercase => s.to_lowercase(),
            Normalizer::Email => {
                let e = s.trim().to_lowercase();
                let mut parts = e.split('@');
                let ok = matches!(
                    (parts.next(), parts.next(), parts.next()),
                    (Some(local), Some(domain), None) if !local.is_empty() && !domain.is_empty()
                );
                if !ok {
                    return Err(BlindIndexError::Input(self.name()));
                }
                e
            }
            Normalizer::Phone => {
                let digits: String = s.chars().filter(char::is_ascii_digit).collect();
                if digits.len() < 3 {
                    return Err(BlindIndexError::Input(self.name()));
                }
                digits
            }
        })
    }
}

/// How a blind index is computed for one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlindIndexSpec {
    /// Normalisers applied in order before hashing.
    #[serde(default)]
    pub normalize: Vec<Normalizer>,
    /// Bits kept of the HMAC output, 8 to 256. Default 32.
    #[serde(default = "default_bits")]
    pub bits: u16,
}

fn default_bits() -> u16 {
    32
}

impl Default for BlindIndexSpec {
    fn default() -> Self {
        Self {
            normalize: Vec::new(),
            bits: default_bits(),
        }
    }
}

impl BlindIndexSpec {
    /// Checks the bit length.
    pub fn validate(&self) -> Result<(), BlindIndexError> {
        if !(8..=256).contains(&self.bits) {
            return Err(BlindIndexError::Config(format!(
                "bits must be between 8 and 256, not {}",
                self.bits
            )));
        }
        Ok(())
    }
}

/// A blind index value: the first `bits` bits of the HMAC, written as lower-case hex of
/// `ceil(bits / 8)` bytes with unused low bits of the last byte zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlindIndex(String);

impl BlindIndex {
    /// The hex text to store in, and query against, an index column.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Display for BlindIndex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

const KDF_SALT: &[u8] = b"crmguard/blind-index/v1";
/// A distinct salt for subject-scoped indexes, so they never coincide with tenant-scoped ones
/// even if key material were reused.
const SUBJECT_KDF_SALT: &[u8] = b"crmguard/subject-blind-index/v1";

/// Which key material a blind index is derived from. It must match the key scope the field
/// is sealed under, or erasing a subject would leave its index values confirmable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlindIndexScope<'a> {
    /// The keyring's tenant-wide blind-index root: fields sealed under the keyring key.
    Keyring,
    /// The data subject's key: fields sealed under it. Fails with `ERR_SUBJECT_FORGOTTEN`
    /// once the subject is forgotten (`ERR_SUBJECT_NOT_FOUND` if it never had a key).
    Subject(&'a SubjectId),
}

impl Keyring {
    /// The blind index of `value` in (tenant, object, field) under `spec`, derived from the
    /// tenant-wide blind-index root: for fields sealed under the keyring key. For a field
    /// sealed under a data subject's key use [`Keyring::blind_index_scoped`] or
    /// [`Keyring::record_blind_index`].
    pub fn blind_index(
        &self,
        tenant: &TenantId,
        object: &ObjectType,
        field: &FieldName,
        spec: &BlindIndexSpec,
        value: &str,
    ) -> Result<BlindIndex, Error> {
        self.blind_index_scoped(BlindIndexScope::Keyring, tenant, object, field, spec, value)
    }

    /// The blind index of `value` in (tenant, object, field) under `spec`, derived from the
    /// key material `scope` names.
    pub fn blind_index_scoped(
        &self,
        scope: BlindIndexScope<'_>,
        tenant: &TenantId,
        object: &ObjectType,
        field: &FieldName,
        spec: &BlindIndexSpec,
        value: &str,
    ) -> Result<BlindIndex, Error> {
        spec.validate()?;
        let (ikm, salt): (&Key256, &[u8]) = match scope {
            BlindIndexScope::Keyring => (&self.index_root, KDF_SALT),
            BlindIndexScope::Subject(subject) => {
                (&self.subject_key(subject)?.material.key, SUBJECT_KDF_SALT)
            }
        };
        let mut normalized = value.to_owned();
        for n in &spec.normalize {
            normalized = n.apply(normalized)?;
        }
        let mut info = Vec::new();
        put_lp(&mut info, tenant.as_str().as_bytes());
        put_lp(&mut info, object.as_str().as_bytes());
        put_lp(&mut info, field.as_str().as_bytes());
        let key = hkdf_sha256(ikm.expose_secret(), salt, &info);
        let mac = hmac_sha256(key.expose_secret(), &[normalized.as_bytes()]);
        let bits = usize::from(spec.bits);
        let mut out = mac[..bits.div_ceil(8)].to_vec();
        if bits % 8 != 0 {
            let last = out.len() - 1;
            out[last] &= 0xffu8 << (8 - bits % 8);
        }
        Ok(BlindIndex(out.iter().map(|b| format!("{b:02x}")).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Key256;

    fn keyring() -> Keyring {
        Keyring::from_keys(
            1,
            Key256::from_bytes([1; 32]),
            Key256::from_bytes([2; 32]),
            0,
        )
        .unwrap()
    }

    fn ids(t: &str, o: &str, f: &str) -> (TenantId, ObjectType, FieldName) {
        (
            TenantId::new(t).unwrap(),
            ObjectType::new(o).unwrap(),
            FieldName::new(f).unwrap(),
        )
    }

    #[test]
    fn normalisers_make_equal_meanings_match() {
        let k = keyring();
        let (t, o, f) = ids("acme", "contact", "email");
        let spec = BlindIndexSpec {
            normalize: vec![Normalizer::Email],
            bits: 32,
        };
        let a = k
            .blind_index(&t, &o, &f, &spec, "Ada@Example.com ")
            .unwrap();
        let b = k
            .blind_index(&t, &o, &f, &spec, "  ada@example.COM")
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str().len(), 8);
        let c = k
            .blind_index(&t, &o, &f, &spec, "ada2@example.com")
            .unwrap();
        assert_ne!(a, c);

        let phone = BlindIndexSpec {
            normalize: vec![Normalizer::Phone],
            bits: 24,
        };
        let (t, o, f) = ids("acme", "contact", "phone");
        let p1 = k
            .blind_index(&t, &o, &f, &phone, "+44 (20) 7946-0958")
            .unwrap();
        let p2 = k.blind_index(&t, &o, &f, &phone, "442079460958").unwrap();
        assert_eq!(p1, p2);
        assert_eq!(p1.as_str().len(), 6);
    }

    #[test]
    fn separate_keys_per_tenant_object_and_field() {
        let k = keyring();
        let spec = BlindIndexSpec::default();
        let base = ids("acme", "contact", "email");
        let v = "ada@example.com";
        let i0 = k.blind_index(&base.0, &base.1, &base.2, &spec, v).unwrap();
        for (t, o, f) in [
            ids("globex", "contact", "email"),
            ids("acme", "lead", "email"),
            ids("acme", "contact", "email2"),
        ] {
            assert_ne!(i0, k.blind_index(&t, &o, &f, &spec, v).unwrap());
        }
        let other = Keyring::from_keys(
            1,
            Key256::from_bytes([1; 32]),
            Key256::from_bytes([3; 32]),
            0,
        )
        .unwrap();
        assert_ne!(
            i0,
            other
                .blind_index(&base.0, &base.1, &base.2, &spec, v)
                .unwrap()
        );
    }

    #[test]
    fn truncation_masks_unused_bits_and_rejects_bad_config() {
        let k = keyring();
        let (t, o, f) = ids("acme", "contact", "email");
        for bits in [8u16, 9, 12, 15, 31, 256] {
            let spec = BlindIndexSpec {
                normalize: vec![],
                bits,
            };
            let idx = k.blind_index(&t, &o, &f, &spec, "x").unwrap();
            let bytes = usize::from(bits).div_ceil(8);
            assert_eq!(idx.as_str().len(), bytes * 2);
            let last = u8::from_str_radix(&idx.as_str()[idx.as_str().len() - 2..], 16).unwrap();
            let unused = (bytes * 8) - usize::from(bits);
            assert_eq!(last & ((1u16 << unused) - 1) as u8, 0, "bits {bits}");
        }
        for bits in [0u16, 7, 257] {
            let spec = BlindIndexSpec {
                normalize: vec![],
                bits,
            };
            let e = k.blind_index(&t, &o, &f, &spec, "x").unwrap_err();
            assert_eq!(e.code(), "ERR_BLIND_INDEX_CONFIG");
        }
        let email = BlindIndexSpec {
            normalize: vec![Normalizer::Email],
            bits: 32,
        };
        for bad in ["", "no-at-sign", "@example.com", "ada@", "a@b@c"] {
            let e = k.blind_index(&t, &o, &f, &email, bad).unwrap_err();
            assert_eq!(e.code(), "ERR_BLIND_INDEX_INPUT", "{bad:?}");
        }
    }
}
