//! The sealed-field format: a value encrypted with XAES-256-GCM and bound to its context.
//!
//! Binary form (all integers big-endian; see docs/FORMAT.md):
//!
//! ```text
//! 0      1      2        3..7     7..31   31..n-16    n-16..n
//! 0x01 | scope | content | key id | nonce | ciphertext | tag
//! ```
//!
//! Text form: `cg1:` followed by the binary form in unpadded base64url.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::SealedFieldError;
use crate::context::FieldContext;
use crate::crypto::put_lp;
use crate::crypto::xaes::{NONCE_LEN, TAG_LEN};

/// The format version this build writes and reads.
pub(crate) const VERSION: u8 = 0x01;
/// Length of the header (version, scope, content type, key id).
pub(crate) const HEADER_LEN: usize = 7;
/// Bytes a sealed value adds to its plaintext: header, nonce and tag.
pub const SEALED_OVERHEAD: usize = HEADER_LEN + NONCE_LEN + TAG_LEN;
/// The prefix of the text form.
pub const TEXT_PREFIX: &str = "cg1:";
/// The largest plaintext accepted for one field: 16 MiB.
pub const MAX_PLAINTEXT_LEN: usize = 16 * 1024 * 1024;
/// Domain-separation label at the start of the associated data.
pub(crate) const AAD_LABEL: &[u8] = b"crmguard/sealed-field/v1";

/// Which key seals a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyRef {
    /// A keyring key, by id.
    Keyring(KeyId),
    /// The data subject's key (the subject is named by the context), by key generation.
    Subject(u32),
}

/// How the plaintext bytes are to be read once opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// Arbitrary bytes (for text fields: UTF-8).
    Bytes,
    /// A JSON value in its compact serialisation (record fields that are not strings).
    Json,
}

impl ContentType {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            ContentType::Bytes => 0x00,
            ContentType::Json => 0x01,
        }
    }
}

/// A keyring key id. Ids start at 1 and grow by one with each rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub(crate) u32);

impl KeyId {
    /// The numeric id.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl core::fmt::Display for KeyId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A sealed field value (its binary form; [`SealedField::to_text`] gives the text form).
///
/// Parsing checks only the structure; authenticity is checked when the field is opened.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedField {
    bytes: Vec<u8>,
}

impl core::fmt::Debug for SealedField {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SealedField")
            .field("key", &self.key_ref())
            .field("content", &self.content_type())
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl SealedField {
    /// Parses the binary form.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealedFieldError> {
        Self::from_vec(bytes.to_vec())
    }

    pub(crate) fn from_vec(bytes: Vec<u8>) -> Result<Self, SealedFieldError> {
        if bytes.is_empty() {
            return Err(SealedFieldError::Malformed("empty"));
        }
        if bytes[0] != VERSION {
            return Err(SealedFieldError::Unsupported);
        }
        if bytes.len() < SEALED_OVERHEAD {
            return Err(SealedFieldError::Malformed("too short"));
        }
        if !matches!(bytes[1], 0x01 | 0x02) || !matches!(bytes[2], 0x00 | 0x01) {
            return Err(SealedFieldError::Unsupported);
        }
        if bytes.len() - SEALED_OVERHEAD > MAX_PLAINTEXT_LEN {
            return Err(SealedFieldError::Malformed("longer than the 16 MiB limit"));
        }
        Ok(Self { bytes })
    }

