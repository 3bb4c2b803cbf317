//! The plugins folder: one sub-folder per component, holding `manifest.json` and the
//! component file the manifest pins by SHA-256.
//!
//! ```text
//! plugins/
//!   crypto/     manifest.json  crypto.wasm
//!   reference/  manifest.json  reference.wasm
//! ```

use std::path::{Path, PathBuf};

use super::cache::sha256_hex;
use super::error::{self, PluginError};

/// The manifest's file name inside a plugin's folder.
pub(crate) const MANIFEST_FILE: &str = "manifest.json";

/// Which WIT world a component implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// `crmguard:guard/policy-plugin`: exports `policy`.
    PolicyPlugin,
    /// `crmguard:guard/crypto`: exports `fields`; the only world given key material.
    Crypto,
    /// `crmguard:guard/token-verifier`: exports `tokens`; pure.
    TokenVerifier,
    /// `crmguard:guard/audit-builder`: exports `audit`; pure.
    AuditBuilder,
}

impl World {
    /// The export a component of this world must have.
    pub(crate) fn required_export(self) -> &'static str {
        match self {
            World::PolicyPlugin => "crmguard:guard/policy@0.2.0",
            World::Crypto => "crmguard:guard/fields@0.2.0",
            World::TokenVerifier => "crmguard:guard/tokens@0.2.0",
            World::AuditBuilder => "crmguard:guard/audit@0.2.0",
        }
    }

    /// The non-WASI imports a component of this world may have.
    pub(crate) fn allowed_imports(self) -> &'static [&'static str] {
        match self {
            World::PolicyPlugin => &[
                "crmguard:guard/types@0.2.0",
                "crmguard:guard/sealing@0.2.0",
                "crmguard:guard/tokens@0.2.0",
                "crmguard:guard/audit@0.2.0",
                "crmguard:guard/logging@0.2.0",
            ],
            World::Crypto => &[
                "crmguard:guard/types@0.2.0",
                "crmguard:guard/keystore@0.2.0",
            ],
            World::TokenVerifier | World::AuditBuilder => &["crmguard:guard/types@0.2.0"],
        }
    }

    /// The world's name in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            World::PolicyPlugin => "policy-plugin",
            World::Crypto => "crypto",
            World::TokenVerifier => "token-verifier",
            World::AuditBuilder => "audit-builder",
        }
    }
}

/// What a manifest may grant beyond the empty sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// The real wall and monotonic clocks (without it, both read zero).
    Clocks,
}

/// A plugin's manifest: what it is, which world it implements, its pinned digest, and what
/// it is granted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The plugin's name: its folder's name, `[a-z0-9-]`, 1 to 64 characters.
    pub name: String,
    /// The plugin's version, as its vendor names it.
    pub version: String,
    /// The WIT world it implements.
    pub world: World,
    /// The component's file name inside the plugin's folder.
    pub component: String,
    /// The component's SHA-256, lowercase hex: anything else is refused.
    pub sha256: String,
    /// Capabilities granted beyond the empty sandbox (default none).
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    #[serde(skip)]
    pub(crate) dir: PathBuf,
}

impl Manifest {
    /// The component file's path.
    pub fn component_path(&self) -> PathBuf {
        self.dir.join(&self.component)
    }

    /// Whether the manifest grants `cap`.
    pub(crate) fn grants(&self, cap: Capability) -> bool {
        self.capabilities.contains(&cap)
    }

    /// Reads the component and checks it against the pinned digest.
    pub fn read_verified(&self) -> Result<Vec<u8>, PluginError> {
        let path = self.component_path();
        let bytes = std::fs::read(&path)
            .map_err(|e| PluginError::new(error::IO, format!("{}: {e}", path.display())))?;
        let actual = sha256_hex(&bytes);
        if actual != self.sha256 {
            return Err(PluginError::new(
                error::DIGEST,
                format!(
                    "plugin {}: {} has SHA-256 {actual}, the manifest pins {}",
                    self.name, self.component, self.sha256
                ),
            ));
        }
        Ok(bytes)
    }

