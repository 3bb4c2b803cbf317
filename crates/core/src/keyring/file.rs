//! The keyring file: a versioned JSON document, stored sealed under a master key
//! (XAES-256-GCM), or in cleartext only when the caller explicitly allows it.
//!
//! A v2 file names its keyring (a random 128-bit id) and generation (a counter every
//! persisted mutation raises) in clear, and binds both into the AEAD's associated data, so a
//! caller that remembers what it last saw can refuse another keyring under the same master key
//! and an older copy of its own ([`KeyringFileOptions::expect`]). v1 files (no id, no
//! generation) are still read, but only when no expectation is given; they are written back
//! as v2 (docs/FORMAT.md §3).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::{DataKey, KeyMaterial, KeyStatus, Keyring, SubjectKey};
use crate::context::SubjectId;
use crate::crypto::xaes::{NONCE_LEN, Xaes256Gcm};
use crate::crypto::{Entropy, Key256, hkdf_sha256, put_lp};
use crate::sealed::KeyId;
use crate::{Error, KeyringError};

/// The `format` member of every keyring file this build writes.
pub const KEYRING_FORMAT: &str = "crmguard-keyring/v2";
/// The format before keyring ids and generations; read (without an expectation) only.
const KEYRING_FORMAT_V1: &str = "crmguard-keyring/v1";
const PROTECTION_XAES: &str = "xaes-256-gcm";
const PROTECTION_NONE: &str = "none";
const AAD_LABEL: &[u8] = b"crmguard/keyring/v2";
const AAD_LABEL_V1: &[u8] = b"crmguard/keyring/v1";
/// Keyring files larger than this are refused before parsing (a keyring with a million
/// subjects is about 150 MB; this bound is for a single file).
const MAX_FILE_LEN: usize = 512 * 1024 * 1024;

/// A keyring's identity: 128 bits, random when the keyring is generated. Not secret; written
/// as 32 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyringId([u8; 16]);

impl KeyringId {
    /// Wraps 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses 32 lower-case hex digits.
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        parse_hex::<16>(text)
            .map(Self)
            .ok_or_else(|| malformed("keyring_id must be 32 lower-case hex digits"))
    }

    /// 32 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        hex_lower(&self.0)
    }

    pub(crate) fn generate(entropy: &mut impl Entropy) -> Result<Self, Error> {
        let mut id = [0u8; 16];
        entropy.fill(&mut id)?;
        Ok(Self(id))
    }

    /// The id of a keyring made without entropy (imports, known-answer vectors, v1 files):
    /// the first 16 bytes of `HKDF-SHA256(ikm = blind_index_root, salt = "crmguard/v1",
    /// info = "keyring-id")`. A pseudo-random function of a secret, so it reveals nothing.
    pub fn derived(blind_index_root: &Key256) -> Self {
        let okm = hkdf_sha256(
            blind_index_root.expose_secret(),
            b"crmguard/v1",
            b"keyring-id",
        );
        let mut id = [0u8; 16];
        id.copy_from_slice(&okm.expose_secret()[..16]);
        Self(id)
    }
}

impl core::fmt::Debug for KeyringId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KeyringId({})", self.to_hex())
    }
}

impl core::fmt::Display for KeyringId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl core::str::FromStr for KeyringId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_hex(s)
    }
}

/// Whether a cleartext keyring file may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CleartextPolicy {
    /// Refuse it (`ERR_KEYRING_CLEARTEXT`): the default.
    #[default]
    Refuse,
    /// Read it (tests and demos): every key is readable by anyone who reads the file. Even so,
    /// a cleartext file is refused when a master key is supplied.
    Allow,
}

/// What the caller knows about the keyring it is loading, from the last time it saw it
/// ([`Keyring::expectation`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedKeyring {
    /// The keyring's id: another id is `ERR_KEYRING_IDENTITY`.
    pub id: KeyringId,
    /// The lowest acceptable generation: lower is `ERR_KEYRING_ROLLBACK`.
    pub min_generation: u64,
}

