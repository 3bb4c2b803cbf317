//! `crmguard seal`, `open`, `blind-index`, `subject forget`: single values.

use crate::failure::outln;
use clap::{Args, Subcommand};
use std::io::{Read, Write};
use std::path::PathBuf;

use crmguard_core::{
    BlindIndexScope, BlindIndexSpec, FieldContext, FieldName, ForgetOutcome, MAX_PLAINTEXT_LEN,
    Normalizer, ObjectType, RecordId, RecordTarget, SealedField, SubjectId, SystemEntropy,
    TenantId,
};

use crate::failure::{CmdResult, Failure};
use crate::keystore::{KeyringOpts, now};

/// Where a value lives.
#[derive(Args, Debug)]
pub(crate) struct ContextOpts {
    /// Tenant id.
    #[arg(long)]
    tenant: TenantId,
    /// Object type, e.g. contact.
    #[arg(long)]
    object: ObjectType,
    /// Record id.
    #[arg(long)]
    record: RecordId,
    /// Field name (or schema path).
    #[arg(long)]
    field: FieldName,
    /// Data subject: seal under this subject's key (created if missing) / open with it.
    #[arg(long)]
    subject: Option<SubjectId>,
}

impl ContextOpts {
    pub(crate) fn context(&self) -> FieldContext {
        FieldContext {
            tenant: self.tenant.clone(),
            object: self.object.clone(),
            record: self.record.clone(),
            field: self.field.clone(),
            subject: self.subject.clone(),
        }
    }
}

/// Reads all of stdin, refusing more than `limit` bytes.
pub(crate) fn read_stdin(limit: usize) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::io("stdin", e))?;
    if buf.len() > limit {
        return Err(Failure::input(format!(
            "input is larger than {limit} bytes"
        )));
    }
    Ok(buf)
}

pub(crate) fn write_stdout(bytes: &[u8]) -> CmdResult {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(Failure::stdout)
}

pub(crate) fn seal(keyring: KeyringOpts, ctx: ContextOpts) -> CmdResult {
    let plaintext = zeroize::Zeroizing::new(read_stdin(MAX_PLAINTEXT_LEN)?);
    let ctx = ctx.context();
    let loaded = match &ctx.subject {
        Some(subject) => {
            let mut loaded = keyring.load_for_update()?;
            if loaded
                .keyring
                .add_subject(subject, &mut SystemEntropy, now())?
            {
                loaded.save()?;
            }
            loaded
        }
        None => keyring.load()?,
    };
    let sealed = loaded.keyring.seal(&ctx, &plaintext)?;
    write_stdout(format!("{}\n", sealed.to_text()).as_bytes())
}

pub(crate) fn open(keyring: KeyringOpts, ctx: ContextOpts) -> CmdResult {
    // Base64url of the largest sealed value, plus prefix and a newline.
    let input = read_stdin((MAX_PLAINTEXT_LEN + 64) / 3 * 4 + 16)?;
    let text =
        std::str::from_utf8(&input).map_err(|_| Failure::input("sealed text must be UTF-8"))?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    let sealed = SealedField::from_text(text).map_err(crmguard_core::Error::from)?;
    let loaded = keyring.load()?;
    let plaintext = zeroize::Zeroizing::new(loaded.keyring.open(&ctx.context(), &sealed)?);
    write_stdout(&plaintext)
}

