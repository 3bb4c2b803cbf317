//! Loading: digests, worlds, imports, invalid components, manifests, the artifact cache.

use crmguard_runtime::{HostConfig, PluginHost, PluginsDir, Services, World};

use crate::support::{CRYPTO, REFERENCE, acme_keys, component, fixture, plugins_dir, request};

fn tmp_dir() -> (tempfile::TempDir, PluginsDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = PluginsDir::new(tmp.path().join("plugins"));
    (tmp, dir)
}

#[test]
fn a_component_whose_digest_does_not_match_is_refused() {
    let (tmp, dir) = tmp_dir();
    let m = dir
        .add(
            "reference",
            "0.1.0",
            World::PolicyPlugin,
            &component(REFERENCE),
            vec![],
        )
        .unwrap();
    // Swap the file for another component after it was pinned.
    std::fs::copy(component(CRYPTO), m.component_path()).unwrap();
    let e = fixture()
        .host
        .load_plugin(&dir.manifest("reference").unwrap())
        .err()
        .unwrap();
    assert_eq!(e.code, "ERR_PLUGIN_DIGEST", "{e}");
    drop(tmp);
}

#[test]
fn a_truncated_component_is_refused() {
    let (_tmp, dir) = tmp_dir();
    let bytes = std::fs::read(component(REFERENCE)).unwrap();
    let cut = _tmp.path().join("cut.wasm");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    // Pinned as it is, so the digest matches and the component itself is at fault.
    let m = dir
        .add("cut", "0.1.0", World::PolicyPlugin, &cut, vec![])
        .unwrap();
    let e = fixture().host.load_plugin(&m).err().unwrap();
    assert_eq!(e.code, "ERR_PLUGIN_INVALID", "{e}");
}

/// A plugin built against the 0.1.0 interfaces is refused at load with the way forward,
/// never run (its `decide` takes no sealer and answers values).
#[test]
fn a_plugin_built_against_0_1_0_is_refused_with_the_way_forward() {
    let (_tmp, dir) = tmp_dir();
    let old = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/policy-plugin-0.1.0.wasm");
    let m = dir
        .add("old", "0.1.0", World::PolicyPlugin, &old, vec![])
        .unwrap();
    let e = fixture().host.load_plugin(&m).err().unwrap();
    assert_eq!(e.code, "ERR_PLUGIN_WORLD", "{e}");
    assert!(e.message.contains("crmguard:guard@0.1.0"), "{e}");
    assert!(e.message.contains("Moving from 0.1.0"), "{e}");
    assert!(fixture().host.verify(&m).is_err());
}

#[test]
fn a_component_for_the_wrong_world_is_refused() {
    let (_tmp, dir) = tmp_dir();
    // The crypto component, declared as a policy plugin: it exports fields, not policy.
    let m = dir
        .add(
            "impostor",
            "0.1.0",
            World::PolicyPlugin,
            &component(CRYPTO),
            vec![],
        )
        .unwrap();
    let e = fixture().host.load_plugin(&m).err().unwrap();
    assert_eq!(e.code, "ERR_PLUGIN_WORLD", "{e}");
    assert!(e.message.contains("crmguard:guard/policy@0.2.0"), "{e}");
    // A policy plugin declared as the crypto component.
    let m = dir
        .add(
            "fake-crypto",
            "0.1.0",
            World::Crypto,
            &component(REFERENCE),
            vec![],
        )
        .unwrap();
    let keys = acme_keys();
    let e = fixture().host.load_crypto(&m, keys).err().unwrap();
    assert_eq!(e.code, "ERR_PLUGIN_WORLD", "{e}");
    // A manifest whose world is not the one asked for.
    let m = dir.manifest("fake-crypto").unwrap();
    let e = fixture().host.load_plugin(&m).err().unwrap();
    assert_eq!(e.code, "ERR_PLUGIN_WORLD", "{e}");
}

