//! Keyrings: versioned data keys with one primary, the blind-index root key, and
//! per-data-subject keys (crypto-shredding).

mod file;
mod gcm_step;

pub use file::{
    CleartextPolicy, ExpectedKeyring, KEYRING_FORMAT, KeyringFileOptions, KeyringId,
    parse_master_key,
};
pub use gcm_step::{GcmStep, PendingSeal};

use std::collections::BTreeMap;

use crate::context::{FieldContext, SubjectId};
use crate::crypto::xaes::{NONCE_LEN, TAG_LEN, Xaes256Gcm};
use crate::crypto::{Entropy, Key256, hkdf_sha256, hmac_sha256};
use crate::sealed::{ContentType, KeyId, KeyRef, MAX_PLAINTEXT_LEN, SealedField, associated_data};
use crate::{Error, KeyError, KeyringError, SealedFieldError, SubjectError};

/// The lifecycle state of a keyring key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyStatus {
    /// Seals (if primary) and opens.
    Active,
    /// Opens only; the state of a former primary after rotation.
    DecryptOnly,
    /// Material erased; values sealed under it cannot be opened.
    Destroyed,
}

/// What a keyring says about one of its keys (never the material).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id.
    pub id: KeyId,
    /// Its state.
    pub status: KeyStatus,
    /// When it was created (Unix seconds, from the caller's clock).
    pub created: u64,
    /// Whether new values are sealed under it.
    pub primary: bool,
}

/// The outcome of [`Keyring::forget_subject`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgetOutcome {
    /// The subject's key was erased now.
    Erased,
    /// The subject had been forgotten before; nothing changed.
    AlreadyForgotten,
}

/// A key and its expanded cipher. Both wipe themselves on drop.
pub(crate) struct KeyMaterial {
    pub(crate) key: Key256,
    xaes: Xaes256Gcm,
}

impl KeyMaterial {
    pub(crate) fn new(key: Key256) -> Self {
        let xaes = Xaes256Gcm::new(&key);
        Self { key, xaes }
    }
}

pub(crate) struct DataKey {
    pub(crate) status: KeyStatus,
    pub(crate) created: u64,
    pub(crate) material: Option<KeyMaterial>,
}

pub(crate) struct SubjectKey {
    pub(crate) generation: u32,
    pub(crate) created: u64,
    pub(crate) material: KeyMaterial,
}

/// A set of versioned data keys with one primary, a blind-index root key, and per-subject
/// keys. `Debug` shows ids and states only.
///
/// ```
/// use crmguard_core::{FieldContext, Keyring, SystemEntropy};
///
/// let mut keyring = Keyring::generate(&mut SystemEntropy, 1_764_400_000)?;
/// let ctx = FieldContext::new("acme", "contact", "0042", "email")?;
/// let sealed = keyring.seal(&ctx, b"ada@example.com")?;
/// assert!(sealed.to_text().starts_with("cg1:"));
/// assert_eq!(keyring.open(&ctx, &sealed)?, b"ada@example.com");
///
/// // Another record: the value does not open there.
/// let elsewhere = FieldContext::new("acme", "contact", "0043", "email")?;
/// assert_eq!(keyring.open(&elsewhere, &sealed).unwrap_err().code(), "ERR_SEALED_FIELD_AUTH");
///
/// // Rotation: new values use key 2, old ones still open.
/// keyring.rotate(&mut SystemEntropy, 1_764_500_000)?;
/// assert_eq!(keyring.open(&ctx, &sealed)?, b"ada@example.com");
/// # Ok::<(), crmguard_core::Error>(())
/// ```
pub struct Keyring {
    /// Which keyring this is: bound into the protected file so another keyring under the same
    /// master key cannot be substituted for it.
    pub(crate) id: KeyringId,
    /// Incremented by every persisted mutation; bound into the protected file so an older
    /// copy can be refused (see [`KeyringFileOptions::expect`]).
    pub(crate) generation: u64,
    pub(crate) primary: KeyId,
    pub(crate) keys: BTreeMap<KeyId, DataKey>,
    pub(crate) index_root: Key256,
    pub(crate) subjects: BTreeMap<SubjectId, SubjectKey>,
    /// Keyed hashes of forgotten subject ids (see `tombstone`), with the erasure time.
    pub(crate) forgotten: BTreeMap<[u8; 32], u64>,
}

