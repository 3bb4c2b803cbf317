//! Fixtures: the built components, a plugins folder holding them, a host, a keyring.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crmguard_core::{ContentType, FieldContext, Key256, Keyring, SystemEntropy};
use crmguard_runtime::{
    AccessRequest, HostConfig, Plugin, PluginHost, PluginsDir, Services, World,
};
use serde_json::json;

/// The workspace root (this file is shared by crates at different depths).
pub fn workspace() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("Cargo.lock").is_file() {
        assert!(
            dir.pop(),
            "no Cargo.lock above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
    dir
}

/// A built component: target/wasm32-wasip2/component/<file>, or from CRMGUARD_COMPONENTS.
pub fn component(file: &str) -> PathBuf {
    let dir = std::env::var_os("CRMGUARD_COMPONENTS").map_or_else(
        || workspace().join("target/wasm32-wasip2/component"),
        PathBuf::from,
    );
    let path = dir.join(file);
    assert!(
        path.is_file(),
        "{} is missing: build the components first with `cargo xtask components` \
         (or run everything with `cargo xtask test`)",
        path.display()
    );
    path
}

pub const CRYPTO: &str = "crmguard_component_crypto.wasm";
pub const TOKENS: &str = "crmguard_component_tokens.wasm";
pub const AUDIT: &str = "crmguard_component_audit.wasm";
pub const REFERENCE: &str = "crmguard_plugin_reference.wasm";
pub const HOSTILE: &str = "test_plugin_hostile.wasm";
pub const SNEAKY: &str = "test_plugin_sneaky.wasm";

/// The test keyring: fixed keys, so failures reproduce.
pub fn keyring() -> Keyring {
    Keyring::from_keys(
        1,
        Key256::from_bytes([7; 32]),
        Key256::from_bytes([9; 32]),
        0,
    )
    .unwrap()
}

pub fn seal(tenant: &str, record: &str, field: &str, value: &str) -> String {
    let ctx = FieldContext::new(tenant, "contact", record, field).unwrap();
    keyring()
        .seal_with(
            &ctx,
            value.as_bytes(),
            ContentType::Bytes,
            &mut SystemEntropy,
        )
        .unwrap()
        .to_text()
}

/// A plugins folder with every test component added, and a host over it.
pub struct Fixture {
    pub _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub host: PluginHost,
    /// The crypto, tokens and audit components the plugins' imports are linked to.
    pub services: Services,
    pub reference: Plugin,
    pub hostile: Plugin,
}

pub fn plugins_dir(tmp: &std::path::Path) -> PluginsDir {
    let dir = PluginsDir::new(tmp.join("plugins"));
    dir.add("crypto", "0.1.0", World::Crypto, &component(CRYPTO), vec![])
        .unwrap();
    dir.add(
        "tokens",
        "0.1.0",
        World::TokenVerifier,
        &component(TOKENS),
        vec![],
    )
    .unwrap();
    dir.add(
        "audit",
        "0.1.0",
        World::AuditBuilder,
        &component(AUDIT),
        vec![],
    )
    .unwrap();
    dir.add(
        "reference",
        "0.1.0",
        World::PolicyPlugin,
        &component(REFERENCE),
        vec![],
    )
    .unwrap();
    dir.add(
        "hostile",
        "0.1.0",
        World::PolicyPlugin,
        &component(HOSTILE),
        vec![],
    )
    .unwrap();
    dir.add(
        "sneaky",
        "0.1.0",
        World::PolicyPlugin,
        &component(SNEAKY),
        vec![],
    )
    .unwrap();
    dir
}

/// Tests share one host (compiling components is the slow part). The deadline is longer
/// than the 10 ms default only so a loaded CI machine cannot turn a well-behaved call into
/// a timeout; the timeout test uses its own host with the default.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build(Duration::from_millis(50)))
}

pub fn build(deadline: Duration) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let dir = plugins_dir(&root);
    let host = PluginHost::new(HostConfig {
        deadline,
        cache: Some(crmguard_runtime::ArtifactCache {
            dir: root.join("cache"),
            key: crmguard_runtime::CacheKey::new([0x5c; 32]),
        }),
        ..HostConfig::default()
    })
    .unwrap();
    let keys = acme_keys();
    let services = Services::new(
        host.load_crypto(&dir.manifest("crypto").unwrap(), keys)
            .unwrap(),
    )
    .with_tokens(host.load_tokens(&dir.manifest("tokens").unwrap()).unwrap())
    .with_audit(host.load_audit(&dir.manifest("audit").unwrap()).unwrap());
    let reference = host
        .load_plugin(&dir.manifest("reference").unwrap())
        .unwrap();
    let hostile = host.load_plugin(&dir.manifest("hostile").unwrap()).unwrap();
    Fixture {
        _tmp: tmp,
        root,
        host,
        services,
        reference,
        hostile,
    }
}

impl Fixture {
    pub fn host_deadline(&self) -> Duration {
        self.host.config().deadline
    }
}

/// A request for contact 0042 of tenant acme by a caller of tenant acme with `roles`, doing
/// `action`: a contact as examples/policy.json describes it (email and national id sealed),
/// plus a column the policy does not know.
pub fn request(roles: &[&str], action: &str) -> AccessRequest {
    request_as(
        json!({ "sub": "user-1", "tenant": "acme", "roles": roles }),
        action,
    )
}

pub use crmguard_conformance::idp::principal;

/// The same request by the caller of verified `claims` (their tenant claim must be acme's
/// for the record to be theirs).
pub fn request_as(claims: serde_json::Value, action: &str) -> AccessRequest {
    request_for(claims, action, "contact", contact())
}

/// A request by the caller of `claims` doing `action` on record 0042 of `object`, as
/// stored: `record`. Bound as the host binds it (the tenant is the caller's).
pub fn request_for(
    claims: serde_json::Value,
    action: &str,
    object: &str,
    record: serde_json::Map<String, serde_json::Value>,
) -> AccessRequest {
    let target = crmguard_core::request::Target::parse(None, action, object, "0042", None).unwrap();
    let time = crmguard_core::UnixTime::from_secs(crmguard_conformance::idp::NOW).unwrap();
    AccessRequest::bind(principal(claims), target, time, record, "test").unwrap()
}

/// Contact 0042 as stored: email and national id sealed, a column the policy does not know.
pub fn contact() -> serde_json::Map<String, serde_json::Value> {
    json!({
        "id": "0042",
        "tenant_id": "acme",
        "name": "Ada Lovelace",
        "email": seal("acme", "0042", "email", "ada@example.com"),
        "phone": "+44 20 7946 0000",
        "national_id": seal("acme", "0042", "national_id", "078-05-1120"),
        "lifecycle_stage": "customer",
        "legacy_notes": "a column the policy does not know",
    })
    .as_object()
    .cloned()
    .unwrap()
}

/// The keys the fixture's crypto component serves: the test keyring, for acme only.
pub fn acme_keys() -> Arc<crmguard_runtime::TenantKeyrings> {
    Arc::new(crmguard_runtime::TenantKeyrings::new().with(
        crmguard_core::TenantId::new("acme").unwrap(),
        keyring().to_cleartext_json(),
    ))
}
