//! The keyring file: a versioned JSON document, stored sealed under a master key
//! (XAES-256-GCM), or in cleartext only when the caller explicitly allows it.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::{DataKey, KeyMaterial, KeyStatus, Keyring, SubjectKey};
use crate::context::SubjectId;
use crate::crypto::xaes::{NONCE_LEN, Xaes256Gcm};
use crate::crypto::{Entropy, Key256, put_lp};
use crate::sealed::KeyId;
use crate::{Error, KeyringError};

/// The `format` member of every keyring file.
pub const KEYRING_FORMAT: &str = "crmguard-keyring/v1";
const PROTECTION_XAES: &str = "xaes-256-gcm";
const PROTECTION_NONE: &str = "none";
const AAD_LABEL: &[u8] = b"crmguard/keyring/v1";
/// Keyring files larger than this are refused before parsing (a keyring with a million
/// subjects is about 150 MB; this bound is for a single file).
const MAX_FILE_LEN: usize = 512 * 1024 * 1024;

/// Parses a master key: base64 (standard or URL-safe, padded or not) of exactly 32 bytes;
/// surrounding whitespace is ignored.
pub fn parse_master_key(text: &str) -> Result<Key256, Error> {
    let t = text.trim();
    let bytes = Zeroizing::new(
        [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(t).ok())
            .ok_or_else(|| KeyringError::MasterKey("not valid base64".into()))?,
    );
    Key256::from_slice(&bytes)
        .map_err(|_| KeyringError::MasterKey("must decode to exactly 32 bytes".into()).into())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn key_from_b64(what: &str, text: &str) -> Result<Key256, Error> {
    let bytes = Zeroizing::new(
        URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| malformed(format!("{what}: invalid base64url")))?,
    );
    Key256::from_slice(&bytes).map_err(|_| malformed(format!("{what}: not 32 bytes")))
}

fn malformed(msg: impl Into<String>) -> Error {
    KeyringError::Malformed(msg.into()).into()
}