impl core::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keyring")
            .field("id", &self.id)
            .field("generation", &self.generation)
            .field("primary", &self.primary)
            .field("keys", &self.key_infos().collect::<Vec<_>>())
            .field("subjects", &self.subjects.len())
            .field("forgotten", &self.forgotten.len())
            .finish_non_exhaustive()
    }
}

impl Keyring {
    /// A new keyring with one active primary key (id 1) and a blind-index root key.
    pub fn generate(entropy: &mut impl Entropy, now: u64) -> Result<Self, Error> {
        let first = KeyId(1);
        let mut keys = BTreeMap::new();
        keys.insert(
            first,
            DataKey {
                status: KeyStatus::Active,
                created: now,
                material: Some(KeyMaterial::new(Key256::generate(entropy)?)),
            },
        );
        let index_root = Key256::generate(entropy)?;
        Ok(Self {
            id: KeyringId::generate(entropy)?,
            generation: 0,
            primary: first,
            keys,
            index_root,
            subjects: BTreeMap::new(),
            forgotten: BTreeMap::new(),
        })
    }

    /// A keyring from given key material: one data key with id `primary_id` (the primary)
    /// and the blind-index root. For known-answer vectors and imports; use
    /// [`Keyring::generate`] otherwise. Key id 0 is reserved. Without entropy, the keyring id
    /// is derived from the blind-index root ([`KeyringId::derived`]); the generation is 0.
    pub fn from_keys(
        primary_id: u32,
        data_key: Key256,
        blind_index_root: Key256,
        now: u64,
    ) -> Result<Self, Error> {
        if primary_id == 0 {
            return Err(KeyringError::Refused("key id 0 is reserved").into());
        }
        let mut keys = BTreeMap::new();
        keys.insert(
            KeyId(primary_id),
            DataKey {
                status: KeyStatus::Active,
                created: now,
                material: Some(KeyMaterial::new(data_key)),
            },
        );
        Ok(Self {
            id: KeyringId::derived(&blind_index_root),
            generation: 0,
            primary: KeyId(primary_id),
            keys,
            index_root: blind_index_root,
            subjects: BTreeMap::new(),
            forgotten: BTreeMap::new(),
        })
    }

    /// This keyring's identity (not secret; stored in clear in its file). A host keeps it,
    /// with [`Keyring::generation`], to refuse a substituted or rolled-back file.
    pub fn id(&self) -> KeyringId {
        self.id
    }

    /// How many persisted mutations (rotation, key destruction, subject added or forgotten)
    /// this keyring has had. Never decreases; stored in clear, authenticated, in its file.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What a host should expect of this keyring's file from now on: this id, and at least
    /// this generation.
    pub fn expectation(&self) -> ExpectedKeyring {
        ExpectedKeyring {
            id: self.id,
            min_generation: self.generation,
        }
    }

    /// The generation after one more mutation; checked before mutating so a failure leaves
    /// the keyring unchanged.
    fn next_generation(&self) -> Result<u64, Error> {
        self.generation
            .checked_add(1)
            .ok_or_else(|| KeyringError::Refused("keyring generation exhausted").into())
    }

    /// The key new values are sealed under.
    pub fn primary(&self) -> KeyId {
        self.primary
    }