    fn validate(&self) -> Result<(), PluginError> {
        let bad = |m: String| Err(PluginError::new(error::MANIFEST, m));
        if !valid_name(&self.name) {
            return bad(format!(
                "plugin name {:?} is not [a-z0-9-]{{1,64}}",
                self.name
            ));
        }
        if self.version.is_empty() || self.version.len() > 64 {
            return bad("version must be 1 to 64 characters".into());
        }
        if self.component.is_empty()
            || self.component.contains(['/', '\\'])
            || self.component.starts_with('.')
        {
            return bad(format!(
                "component {:?} must be a file name inside the plugin's folder",
                self.component
            ));
        }
        if self.sha256.len() != 64
            || !self
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return bad("sha256 must be 64 lowercase hex digits".into());
        }
        Ok(())
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A plugins folder.
#[derive(Debug, Clone)]
pub struct PluginsDir {
    root: PathBuf,
}

impl PluginsDir {
    /// The folder at `root` (it need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The manifest of the plugin `name`.
    pub fn manifest(&self, name: &str) -> Result<Manifest, PluginError> {
        if !valid_name(name) {
            return Err(PluginError::new(
                error::NOT_FOUND,
                format!("no plugin named {name:?}"),
            ));
        }
        let dir = self.root.join(name);
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                PluginError::new(
                    error::NOT_FOUND,
                    format!("no plugin named {name:?} in {}", self.root.display()),
                )
            } else {
                PluginError::new(error::IO, format!("{}: {e}", path.display()))
            }
        })?;
        let mut m: Manifest = serde_json::from_str(&text)
            .map_err(|e| PluginError::new(error::MANIFEST, format!("{}: {e}", path.display())))?;
        m.validate()?;
        if m.name != name {
            return Err(PluginError::new(
                error::MANIFEST,
                format!("{} names plugin {:?}, not {name:?}", path.display(), m.name),
            ));
        }
        m.dir = dir;
        Ok(m)
    }

    /// Every plugin's manifest, by name; a folder whose manifest is invalid yields its error.
    pub fn list(&self) -> Result<Vec<Result<Manifest, PluginError>>, PluginError> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(PluginError::new(
                    error::IO,
                    format!("{}: {e}", self.root.display()),
                ));
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join(MANIFEST_FILE).is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names.iter().map(|n| self.manifest(n)).collect())
    }

    /// Copies `component` into the folder as plugin `name` and writes its manifest, pinning
    /// the file's SHA-256. Replaces an existing plugin of that name. The caller checks the
    /// component (e.g. with [`crate::PluginHost::verify`]) before trusting it.
    pub fn add(
        &self,
        name: &str,
        version: &str,
        world: World,
        component: &Path,
        capabilities: Vec<Capability>,
    ) -> Result<Manifest, PluginError> {
        let bytes = std::fs::read(component)
            .map_err(|e| PluginError::new(error::IO, format!("{}: {e}", component.display())))?;
        let dir = self.root.join(name);
        let mut m = Manifest {
            name: name.to_owned(),
            version: version.to_owned(),
            world,
            component: format!("{name}.wasm"),
            sha256: sha256_hex(&bytes),
            capabilities,
            dir: dir.clone(),
        };
        m.validate()?;
        let io = |p: &Path, e: std::io::Error| {
            PluginError::new(error::IO, format!("{}: {e}", p.display()))
        };
        std::fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let wasm = dir.join(&m.component);
        std::fs::write(&wasm, &bytes).map_err(|e| io(&wasm, e))?;
        let json = serde_json::to_string_pretty(&m)
            .map_err(|e| PluginError::new(error::MANIFEST, e.to_string()))?;
        let path = dir.join(MANIFEST_FILE);
        std::fs::write(&path, json + "\n").map_err(|e| io(&path, e))?;
        m.dir = dir;
        Ok(m)
    }
}
