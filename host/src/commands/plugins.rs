//! `crmguard plugin add|list|verify` and `crmguard run`: the plugins folder and one request
//! through a policy plugin. Translation only; the runner is `crmguard_host`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use crmguard_host::{
    AccessRequest, Capability, HostConfig, PluginError, PluginHost, PluginsDir, StaticKeys, World,
};

use crate::failure::{CmdResult, Failure};
use crate::keystore::KeyringOpts;

impl From<PluginError> for Failure {
    fn from(e: PluginError) -> Self {
        Failure::new(e.code, e.message)
    }
}

/// Where the plugins live.
#[derive(Args, Debug, Clone)]
pub(crate) struct DirOpts {
    /// The plugins folder.
    #[arg(long, value_name = "DIR", default_value = "plugins")]
    plugins: PathBuf,
}

impl DirOpts {
    fn dir(&self) -> PluginsDir {
        PluginsDir::new(&self.plugins)
    }

    fn host(&self) -> Result<PluginHost, Failure> {
        Ok(PluginHost::new(HostConfig {
            cache_dir: Some(self.plugins.join(".cache")),
            ..HostConfig::default()
        })?)
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum WorldArg {
    PolicyPlugin,
    Crypto,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum GrantArg {
    Clocks,
}

#[derive(Subcommand, Debug)]
pub(crate) enum PluginCommand {
    /// Copy a component into the plugins folder, pin its SHA-256 and verify it.
    Add {
        #[command(flatten)]
        dir: DirOpts,
        /// The component (.wasm).
        component: PathBuf,
        /// The plugin's name, [a-z0-9-].
        #[arg(long)]
        name: String,
        /// The plugin's version.
        #[arg(long, default_value = "0.1.0")]
        version: String,
        /// The world it implements.
        #[arg(long, value_enum, default_value = "policy-plugin")]
        world: WorldArg,
        /// A capability to grant (default none).
        #[arg(long, value_enum)]
        grant: Vec<GrantArg>,
    },
    /// List the plugins: name, version, world, digest, capabilities.
    List {
        #[command(flatten)]
        dir: DirOpts,
    },
    /// Check digests, worlds and imports (every plugin, or the named one).
    Verify {
        #[command(flatten)]
        dir: DirOpts,
        /// Only this plugin.
        name: Option<String>,
    },
}

pub(crate) fn plugin(cmd: PluginCommand) -> CmdResult {
    match cmd {
        PluginCommand::Add {
            dir,
            component,
            name,
            version,
            world,
            grant,
        } => {
            let world = match world {
                WorldArg::PolicyPlugin => World::PolicyPlugin,
                WorldArg::Crypto => World::Crypto,
            };
            let caps = grant
                .into_iter()
                .map(|g| match g {
                    GrantArg::Clocks => Capability::Clocks,
                })
                .collect();
            let host = dir.host()?;
            let m = dir.dir().add(&name, &version, world, &component, caps)?;
            if let Err(e) = host.verify(&m) {
                // Leave nothing behind that a later run could load.
                let _ = std::fs::remove_dir_all(dir.plugins.join(&name));
                return Err(e.into());
            }
            println!(
                "added {} {} ({}) sha256:{}",
                m.name,
                m.version,
                m.world.as_str(),
                m.sha256
            );
            Ok(())
        }
        PluginCommand::List { dir } => {
            for m in dir.dir().list()? {
                match m {
                    Ok(m) => {
                        let caps: Vec<&str> = m
                            .capabilities
                            .iter()
                            .map(|c| match c {
                                Capability::Clocks => "clocks",
                            })
                            .collect();
                        println!(
                            "{}\t{}\t{}\tsha256:{}\t{}",
                            m.name,
                            m.version,
                            m.world.as_str(),
                            m.sha256,
                            if caps.is_empty() {
                                "-".to_owned()
                            } else {
                                caps.join(",")
                            }
                        );
                    }
                    Err(e) => println!("{e}"),
                }
            }
            Ok(())
        }
        PluginCommand::Verify { dir, name } => {
            let host = dir.host()?;
            let manifests = match name {
                Some(n) => vec![dir.dir().manifest(&n)],
                None => dir.dir().list()?,
            };
            let mut first_failure = None;
            for m in manifests {
                let r = m.and_then(|m| host.verify(&m).map(|()| m));
                match r {
                    Ok(m) => println!("ok\t{}\t{}\tsha256:{}", m.name, m.world.as_str(), m.sha256),
                    Err(e) => {
                        println!("FAIL\t{e}");
                        first_failure.get_or_insert(e);
                    }
                }
            }
            match first_failure {
                Some(e) => Err(e.into()),
                None => Ok(()),
            }
        }
    }
}

/// `crmguard run`: one request through a policy plugin.
#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    dir: DirOpts,
    #[command(flatten)]
    keyring: KeyringOpts,
    /// The request (JSON: tenant, principal, action, object, record_id, subject, record).
    #[arg(long, value_name = "FILE")]
    request: PathBuf,
    /// The policy plugin to run.
    #[arg(long, default_value = "reference")]
    plugin: String,
    /// The crypto component's plugin name.
    #[arg(long, default_value = "crypto")]
    crypto: String,
}

/// Prints the outcome (decision, the record as the caller may see it, field actions, the
/// plugin's log) as JSON. A deny is an answer, not a failure: exit status 0.
pub(crate) fn run(args: RunArgs) -> CmdResult {
    let text = std::fs::read_to_string(&args.request)
        .map_err(|e| Failure::io(&args.request.display().to_string(), e))?;
    let request: AccessRequest =
        serde_json::from_str(&text).map_err(|e| Failure::input(format!("request: {e}")))?;
    let keyring = args.keyring.load()?;
    let keys = Arc::new(StaticKeys::new(keyring.keyring.to_cleartext_json()));
    let host = args.dir.host()?;
    let dir = args.dir.dir();
    let crypto = host.load_crypto(&dir.manifest(&args.crypto)?, keys)?;
    let plugin = host.load_plugin(&dir.manifest(&args.plugin)?)?;
    let outcome = host.decide(&plugin, &crypto, &request);
    println!("{}", outcome.to_json());
    Ok(())
}