/// How [`Keyring::from_json`] reads a keyring file. The default reads nothing but fails
/// clearly: no master key, cleartext refused, no expectation.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyringFileOptions<'a> {
    /// The master key a protected file is sealed under. Supplying one also means a cleartext
    /// file is refused, whatever `cleartext` says.
    pub master: Option<&'a Key256>,
    /// Whether a cleartext file may be read (only without a master key).
    pub cleartext: CleartextPolicy,
    /// The keyring id and minimum generation the file must have. `None` accepts any keyring
    /// of any generation, and v1 files.
    pub expect: Option<ExpectedKeyring>,
}

impl<'a> KeyringFileOptions<'a> {
    /// A protected file under `master`, with no expectation.
    pub fn protected(master: &'a Key256) -> Self {
        Self {
            master: Some(master),
            ..Self::default()
        }
    }

    /// A cleartext file (tests and demos), with no expectation.
    pub fn insecure_cleartext() -> Self {
        Self {
            cleartext: CleartextPolicy::Allow,
            ..Self::default()
        }
    }

    /// The same options, requiring the file to be `expected`'s keyring, not older.
    pub fn expecting(self, expected: ExpectedKeyring) -> Self {
        Self {
            expect: Some(expected),
            ..self
        }
    }
}

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keyring_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    generation: Option<u64>,
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

    fn from_document(doc: &Document, version: Version) -> Result<Self, Error> {
        if doc.format != version.format() {
            return Err(malformed(format!(
                "document format {:?} differs from the file's",
                doc.format
            )));
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
            let r = parse_hex::<32>(&f.subject_ref)
                .ok_or_else(|| malformed("forgotten subject_ref must be 64 hex digits"))?;
            forgotten.insert(r, f.forgotten_at);
        }
        let index_root = key_from_b64("blind_index_root", &doc.blind_index_root.0)?;
        let (id, generation) = match version {
            Version::V2 { id, generation } => (id, generation),
            Version::V1 => (KeyringId::derived(&index_root), 0),
        };
        let keyring = Self {
            id,
            generation,
            primary,
            keys,
            index_root,
            subjects,
            forgotten,
        };
        if keyring.subjects.keys().any(|s| keyring.is_forgotten(s)) {
            return Err(malformed("a subject is both live and forgotten"));
        }
        Ok(keyring)
    }

    /// The keyring file sealed under `master` (XAES-256-GCM, random nonce), binding this
    /// keyring's id and generation. The result holds no secret in clear.
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
        let version = self.version();
        let sealed = Xaes256Gcm::new(master).seal(&nonce, &version.aad(), &plain);
        let file = FileForm {
            protection: PROTECTION_XAES.into(),
            nonce: Some(b64(&nonce)),
            ciphertext: Some(b64(&sealed)),
            ..FileForm::outer(version)
        };
        Ok(serde_json::to_string_pretty(&file).expect("file form serialises") + "\n")
    }

    /// The keyring file in cleartext: every key readable by anyone who reads the file.
    /// Only for tests and demos; the file says so in its `warning` member.
    pub fn to_cleartext_json(&self) -> Zeroizing<String> {
        let file = FileForm {
            protection: PROTECTION_NONE.into(),
            warning: Some("INSECURE: this keyring is stored in cleartext".into()),
            keyring: Some(self.to_document()),
            ..FileForm::outer(self.version())
        };
        Zeroizing::new(serde_json::to_string_pretty(&file).expect("file form serialises") + "\n")
    }

    fn version(&self) -> Version {
        Version::V2 {
            id: self.id,
            generation: self.generation,
        }
    }

    /// Reads a keyring file as `options` say. A protected file needs the master key; a
    /// cleartext one is refused with `ERR_KEYRING_CLEARTEXT` unless cleartext is allowed and
    /// no master key is supplied. With an expectation, a file of another keyring is
    /// `ERR_KEYRING_IDENTITY` and an older one `ERR_KEYRING_ROLLBACK`; the id and generation
    /// are authenticated by the master key (a modified one is `ERR_KEYRING_AUTH`).
    pub fn from_json(text: &str, options: &KeyringFileOptions<'_>) -> Result<Self, Error> {
        if text.len() > MAX_FILE_LEN {
            return Err(malformed("file too large"));
        }
        let file: FileForm = serde_json::from_str(text)
            .map_err(|e| malformed(format!("not a keyring file: {}", json_error_position(&e))))?;
        let version = file.version()?;
        match file.protection.as_str() {
            PROTECTION_XAES => {
                let master = options.master.ok_or_else(|| {
                    KeyringError::MasterKey(
                        "this keyring is protected; a master key is required".into(),
                    )
                })?;
                version.check(options.expect)?;
                let doc = file.open(master, version)?;
                Self::from_document(&doc, version)
            }
            PROTECTION_NONE => {
                if options.master.is_some() {
                    return Err(KeyringError::CleartextWithMasterKey.into());
                }
                if options.cleartext != CleartextPolicy::Allow {
                    return Err(KeyringError::Cleartext.into());
                }
                version.check(options.expect)?;
                let doc = file
                    .keyring
                    .as_ref()
                    .ok_or_else(|| malformed("a cleartext keyring needs a keyring member"))?;
                Self::from_document(doc, version)
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

/// What the outer file says about the keyring: nothing (v1), or its id and generation (v2).
#[derive(Clone, Copy)]
enum Version {
    V1,
    V2 { id: KeyringId, generation: u64 },
}

impl Version {
    fn format(self) -> &'static str {
        match self {
            Version::V1 => KEYRING_FORMAT_V1,
            Version::V2 { .. } => KEYRING_FORMAT,
        }
    }

    /// v2: `lp("crmguard/keyring/v2") || keyring id (16 bytes) || u64be(generation)`;
    /// v1: `lp("crmguard/keyring/v1")`.
    fn aad(self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(4 + AAD_LABEL.len() + 16 + 8);
        match self {
            Version::V1 => put_lp(&mut aad, AAD_LABEL_V1),
            Version::V2 { id, generation } => {
                put_lp(&mut aad, AAD_LABEL);
                aad.extend_from_slice(id.as_bytes());
                aad.extend_from_slice(&generation.to_be_bytes());
            }
        }
        aad
    }

    /// Refuses a file that is not the expected keyring, or older than it.
    fn check(self, expect: Option<ExpectedKeyring>) -> Result<(), Error> {
        let Some(expected) = expect else {
            return Ok(());
        };
        match self {
            Version::V1 => Err(KeyringError::Identity(
                "a v1 keyring file has no authenticated id or generation",
            )
            .into()),
            Version::V2 { id, .. } if id != expected.id => {
                Err(KeyringError::Identity("another keyring id").into())
            }
            Version::V2 { generation, .. } if generation < expected.min_generation => {
                Err(KeyringError::Rollback {
                    found: generation,
                    min: expected.min_generation,
                }
                .into())
            }
            Version::V2 { .. } => Ok(()),
        }
    }
}

impl FileForm {
    /// The members every file of `version` has; protection-specific ones are filled in.
    fn outer(version: Version) -> Self {
        let (keyring_id, generation) = match version {
            Version::V1 => (None, None),
            Version::V2 { id, generation } => (Some(id.to_hex()), Some(generation)),
        };
        Self {
            format: version.format().into(),
            keyring_id,
            generation,
            protection: String::new(),
            warning: None,
            nonce: None,
            ciphertext: None,
            keyring: None,
        }
    }

    fn version(&self) -> Result<Version, Error> {
        match (self.format.as_str(), &self.keyring_id, self.generation) {
            (KEYRING_FORMAT, Some(id), Some(generation)) => Ok(Version::V2 {
                id: KeyringId::from_hex(id)?,
                generation,
            }),
            (KEYRING_FORMAT, _, _) => Err(malformed(
                "a v2 keyring file needs keyring_id and generation",
            )),
            (KEYRING_FORMAT_V1, None, None) => Ok(Version::V1),
            (KEYRING_FORMAT_V1, _, _) => Err(malformed(
                "a v1 keyring file has no keyring_id or generation",
            )),
            (other, _, _) => Err(malformed(format!("unknown format {other:?}"))),
        }
    }

    /// Decrypts a protected file's document; the id and generation are in the AAD.
    fn open(&self, master: &Key256, version: Version) -> Result<Document, Error> {
        let (Some(nonce), Some(ct), None) = (&self.nonce, &self.ciphertext, &self.keyring) else {
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
                .open(&nonce, &version.aad(), &ct)
                .map_err(|_| KeyringError::Auth)?,
        );
        serde_json::from_slice(&plain)
            .map_err(|e| malformed(format!("document: {}", json_error_position(&e))))
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
