//! Compiled components, cached on disk as precompiled artifacts keyed by the engine's
//! compatibility hash (which covers the wasmtime version and its configuration) and the
//! component's SHA-256, so a restart skips Cranelift.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::{self, PluginError};

/// Part of every artifact's name: artifacts of other wasmtime majors never collide.
const WASMTIME_TAG: &str = "wasmtime48";

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn artifact_path(engine: &Engine, dir: &Path, component_digest: &str) -> PathBuf {
    let mut h = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    dir.join(format!(
        "{component_digest}-{WASMTIME_TAG}-{:016x}.cwasm",
        h.finish()
    ))
}

/// The component for `bytes`, whose SHA-256 the caller has checked is `digest`: from the
/// cache when a valid artifact is there, else compiled (and then cached, best effort).
pub(crate) fn component(
    engine: &Engine,
    bytes: &[u8],
    digest: &str,
    cache_dir: Option<&Path>,
) -> Result<Component, PluginError> {
    let Some(dir) = cache_dir else {
        return compile(engine, bytes);
    };
    let path = artifact_path(engine, dir, digest);
    if let Some(c) = load_artifact(engine, &path) {
        return Ok(c);
    }
    let component = compile(engine, bytes)?;
    // A cache that cannot be written only costs a recompilation next time.
    let _ = store_artifact(&component, dir, &path);
    Ok(component)
}

fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component, PluginError> {
    Component::new(engine, bytes).map_err(|e| {
        PluginError::new(
            error::INVALID,
            format!("not a valid WebAssembly component: {e}"),
        )
    })
}

fn digest_path(artifact: &Path) -> PathBuf {
    artifact.with_extension("cwasm.sha256")
}

fn load_artifact(engine: &Engine, path: &Path) -> Option<Component> {
    let artifact = std::fs::read(path).ok()?;
    let expected = std::fs::read_to_string(digest_path(path)).ok()?;
    if sha256_hex(&artifact) != expected.trim() {
        return None;
    }
    deserialize_verified(engine, &artifact).ok()
}

/// Deserializes a precompiled artifact.
///
/// # Safety argument
/// `Component::deserialize` trusts its input to be native code wasmtime itself produced: a
/// forged artifact would run arbitrary machine code in the host. The only caller passes
/// bytes (1) that this host wrote with `Component::serialize` into its own cache directory,
/// (2) read into memory once, so nothing can change them between the check and the use, and
/// (3) whose SHA-256 matches the digest file written alongside, so a truncated or partly
/// written artifact is rejected. wasmtime then checks that the artifact was built by this
/// wasmtime version with a compatible configuration. The cache directory must be writable
/// only by the host's own user (docs/PLUGINS.md), the same trust as the host binary.
#[allow(unsafe_code)] // The one unsafe call of the host; see the safety argument above.
fn deserialize_verified(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: see the function's safety argument: host-written, digest-verified, in memory.
    unsafe { Component::deserialize(engine, artifact) }
}

fn store_artifact(component: &Component, dir: &Path, path: &Path) -> std::io::Result<()> {
    let bytes = component
        .serialize()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &bytes)?;
    std::fs::write(digest_path(path), sha256_hex(&bytes))?;
    std::fs::rename(&tmp, path)
}