    /// Every key's id, state and creation time, in id order.
    pub fn key_infos(&self) -> impl Iterator<Item = KeyInfo> + '_ {
        self.keys.iter().map(|(id, k)| KeyInfo {
            id: *id,
            status: k.status,
            created: k.created,
            primary: *id == self.primary,
        })
    }

    /// Adds a new key and makes it the primary; the former primary becomes decrypt-only and
    /// keeps opening what it sealed. Returns the new key's id.
    pub fn rotate(&mut self, entropy: &mut impl Entropy, now: u64) -> Result<KeyId, Error> {
        let last = self.keys.keys().next_back().map_or(0, |k| k.0);
        let id = KeyId(
            last.checked_add(1)
                .ok_or(KeyringError::Refused("key ids exhausted"))?,
        );
        let generation = self.next_generation()?;
        let material = KeyMaterial::new(Key256::generate(entropy)?);
        self.generation = generation;
        if let Some(old) = self.keys.get_mut(&self.primary) {
            old.status = KeyStatus::DecryptOnly;
        }
        self.keys.insert(
            id,
            DataKey {
                status: KeyStatus::Active,
                created: now,
                material: Some(material),
            },
        );
        self.primary = id;
        Ok(id)
    }

    /// Erases a non-primary key's material. Values still sealed under it become unrecoverable,
    /// so re-encrypt them first ([`Keyring::reseal`]).
    pub fn destroy_key(&mut self, id: KeyId) -> Result<(), Error> {
        if id == self.primary {
            return Err(
                KeyringError::Refused("the primary key cannot be destroyed; rotate first").into(),
            );
        }
        let generation = self.next_generation()?;
        let key = self.keys.get_mut(&id).ok_or(KeyError::NotFound(id.0))?;
        self.generation = generation;
        key.material = None;
        key.status = KeyStatus::Destroyed;
        Ok(())
    }

    /// Seals `plaintext` for `ctx` with system randomness. If the context names a data
    /// subject, the subject's key seals it (see [`Keyring::add_subject`]); otherwise the
    /// primary key does.
    #[cfg(feature = "getrandom")]
    pub fn seal(&self, ctx: &FieldContext, plaintext: &[u8]) -> Result<SealedField, Error> {
        self.seal_with(
            ctx,
            plaintext,
            ContentType::Bytes,
            &mut crate::SystemEntropy,
        )
    }

    /// Seals with an explicit content type and entropy source.
    pub fn seal_with(
        &self,
        ctx: &FieldContext,
        plaintext: &[u8],
        content: ContentType,
        entropy: &mut impl Entropy,
    ) -> Result<SealedField, Error> {
        let (key_ref, material, nonce) = self.seal_start(ctx, plaintext.len(), entropy)?;
        Ok(SealedField::assemble(
            key_ref,
            content,
            &nonce,
            plaintext,
            ctx,
            |aad, buf| -> [u8; TAG_LEN] { material.xaes.seal_detached(&nonce, aad, buf) },
        ))
    }

    /// The checks, key and fresh nonce of every seal.
    fn seal_start(
        &self,
        ctx: &FieldContext,
        plaintext_len: usize,
        entropy: &mut impl Entropy,
    ) -> Result<(KeyRef, &KeyMaterial, [u8; NONCE_LEN]), Error> {
        if plaintext_len > MAX_PLAINTEXT_LEN {
            return Err(SealedFieldError::TooLarge.into());
        }
        let (key_ref, material) = self.sealing_key(ctx)?;
        let mut nonce = [0u8; NONCE_LEN];
        entropy.fill(&mut nonce)?;
        Ok((key_ref, material, nonce))
    }

    fn sealing_key(&self, ctx: &FieldContext) -> Result<(KeyRef, &KeyMaterial), Error> {
        match &ctx.subject {
            Some(subject) => {
                let key = self.subject_key(subject)?;
                Ok((KeyRef::Subject(key.generation), &key.material))
            }
            None => {
                let key = self
                    .keys
                    .get(&self.primary)
                    .and_then(|k| k.material.as_ref())
                    // Parsing and every mutation keep the primary present and not destroyed.
                    .expect("the primary key always has material");
                Ok((KeyRef::Keyring(self.primary), key))
            }
        }
    }

    pub(crate) fn subject_key(&self, subject: &SubjectId) -> Result<&SubjectKey, Error> {
        match self.subjects.get(subject) {
            Some(k) => Ok(k),
            None if self.is_forgotten(subject) => Err(SubjectError::Forgotten.into()),
            None => Err(SubjectError::NotFound.into()),
        }
    }

    /// Opens a sealed value for `ctx`. Fails with `ERR_SEALED_FIELD_AUTH` if the value was
    /// sealed for another context, under another key, or modified.
    pub fn open(&self, ctx: &FieldContext, sealed: &SealedField) -> Result<Vec<u8>, Error> {
        let material = self.opening_key(ctx, sealed)?;
        let aad = associated_data(sealed.header(), ctx);
        let ct_tag = sealed.ciphertext_and_tag();
        let (ct, tag) = ct_tag.split_at(ct_tag.len() - TAG_LEN);
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| SealedFieldError::Auth)?;
        let mut out = ct.to_vec();
        material
            .xaes
            .open_detached(sealed.nonce(), &aad, &mut out, tag)
            .map_err(|_| SealedFieldError::Auth)?;
        Ok(out)
    }

    /// The key a sealed value names, if this keyring can open it for `ctx`.
    fn opening_key(&self, ctx: &FieldContext, sealed: &SealedField) -> Result<&KeyMaterial, Error> {
        Ok(match sealed.key_ref() {
            KeyRef::Keyring(id) => self
                .keys
                .get(&id)
                .ok_or(KeyError::NotFound(id.0))?
                .material
                .as_ref()
                .ok_or(KeyError::Destroyed(id.0))?,
            KeyRef::Subject(generation) => {
                let subject = ctx.subject.as_ref().ok_or(SubjectError::Required)?;
                let key = self.subject_key(subject)?;
                if key.generation != generation {
                    return Err(SealedFieldError::Auth.into());
                }
                &key.material
            }
        })
    }

    /// Opens the text form.
    pub fn open_text(&self, ctx: &FieldContext, text: &str) -> Result<Vec<u8>, Error> {
        self.open(ctx, &SealedField::from_text(text)?)
    }

    /// Re-encrypts a keyring-sealed value under the current primary key (data rotation).
    /// Returns `None` if it already is under the primary, or if it is sealed under a data
    /// subject's key (subject keys are not rotated with the keyring). The context and content
    /// type are kept.
    pub fn reseal(
        &self,
        ctx: &FieldContext,
        sealed: &SealedField,
        entropy: &mut impl Entropy,
    ) -> Result<Option<SealedField>, Error> {
        match sealed.key_ref() {
            KeyRef::Keyring(id) if id != self.primary => {
                let plain = zeroize::Zeroizing::new(self.open(ctx, sealed)?);
                let keyring_ctx = FieldContext {
                    subject: None,
                    ..ctx.clone()
                };
                self.seal_with(&keyring_ctx, &plain, sealed.content_type(), entropy)
                    .map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Creates a key for `subject` if it has none. Returns whether one was created. Fails with
    /// `ERR_SUBJECT_FORGOTTEN` for a subject that was forgotten: erasure is final.
    pub fn add_subject(
        &mut self,
        subject: &SubjectId,
        entropy: &mut impl Entropy,
        now: u64,
    ) -> Result<bool, Error> {
        if self.subjects.contains_key(subject) {
            return Ok(false);
        }
        if self.is_forgotten(subject) {
            return Err(SubjectError::Forgotten.into());
        }
        let generation = self.next_generation()?;
        let material = KeyMaterial::new(Key256::generate(entropy)?);
        self.generation = generation;
        self.subjects.insert(
            subject.clone(),
            SubjectKey {
                generation: 1,
                created: now,
                material,
            },
        );
        Ok(true)
    }

    /// Whether the keyring holds a live key for `subject`.
    pub fn has_subject(&self, subject: &SubjectId) -> bool {
        self.subjects.contains_key(subject)
    }

    /// Crypto-shredding: erases the subject's key, so every value sealed under it becomes
    /// unrecoverable, and remembers (as a keyed hash, not the id) that the subject is gone.
    pub fn forget_subject(
        &mut self,
        subject: &SubjectId,
        now: u64,
    ) -> Result<ForgetOutcome, Error> {
        if self.is_forgotten(subject) {
            return Ok(ForgetOutcome::AlreadyForgotten);
        }
        let generation = self.next_generation()?;
        // Dropping the entry wipes the key (Key256 and the cipher zeroize on drop).
        if self.subjects.remove(subject).is_none() {
            return Err(SubjectError::NotFound.into());
        }
        self.generation = generation;
        self.forgotten.insert(self.tombstone(subject), now);
        Ok(ForgetOutcome::Erased)
    }

    /// Whether `subject` has been forgotten.
    pub fn is_forgotten(&self, subject: &SubjectId) -> bool {
        self.forgotten.contains_key(&self.tombstone(subject))
    }

    /// How many subjects have live keys, and how many were forgotten.
    pub fn subject_counts(&self) -> (usize, usize) {
        (self.subjects.len(), self.forgotten.len())
    }

    /// A forgotten subject is remembered by HMAC-SHA256 under a key derived from the
    /// blind-index root, so the keyring does not keep the erased person's id in clear.
    fn tombstone(&self, subject: &SubjectId) -> [u8; 32] {
        let key = hkdf_sha256(
            self.index_root.expose_secret(),
            b"crmguard/v1",
            b"subject-tombstone",
        );
        hmac_sha256(key.expose_secret(), &[subject.as_str().as_bytes()])
    }
}

#[cfg(test)]
mod tests;