#[derive(Args, Debug)]
pub(crate) struct BlindIndexArgs {
    #[command(flatten)]
    keyring: KeyringOpts,
    /// Tenant id.
    #[arg(long)]
    tenant: TenantId,
    /// Object type (taken from the schema when --schema is given).
    #[arg(long, required_unless_present = "schema")]
    object: Option<ObjectType>,
    /// Field name or schema path.
    #[arg(long)]
    field: FieldName,
    /// Take the normalisers and bit length from this record schema's rule for --field.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["normalize", "bits", "object"])]
    schema: Option<PathBuf>,
    /// Normalisers, applied in order: trim, lowercase, email, phone.
    #[arg(long, value_enum)]
    normalize: Vec<NormalizerArg>,
    /// Bits of the index to keep (8 to 256).
    #[arg(long, default_value_t = 32)]
    bits: u16,
    /// The data subject, for a field sealed under its key (with --schema: required when the
    /// rule says `"key": "subject"`); the index is then derived from the subject's key.
    #[arg(long)]
    subject: Option<SubjectId>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum NormalizerArg {
    Trim,
    Lowercase,
    Email,
    Phone,
}

impl From<NormalizerArg> for Normalizer {
    fn from(n: NormalizerArg) -> Self {
        match n {
            NormalizerArg::Trim => Normalizer::Trim,
            NormalizerArg::Lowercase => Normalizer::Lowercase,
            NormalizerArg::Email => Normalizer::Email,
            NormalizerArg::Phone => Normalizer::Phone,
        }
    }
}

pub(crate) fn blind_index(args: BlindIndexArgs) -> CmdResult {
    let input = zeroize::Zeroizing::new(read_stdin(64 * 1024)?);
    let value =
        std::str::from_utf8(&input).map_err(|_| Failure::input("the value must be UTF-8"))?;
    let value = value.strip_suffix('\n').unwrap_or(value);
    let loaded = args.keyring.load()?;
    let idx = match &args.schema {
        // The schema's rule gives the settings and the key scope (subject-keyed fields are
        // indexed under the subject's key).
        Some(path) => {
            let schema = crate::commands::records::load_schema(path)?;
            let target = RecordTarget {
                subject: args.subject.clone(),
                ..RecordTarget::tenant(args.tenant.clone())
            };
            loaded
                .keyring
                .record_blind_index(&schema, &target, args.field.as_str(), value)?
        }
        None => {
            // clap requires --object when --schema is absent.
            let object = args
                .object
                .as_ref()
                .ok_or_else(|| Failure::input("--object is required"))?;
            let spec = BlindIndexSpec {
                normalize: args.normalize.iter().map(|&n| n.into()).collect(),
                bits: args.bits,
            };
            let scope = match &args.subject {
                Some(s) => BlindIndexScope::Subject(s),
                None => BlindIndexScope::Keyring,
            };
            loaded.keyring.blind_index_scoped(
                scope,
                &args.tenant,
                object,
                &args.field,
                &spec,
                value,
            )?
        }
    };
    outln!("{idx}");
    Ok(())
}

#[derive(Subcommand)]
pub(crate) enum SubjectCommand {
    /// Erase a data subject's key (crypto-shredding, GDPR Art. 17): every value sealed under
    /// it becomes unrecoverable; other subjects are untouched.
    Forget {
        #[command(flatten)]
        keyring: KeyringOpts,
        /// The subject id.
        #[arg(long)]
        subject: SubjectId,
        #[command(flatten)]
        audit: super::audit::ErasureAuditOpts,
    },
}

pub(crate) fn subject(cmd: SubjectCommand) -> CmdResult {
    match cmd {
        SubjectCommand::Forget {
            keyring,
            subject,
            audit,
        } => {
            let mut loaded = keyring.load_for_update()?;
            let reason = match loaded.keyring.forget_subject(&subject, now())? {
                ForgetOutcome::Erased => {
                    loaded.save()?;
                    outln!(
                        "forgotten: the subject's key is erased; its sealed fields are unrecoverable"
                    );
                    None
                }
                ForgetOutcome::AlreadyForgotten => {
                    outln!("already forgotten: nothing to do");
                    Some("already forgotten")
                }
            };
            // The erasure has happened; its audit record follows it.
            if let Some(seq) =
                super::audit::record_subject_erasure(&audit, subject.as_str(), reason)
                    .map_err(|f| f.with_context("subject forgotten, but its audit record failed"))?
            {
                outln!("audit: erasure recorded at seq {seq}");
            }
            Ok(())
        }
    }
}