#[test]
fn manifests_are_checked() {
    let (tmp, dir) = tmp_dir();
    assert_eq!(
        dir.manifest("absent").unwrap_err().code,
        "ERR_PLUGIN_NOT_FOUND"
    );
    assert_eq!(
        dir.manifest("../etc").unwrap_err().code,
        "ERR_PLUGIN_NOT_FOUND"
    );
    let m = dir
        .add(
            "reference",
            "0.1.0",
            World::PolicyPlugin,
            &component(REFERENCE),
            vec![],
        )
        .unwrap();
    let path = tmp.path().join("plugins/reference/manifest.json");
    let good = std::fs::read_to_string(&path).unwrap();
    for (from, to) in [
        (m.component.as_str(), "../../evil.wasm"),
        ("\"policy-plugin\"", "\"kernel\""),
        (m.sha256.as_str(), "abc"),
        ("\"capabilities\": []", "\"capabilities\": [\"network\"]"),
    ] {
        assert!(good.contains(from), "{from} in {good}");
        std::fs::write(&path, good.replace(from, to)).unwrap();
        assert_eq!(
            dir.manifest("reference").unwrap_err().code,
            "ERR_PLUGIN_MANIFEST",
            "{to}"
        );
    }
    let listed = dir.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].is_err());
}

#[test]
fn precompiled_artifacts_are_cached_and_a_corrupt_one_is_recompiled() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugins_dir(tmp.path());
    let cache = tmp.path().join("cache");
    let host = || {
        PluginHost::new(HostConfig {
            cache: Some(crmguard_runtime::ArtifactCache {
                dir: cache.clone(),
                key: crmguard_runtime::CacheKey::new([0x5c; 32]),
            }),
            deadline: std::time::Duration::from_millis(50),
            ..HostConfig::default()
        })
        .unwrap()
    };
    let keys = acme_keys();
    let first = host();
    let m = dir.manifest("reference").unwrap();
    first.load_plugin(&m).unwrap();
    let mut artifacts: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    artifacts.sort();
    // The component as shipped, and its pre-initialised image (the reference plugin exports
    // `wizer-initialize`), each under its own digest.
    assert_eq!(artifacts.len(), 2, "{artifacts:?}");
    let names: Vec<String> = artifacts
        .iter()
        .map(|a| a.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names[0].starts_with(&m.sha256) && names[0].contains("wasmtime48"),
        "{names:?}"
    );
    assert!(
        names[1].starts_with(&format!("preinit-{}", m.sha256)),
        "{names:?}"
    );

    // Corrupt both artifacts: the tag check refuses them, and the host compiles afresh.
    let mut corrupted = Vec::new();
    for a in &artifacts {
        let mut bytes = std::fs::read(a).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(a, &bytes).unwrap();
        corrupted.push(bytes);
    }
    let second = host();
    let plugin = second.load_plugin(&m).unwrap();
    let crypto = second
        .load_crypto(&dir.manifest("crypto").unwrap(), keys)
        .unwrap();
    let out = second.decide(
        &plugin,
        &Services::new(crypto),
        &request(&["admin"], "read"),
    );
    assert!(out.verdict.is_allow(), "{out:?}");
    for (a, bytes) in artifacts.iter().zip(&corrupted) {
        assert_ne!(
            &std::fs::read(a).unwrap(),
            bytes,
            "{} rewritten",
            a.display()
        );
    }
}

#[test]
fn verify_accepts_the_good_and_refuses_the_sneaky() {
    let f = fixture();
    let dir = PluginsDir::new(f.root.join("plugins"));
    for name in ["crypto", "reference", "hostile"] {
        f.host.verify(&dir.manifest(name).unwrap()).unwrap();
    }
    assert_eq!(
        f.host
            .verify(&dir.manifest("sneaky").unwrap())
            .unwrap_err()
            .code,
        "ERR_PLUGIN_LINK"
    );
}

