//! `crmguard tenant-key new|open|reseal|seal`: HPKE sealing to a tenant's public key (the
//! server side of browser forms that seal fields with the npm package).
//!
//! Key files hold the 32 key bytes as unpadded base64url and a newline; the private key file
//! is created with mode 0600.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

use crmguard_core::{
    ContentType, MAX_PLAINTEXT_LEN, SystemEntropy, TenantPublicKey, TenantSealed, TenantSecretKey,
    open_from_tenant, seal_to_tenant,
};

use super::fields::{ContextOpts, read_stdin, write_stdout};
use crate::failure::{CmdResult, Failure};
use crate::keystore::{KeyringOpts, write_atomically};

#[derive(Subcommand, Debug)]
pub(crate) enum TenantKeyCommand {
    /// Generate a tenant key pair (X25519) for HPKE sealing.
    New {
        /// The private key file to create (mode 0600); refuses to overwrite.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The public key file to create; publish it to the browsers that seal to the tenant.
        #[arg(long, value_name = "FILE")]
        public_out: PathBuf,
    },
    /// Open a value sealed to the tenant (cgh1: text on stdin); writes the plaintext bytes.
    Open {
        #[command(flatten)]
        key: SecretKeyOpt,
        #[command(flatten)]
        context: ContextOpts,
    },
    /// Open a value sealed to the tenant (stdin) and seal it under the keyring for storage;
    /// prints the cg1: text. With --subject, the subject's key seals it (created if missing).
    Reseal {
        #[command(flatten)]
        key: SecretKeyOpt,
        #[command(flatten)]
        keyring: KeyringOpts,
        #[command(flatten)]
        context: ContextOpts,
    },
    /// Seal stdin to a tenant's public key (what the browser does); prints the cgh1: text.
    Seal {
        /// The tenant's public key file.
        #[arg(long, value_name = "FILE")]
        public_key: PathBuf,
        #[command(flatten)]
        context: ContextOpts,
    },
}

#[derive(Args, Debug)]
pub(crate) struct SecretKeyOpt {
    /// The tenant's private key file.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
}

fn read_key_file(path: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>, Failure> {
    Ok(crmguard_store::key_file::read(path)?)
}

fn sealed_stdin() -> Result<TenantSealed, Failure> {
    let input = read_stdin((MAX_PLAINTEXT_LEN + 64) / 3 * 4 + 16)?;
    let text =
        std::str::from_utf8(&input).map_err(|_| Failure::input("sealed text must be UTF-8"))?;
    Ok(TenantSealed::from_text(
        text.trim_end_matches(['\r', '\n']),
    )?)
}

pub(crate) fn run(cmd: TenantKeyCommand) -> CmdResult {
    match cmd {
        TenantKeyCommand::New { out, public_out } => {
            let sk = TenantSecretKey::generate(&mut SystemEntropy)?;
            let secret =
                zeroize::Zeroizing::new(URL_SAFE_NO_PAD.encode(sk.to_bytes().as_ref()) + "\n");
            let public = URL_SAFE_NO_PAD.encode(sk.public_key().to_bytes()) + "\n";
            if public_out.exists() {
                return Err(Failure::new(
                    "ERR_IO",
                    format!(
                        "{} already exists; refusing to overwrite",
                        public_out.display()
                    ),
                ));
            }
            write_atomically(&out, secret.as_bytes(), true)?;
            write_atomically(&public_out, public.as_bytes(), true)?;
            eprintln!(
                "wrote tenant private key to {} and public key to {}",
                out.display(),
                public_out.display()
            );
            Ok(())
        }
        TenantKeyCommand::Open { key, context } => {
            let sealed = sealed_stdin()?;
            let sk = TenantSecretKey::from_bytes(&read_key_file(&key.key)?)?;
            let plain =
                zeroize::Zeroizing::new(open_from_tenant(&sk, &context.context(), &sealed)?);
            write_stdout(&plain)
        }
        TenantKeyCommand::Reseal {
            key,
            keyring,
            context,
        } => {
            let sealed = sealed_stdin()?;
            let sk = TenantSecretKey::from_bytes(&read_key_file(&key.key)?)?;
            let ctx = context.context();
            let loaded = match &ctx.subject {
                Some(subject) => {
                    let mut loaded = keyring.load_for_update()?;
                    if loaded.keyring.add_subject(
                        subject,
                        &mut SystemEntropy,
                        crate::keystore::now(),
                    )? {
                        loaded.save()?;
                    }
                    loaded
                }
                None => keyring.load()?,
            };
            let stored = loaded
                .keyring
                .seal_from_tenant(&sk, &ctx, &sealed, &mut SystemEntropy)?;
            write_stdout(format!("{}\n", stored.to_text()).as_bytes())
        }
        TenantKeyCommand::Seal {
            public_key,
            context,
        } => {
            let plaintext = zeroize::Zeroizing::new(read_stdin(MAX_PLAINTEXT_LEN)?);
            let pk = TenantPublicKey::from_bytes(&read_key_file(&public_key)?)?;
            let sealed = seal_to_tenant(
                &pk,
                &context.context(),
                &plaintext,
                ContentType::Bytes,
                &mut SystemEntropy,
            )?;
            write_stdout(format!("{}\n", sealed.to_text()).as_bytes())
        }
    }
}