/// The keyring document (the plaintext of a protected file). Base64 strings holding key
/// material are wiped when the document is dropped.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    format: String,
    primary: u32,
    keys: Vec<DocKey>,
    blind_index_root: SecretString,
    #[serde(default)]
    subjects: Vec<DocSubject>,
    #[serde(default)]
    forgotten: Vec<DocForgotten>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocKey {
    id: u32,
    status: KeyStatus,
    created: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    material: Option<SecretString>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocSubject {
    id: String,
    generation: u32,
    created: u64,
    material: SecretString,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocForgotten {
    subject_ref: String,
    forgotten_at: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct SecretString(String);

impl Drop for SecretString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// The outer file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    format: String,
    protection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ciphertext: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keyring: Option<Document>,
}

impl Keyring {
    fn to_document(&self) -> Document {
        Document {
            format: KEYRING_FORMAT.into(),
            primary: self.primary.0,
            keys: self
                .keys
                .iter()
                .map(|(id, k)| DocKey {
                    id: id.0,
                    status: k.status,
                    created: k.created,
                    material: k
                        .material
                        .as_ref()
                        .map(|m| SecretString(b64(m.key.expose_secret()))),
                })
                .collect(),
            blind_index_root: SecretString(b64(self.index_root.expose_secret())),
            subjects: self
                .subjects
                .iter()
                .map(|(id, s)| DocSubject {
                    id: id.as_str().into(),
                    generation: s.generation,
                    created: s.created,
                    material: SecretString(b64(s.material.key.expose_secret())),
                })
                .collect(),
            forgotten: self
                .forgotten
                .iter()
                .map(|(r, at)| DocForgotten {
                    subject_ref: hex_lower(r),
                    forgotten_at: *at,
                })
                .collect(),
        }
    }

    fn from_document(doc: &Document) -> Result<Self, Error> {
        if doc.format != KEYRING_FORMAT {
            return Err(malformed(format!("unknown format {:?}", doc.format)));
        }
        let mut keys = BTreeMap::new();
        for k in &doc.keys {
            if k.id == 0 {
                return Err(malformed("key id 0 is reserved"));
            }
            let material = match (&k.status, &k.material) {
                (KeyStatus::Destroyed, None) => None,
                (KeyStatus::Destroyed, Some(_)) => {
                    return Err(malformed(format!(
                        "destroyed key {} still has material",
                        k.id
                    )));
                }
                (_, Some(m)) => Some(KeyMaterial::new(key_from_b64("key material", &m.0)?)),
                (_, None) => return Err(malformed(format!("key {} has no material", k.id))),
            };
            let entry = DataKey {
                status: k.status,
                created: k.created,
                material,
            };
            if keys.insert(KeyId(k.id), entry).is_some() {
                return Err(malformed(format!("duplicate key id {}", k.id)));
            }
        }
        let primary = KeyId(doc.primary);
        match keys.get(&primary) {
            Some(k) if k.status == KeyStatus::Active => {}
            Some(_) => return Err(malformed("the primary key is not active")),
            None => return Err(malformed("the primary key is missing")),
        }
        let mut subjects = BTreeMap::new();
        for s in &doc.subjects {
            let id =
                SubjectId::new(s.id.as_str()).map_err(|e| malformed(format!("subject: {e}")))?;
            let entry = SubjectKey {
                generation: s.generation,
                created: s.created,
                material: KeyMaterial::new(key_from_b64("subject key", &s.material.0)?),
            };
            if subjects.insert(id, entry).is_some() {
                return Err(malformed("duplicate subject"));
            }
        }
        let mut forgotten = BTreeMap::new();
        for f in &doc.forgotten {
            let r = parse_hex32(&f.subject_ref)
                .ok_or_else(|| malformed("forgotten subject_ref must be 64 hex digits"))?;
            forgotten.insert(r, f.forgotten_at);
        }
        let keyring = Self {
            primary,
            keys,
            index_root: key_from_b64("blind_index_root", &doc.blind_index_root.0)?,
            subjects,
            forgotten,
        };
        if keyring.subjects.keys().any(|s| keyring.is_forgotten(s)) {
            return Err(malformed("a subject is both live and forgotten"));
        }
        Ok(keyring)
    }

    /// The keyring file sealed under `master` (XAES-256-GCM, random nonce). The result holds
    /// no secret in clear.
    pub fn to_protected_json(
        &self,
        master: &Key256,
        entropy: &mut impl Entropy,
    ) -> Result<String, Error> {
        let doc = self.to_document();
        // serde_json only fails on non-string map keys and failing Serialize impls; there are none.
        let plain = Zeroizing::new(serde_json::to_vec(&doc).expect("keyring document serialises"));
        let mut nonce = [0u8; NONCE_LEN];
        entropy.fill(&mut nonce)?;
        let sealed = Xaes256Gcm::new(master).seal(&nonce, &keyring_aad(), &plain);
        let file = FileForm {
            format: KEYRING_FORMAT.into(),
            protection: PROTECTION_XAES.into(),
            warning: None,
            nonce: Some(b64(&nonce)),
            ciphertext: Some(b64(&sealed)),
            keyring: None,
        };
        Ok(serde_json::to_string_pretty(&file).expect("file form serialises") + "\n")
    }

    /// The keyring file in cleartext: every key readable by anyone who reads the file.
    /// Only for tests and demos; the file says so in its `warning` member.
    pub fn to_cleartext_json(&self) -> Zeroizing<String> {
        let file = FileForm {
            format: KEYRING_FORMAT.into(),
            protection: PROTECTION_NONE.into(),
            warning: Some("INSECURE: this keyring is stored in cleartext".into()),
            nonce: None,
            ciphertext: None,
            keyring: Some(self.to_document()),
        };
        Zeroizing::new(serde_json::to_string_pretty(&file).expect("file form serialises") + "\n")
    }

    /// Reads a keyring file. A protected file needs `master`; a cleartext one is refused
    /// with `ERR_KEYRING_CLEARTEXT` unless `allow_cleartext` is set.
    pub fn from_json(
        text: &str,
        master: Option<&Key256>,
        allow_cleartext: bool,
    ) -> Result<Self, Error> {
        if text.len() > MAX_FILE_LEN {
            return Err(malformed("file too large"));
        }
        let file: FileForm = serde_json::from_str(text)
            .map_err(|e| malformed(format!("not a keyring file: {}", json_error_position(&e))))?;
        if file.format != KEYRING_FORMAT {
            return Err(malformed(format!("unknown format {:?}", file.format)));
        }
        match file.protection.as_str() {
            PROTECTION_XAES => {
                let master = master.ok_or_else(|| {
                    KeyringError::MasterKey(
                        "this keyring is protected; a master key is required".into(),
                    )
                })?;
                let (Some(nonce), Some(ct), None) = (&file.nonce, &file.ciphertext, &file.keyring)
                else {
                    return Err(malformed(
                        "a protected keyring has nonce and ciphertext only",
                    ));
                };
                let nonce: [u8; NONCE_LEN] = URL_SAFE_NO_PAD
                    .decode(nonce)
                    .ok()
                    .and_then(|n| n.try_into().ok())
                    .ok_or_else(|| malformed("nonce must be 24 bytes of base64url"))?;
                let ct = URL_SAFE_NO_PAD
                    .decode(ct)
                    .map_err(|_| malformed("ciphertext: invalid base64url"))?;
                let plain = Zeroizing::new(
                    Xaes256Gcm::new(master)
                        .open(&nonce, &keyring_aad(), &ct)
                        .map_err(|_| KeyringError::Auth)?,
                );
                let doc: Document = serde_json::from_slice(&plain)
                    .map_err(|e| malformed(format!("document: {}", json_error_position(&e))))?;
                Self::from_document(&doc)
            }
            PROTECTION_NONE => {
                if !allow_cleartext {
                    return Err(KeyringError::Cleartext.into());
                }
                let doc = file
                    .keyring
                    .as_ref()
                    .ok_or_else(|| malformed("a cleartext keyring needs a keyring member"))?;
                Self::from_document(doc)
            }
            other => Err(malformed(format!("unknown protection {other:?}"))),
        }
    }

    /// Whether a keyring file is stored in cleartext (without parsing its keys).
    pub fn file_is_cleartext(text: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| {
                v.get("protection")
                    .and_then(|p| p.as_str())
                    .map(|p| p == PROTECTION_NONE)
            })
            .unwrap_or(false)
    }
}

/// serde_json's message can quote input; keep only the position (the input may hold keys).
fn json_error_position(e: &serde_json::Error) -> String {
    format!(
        "invalid JSON or unexpected content at line {} column {}",
        e.line(),
        e.column()
    )
}

fn keyring_aad() -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + 4);
    put_lp(&mut aad, AAD_LABEL);
    aad
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