/// The cached artifacts in `cache`, by component digest prefix.
fn artifact_of(cache: &std::path::Path, digest: &str) -> std::path::PathBuf {
    std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "cwasm")
                && p.file_name().unwrap().to_string_lossy().starts_with(digest)
        })
        .unwrap_or_else(|| panic!("no artifact for {digest} in {}", cache.display()))
}

fn cached_host(cache: &std::path::Path, key: [u8; 32]) -> PluginHost {
    PluginHost::new(HostConfig {
        cache: Some(crmguard_runtime::ArtifactCache {
            dir: cache.to_path_buf(),
            key: crmguard_runtime::CacheKey::new(key),
        }),
        deadline: std::time::Duration::from_millis(50),
        ..HostConfig::default()
    })
    .unwrap()
}

/// What `plugin` answers to the hostile plugin's `clock` action: `ERR_CLOCK_READ` only from
/// the hostile plugin's code.
fn clock_code(host: &PluginHost, dir: &PluginsDir, name: &str) -> Option<String> {
    let plugin = host.load_plugin(&dir.manifest(name).unwrap()).unwrap();
    let keys = acme_keys();
    let crypto = host
        .load_crypto(&dir.manifest("crypto").unwrap(), keys)
        .unwrap();
    host.decide(
        &plugin,
        &Services::new(crypto),
        &request(&["admin"], "clock"),
    )
    .verdict
    .code()
    .map(str::to_owned)
}

#[test]
fn a_substituted_artifact_is_never_loaded() {
    // Whoever can write the cache folder moves the hostile plugin's artifact (with its tag,
    // and with a fresh SHA-256 sidecar as the first cache checked) under the reference
    // plugin's name. The first cache ran that native code as the reference plugin.
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugins_dir(tmp.path());
    let cache = tmp.path().join("cache");
    let host = cached_host(&cache, [1; 32]);
    let reference = dir.manifest("reference").unwrap();
    let hostile = dir.manifest("hostile").unwrap();
    host.load_plugin(&reference).unwrap();
    host.load_plugin(&hostile).unwrap();
    assert_eq!(
        clock_code(&host, &dir, "hostile").as_deref(),
        Some("ERR_CLOCK_READ")
    );
    let (victim, evil) = (
        artifact_of(&cache, &reference.sha256),
        artifact_of(&cache, &hostile.sha256),
    );
    std::fs::copy(&evil, &victim).unwrap();
    std::fs::copy(
        evil.with_extension("cwasm.tag"),
        victim.with_extension("cwasm.tag"),
    )
    .unwrap();
    let evil_bytes = std::fs::read(&evil).unwrap();
    std::fs::write(
        victim.with_extension("cwasm.sha256"),
        hex_sha256(&evil_bytes),
    )
    .unwrap();

    let restarted = cached_host(&cache, [1; 32]);
    assert_ne!(
        clock_code(&restarted, &dir, "reference").as_deref(),
        Some("ERR_CLOCK_READ"),
        "the hostile plugin's native code ran as the reference plugin"
    );
    // The refused artifact was replaced by an authentic one.
    assert_ne!(std::fs::read(&victim).unwrap(), evil_bytes);
}

#[test]
fn artifacts_tagged_under_another_key_are_not_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = plugins_dir(tmp.path());
    let cache = tmp.path().join("cache");
    let reference = dir.manifest("reference").unwrap();
    cached_host(&cache, [1; 32])
        .load_plugin(&reference)
        .unwrap();
    let artifact = artifact_of(&cache, &reference.sha256);
    let tag = std::fs::read(artifact.with_extension("cwasm.tag")).unwrap();
    // Another key: the tag does not verify, the host compiles and writes its own tag.
    cached_host(&cache, [2; 32])
        .load_plugin(&reference)
        .unwrap();
    assert_ne!(
        std::fs::read(artifact.with_extension("cwasm.tag")).unwrap(),
        tag
    );
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