    /// Parses the text form (`cg1:` + unpadded base64url). Surrounding whitespace is not
    /// accepted; callers strip a trailing newline themselves.
    pub fn from_text(text: &str) -> Result<Self, SealedFieldError> {
        let b64 = text
            .strip_prefix(TEXT_PREFIX)
            .ok_or(SealedFieldError::Malformed("missing the cg1: prefix"))?;
        // The base64 crate rejects padding and non-canonical trailing bits with this engine.
        let bytes = URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| SealedFieldError::Malformed("invalid base64url"))?;
        Self::from_vec(bytes)
    }

    /// True if `text` starts with the text-form prefix (it may still fail to parse).
    pub fn looks_sealed(text: &str) -> bool {
        text.starts_with(TEXT_PREFIX)
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(TEXT_PREFIX.len() + self.bytes.len().div_ceil(3) * 4);
        s.push_str(TEXT_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&self.bytes, &mut s);
        s
    }

    /// The binary form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Which key sealed this value.
    pub fn key_ref(&self) -> KeyRef {
        let id = u32::from_be_bytes([self.bytes[3], self.bytes[4], self.bytes[5], self.bytes[6]]);
        match self.bytes[1] {
            0x02 => KeyRef::Subject(id),
            _ => KeyRef::Keyring(KeyId(id)),
        }
    }

    /// How to read the plaintext.
    pub fn content_type(&self) -> ContentType {
        match self.bytes[2] {
            0x01 => ContentType::Json,
            _ => ContentType::Bytes,
        }
    }

    pub(crate) fn header(&self) -> &[u8] {
        &self.bytes[..HEADER_LEN]
    }

    pub(crate) fn nonce(&self) -> &[u8; NONCE_LEN] {
        // from_vec guarantees at least SEALED_OVERHEAD bytes.
        self.bytes[HEADER_LEN..HEADER_LEN + NONCE_LEN]
            .try_into()
            .expect("length checked at parse time")
    }

    /// The AES-GCM ciphertext followed by its 16-byte tag (see [`Keyring::prepare_open`]).
    ///
    /// [`Keyring::prepare_open`]: crate::Keyring::prepare_open
    pub fn ciphertext_and_tag(&self) -> &[u8] {
        &self.bytes[HEADER_LEN + NONCE_LEN..]
    }

    /// Assembles a sealed field: `body` holds the header and nonce already, then the
    /// plaintext; `seal` encrypts the plaintext in place and returns the tag.
    pub(crate) fn assemble(
        key: KeyRef,
        content: ContentType,
        nonce: &[u8; NONCE_LEN],
        plaintext: &[u8],
        ctx: &FieldContext,
        seal: impl FnOnce(&[u8], &mut [u8]) -> [u8; TAG_LEN],
    ) -> Self {
        let mut bytes = Vec::with_capacity(SEALED_OVERHEAD + plaintext.len());
        bytes.extend_from_slice(&header(key, content));
        bytes.extend_from_slice(nonce);
        bytes.extend_from_slice(plaintext);
        let aad = associated_data(&bytes[..HEADER_LEN], ctx);
        let tag = seal(&aad, &mut bytes[HEADER_LEN + NONCE_LEN..]);
        bytes.extend_from_slice(&tag);
        Self { bytes }
    }
}

pub(crate) fn header(key: KeyRef, content: ContentType) -> [u8; HEADER_LEN] {
    let (scope, id) = match key {
        KeyRef::Keyring(id) => (0x01, id.0),
        KeyRef::Subject(generation) => (0x02, generation),
    };
    let id = id.to_be_bytes();
    [
        VERSION,
        scope,
        content.to_byte(),
        id[0],
        id[1],
        id[2],
        id[3],
    ]
}

/// The associated data: label, header, tenant, object, record, field, subject — each
/// variable-length item with a 4-byte big-endian length prefix. The subject is the empty
/// string for keyring-scoped values.
pub(crate) fn associated_data(header: &[u8], ctx: &FieldContext) -> Vec<u8> {
    let subject = if header[1] == 0x02 {
        ctx.subject.as_ref().map_or("", |s| s.as_str())
    } else {
        ""
    };
    let mut aad = Vec::with_capacity(
        AAD_LABEL.len()
            + HEADER_LEN
            + 24
            + ctx.tenant.as_str().len()
            + ctx.object.as_str().len()
            + ctx.record.as_str().len()
            + ctx.field.as_str().len()
            + subject.len(),
    );
    put_lp(&mut aad, AAD_LABEL);
    aad.extend_from_slice(header);
    for part in [
        ctx.tenant.as_str(),
        ctx.object.as_str(),
        ctx.record.as_str(),
        ctx.field.as_str(),
        subject,
    ] {
        put_lp(&mut aad, part.as_bytes());
    }
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_parsing_rejects_junk_without_panicking() {
        for bad in [
            "",
            "cg1:",
            "cg1",
            "cg2:AQ",
            "cg1:AQ==",
            "cg1:!!!!",
            "cg1: AQEA",
            "CG1:AQEAAAAB",
        ] {
            assert!(SealedField::from_text(bad).is_err(), "{bad:?}");
        }
        // Right length, unknown version.
        let mut v = vec![0x02u8; SEALED_OVERHEAD];
        assert_eq!(
            SealedField::from_bytes(&v),
            Err(SealedFieldError::Unsupported)
        );
        v[0] = VERSION;
        v[1] = 0x09;
        assert_eq!(
            SealedField::from_bytes(&v),
            Err(SealedFieldError::Unsupported)
        );
        v[1] = 0x01;
        v[2] = 0x00;
        assert!(SealedField::from_bytes(&v).is_ok());
        assert!(SealedField::from_bytes(&v[..SEALED_OVERHEAD - 1]).is_err());
    }

    #[test]
    fn non_canonical_base64_is_rejected() {
        let v = {
            let mut v = vec![0u8; SEALED_OVERHEAD];
            v[0] = VERSION;
            v[1] = 0x01;
            v
        };
        let good = SealedField::from_bytes(&v).unwrap().to_text();
        assert!(SealedField::from_text(&good).is_ok());
        // 47 bytes -> 63 base64 chars, whose last char carries 2 unused bits: set them.
        let mut chars: Vec<char> = good.chars().collect();
        let last = chars.len() - 1;
        assert_eq!(chars[last], 'A');
        chars[last] = 'B';
        let tweaked: String = chars.into_iter().collect();
        assert!(SealedField::from_text(&tweaked).is_err());
    }
}
