//! Fixtures: the built components, a plugins folder holding them, a host, a keyring.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crmguard_core::{ContentType, FieldContext, Key256, Keyring, SystemEntropy};
use crmguard_host::{
    AccessRequest, CryptoComponent, HostConfig, Plugin, PluginHost, PluginsDir, StaticKeys, World,
};
use serde_json::json;

/// A built component: target/wasm32-wasip2/release/<file>, or from CRMGUARD_COMPONENTS.
pub fn component(file: &str) -> PathBuf {
    let dir = std::env::var_os("CRMGUARD_COMPONENTS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/release"),
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
    pub crypto: CryptoComponent,
    pub reference: Plugin,
    pub hostile: Plugin,
}

pub fn plugins_dir(tmp: &std::path::Path) -> PluginsDir {
    let dir = PluginsDir::new(tmp.join("plugins"));
    dir.add("crypto", "0.1.0", World::Crypto, &component(CRYPTO), vec![])
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
        cache_dir: Some(root.join("cache")),
        ..HostConfig::default()
    })
    .unwrap();
    let keys = Arc::new(StaticKeys::new(keyring().to_cleartext_json()));
    let crypto = host
        .load_crypto(&dir.manifest("crypto").unwrap(), keys)
        .unwrap();
    let reference = host
        .load_plugin(&dir.manifest("reference").unwrap())
        .unwrap();
    let hostile = host.load_plugin(&dir.manifest("hostile").unwrap()).unwrap();
    Fixture {
        _tmp: tmp,
        root,
        host,
        crypto,
        reference,
        hostile,
    }
}

impl Fixture {
    pub fn host_deadline(&self) -> Duration {
        self.host.config().deadline
    }
}

/// A request for contact 0042 of tenant acme by a caller with `roles`, doing `action`:
/// name and company in clear, email and ssn sealed, phone in clear.
pub fn request(roles: &[&str], action: &str) -> AccessRequest {
    serde_json::from_value(json!({
        "tenant": "acme",
        "principal": { "subject": "user-1", "roles": roles },
        "action": action,
        "object": "contact",
        "record_id": "0042",
        "record": {
            "name": "Ada Lovelace",
            "company": "Analytical Engines",
            "email": seal("acme", "0042", "email", "ada@example.com"),
            "phone": "+44 20 7946 0000",
            "ssn": seal("acme", "0042", "ssn", "078-05-1120"),
        }
    }))
    .unwrap()
}
