//! Compiled components, cached on disk as precompiled artifacts so a restart skips Cranelift.
//!
//! A precompiled artifact is native code: `Component::deserialize` runs whatever it is given.
//! So an artifact is loaded only when it carries a valid HMAC-SHA256 tag under the host's
//! [`CacheKey`], over the engine's compatibility hash, the component's pinned SHA-256 and the
//! artifact's bytes. Whoever can write the cache folder but does not hold the key can neither
//! forge an artifact nor move one compiled for another component (or another engine) under
//! this component's name; such an artifact is ignored and the component compiled afresh. A
//! host without a key has no disk cache.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;
use zeroize::Zeroizing;

use super::error::{self, PluginError};

/// Part of every artifact's name: artifacts of other wasmtime majors never collide.
const WASMTIME_TAG: &str = "wasmtime48";
/// The domain of the artifact tags (and of [`CacheKey::derive`]).
const TAG_LABEL: &[u8] = b"crmguard/plugin-artifact/v1";

type HmacSha256 = hmac::Hmac<Sha256>;

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The key that authenticates cached artifacts. 32 bytes, wiped on drop, never printed.
#[derive(Clone)]
pub struct CacheKey(Zeroizing<[u8; 32]>);

impl CacheKey {
    /// A key from 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The cache key derived from a longer-lived secret (the CLI uses the keyring's master
    /// key): HMAC-SHA256(secret, label), so the cache key reveals nothing of the secret.
    pub fn derive(secret: &[u8; 32]) -> Self {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(TAG_LABEL);
        mac.update(b"/cache-key");
        Self::new(mac.finalize().into_bytes().into())
    }
}

impl core::fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CacheKey(..)")
    }
}

/// Where artifacts are cached, and the key that authenticates them.
#[derive(Clone, Debug)]
pub struct ArtifactCache {
    /// The folder (created when missing).
    pub dir: PathBuf,
    /// The tag key.
    pub key: CacheKey,
}

fn compat_hash(engine: &Engine) -> u64 {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    h.finish()
}

fn artifact_path(engine: &Engine, dir: &Path, component_digest: &str) -> PathBuf {
    dir.join(format!(
        "{component_digest}-{WASMTIME_TAG}-{:016x}.cwasm",
        compat_hash(engine)
    ))
}

fn tag_path(artifact: &Path) -> PathBuf {
    artifact.with_extension("cwasm.tag")
}

/// HMAC-SHA256 under `key` of the label, the engine, the component digest and the artifact.
fn tagger(key: &CacheKey, engine: &Engine, digest: &str, artifact: &[u8]) -> HmacSha256 {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key.0.as_slice())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(TAG_LABEL);
    mac.update(&compat_hash(engine).to_be_bytes());
    mac.update(&(digest.len() as u64).to_be_bytes());
    mac.update(digest.as_bytes());
    mac.update(artifact);
    mac
}

/// The component for `bytes`, whose SHA-256 the caller has checked is `digest`: from the
/// cache when an authentic artifact is there, else compiled (and then cached, best effort).
pub(crate) fn component(
    engine: &Engine,
    bytes: &[u8],
    digest: &str,
    cache: Option<&ArtifactCache>,
) -> Result<Component, PluginError> {
    let Some(cache) = cache else {
        return compile(engine, bytes);
    };
    let path = artifact_path(engine, &cache.dir, digest);
    if let Some(c) = load_artifact(engine, cache, digest, &path) {
        return Ok(c);
    }
    let component = compile(engine, bytes)?;
    // A cache that cannot be written only costs a recompilation next time.
    let _ = store_artifact(engine, &component, cache, digest, &path);
    Ok(component)
}

/// The authentic cached artifact for `digest`, if there is one (nothing is compiled).
pub(crate) fn cached(engine: &Engine, cache: &ArtifactCache, digest: &str) -> Option<Component> {
    load_artifact(
        engine,
        cache,
        digest,
        &artifact_path(engine, &cache.dir, digest),
    )
}

fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component, PluginError> {
    Component::new(engine, bytes).map_err(|e| {
        PluginError::new(
            error::INVALID,
            format!("not a valid WebAssembly component: {e}"),
        )
    })
}

fn load_artifact(
    engine: &Engine,
    cache: &ArtifactCache,
    digest: &str,
    path: &Path,
) -> Option<Component> {
    let artifact = std::fs::read(path).ok()?;
    let tag = hex::decode(std::fs::read_to_string(tag_path(path)).ok()?.trim()).ok()?;
    // Constant-time comparison inside `verify_slice`.
    tagger(&cache.key, engine, digest, &artifact)
        .verify_slice(&tag)
        .ok()?;
    deserialize_authentic(engine, &artifact).ok()
}

/// Deserializes a precompiled artifact.
///
/// # Safety argument
/// `Component::deserialize` trusts its input to be native code wasmtime itself produced: a
/// forged artifact would run arbitrary machine code in the host. The only caller passes
/// bytes (1) read into memory once, so nothing can change them between the check and the use,
/// and (2) carrying a valid HMAC-SHA256 tag under the host's cache key over this engine's
/// compatibility hash, the pinned component digest and these very bytes. Only a holder of
/// that key (this host, which wrote the artifact with `Component::serialize`) can make such a
/// tag. wasmtime then checks that the artifact was built by this wasmtime version with a
/// compatible configuration.
#[allow(unsafe_code)] // The one unsafe call of the host; see the safety argument above.
fn deserialize_authentic(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: see the function's safety argument: authenticated under the host's key, in memory.
    unsafe { Component::deserialize(engine, artifact) }
}

fn store_artifact(
    engine: &Engine,
    component: &Component,
    cache: &ArtifactCache,
    digest: &str,
    path: &Path,
) -> std::io::Result<()> {
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let tag = hex::encode(
        tagger(&cache.key, engine, digest, &bytes)
            .finalize()
            .into_bytes(),
    );
    std::fs::create_dir_all(&cache.dir)?;
    // The tag first: an artifact without its tag is ignored, a tag without its artifact too.
    crmguard_store::files::replace_file(&tag_path(path), tag.as_bytes())?;
    crmguard_store::files::replace_file(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_key_prints_redacted_and_derives_deterministically() {
        let k = CacheKey::derive(&[7; 32]);
        assert_eq!(format!("{k:?}"), "CacheKey(..)");
        assert_eq!(k.0.as_slice(), CacheKey::derive(&[7; 32]).0.as_slice());
        assert_ne!(k.0.as_slice(), CacheKey::derive(&[8; 32]).0.as_slice());
        assert_ne!(k.0.as_slice(), &[7; 32]);
    }

    #[test]
    fn a_tag_binds_key_digest_and_bytes() {
        let engine = Engine::default();
        let k = CacheKey::new([1; 32]);
        let t = |k: &CacheKey, d: &str, b: &[u8]| tagger(k, &engine, d, b).finalize().into_bytes();
        let base = t(&k, "aa", b"code");
        assert_eq!(base, t(&k, "aa", b"code"));
        assert_ne!(base, t(&CacheKey::new([2; 32]), "aa", b"code"));
        assert_ne!(base, t(&k, "ab", b"code"));
        assert_ne!(base, t(&k, "aa", b"cod3"));
    }
}
