//! `crmguard`: seal and open CRM fields and records, manage keyrings and data-subject keys.
//!
//! Exit status: 0 on success; 1 with one stderr line `ERR_CODE: message` on failure;
//! 2 on usage errors.

mod commands;
mod failure;
mod keystore;
mod serve;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

use commands::{audit, fields, keys, plugins, records, tenant};
use keystore::KeyringOpts;

#[derive(Parser)]
#[command(
    name = "crmguard",
    version,
    about = "Protect customer data in CRM systems"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create, rotate and inspect keyrings and master keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Seal one value read from stdin; prints the sealed text and a newline.
    Seal {
        #[command(flatten)]
        keyring: KeyringOpts,
        #[command(flatten)]
        context: fields::ContextOpts,
    },
    /// Open one sealed text read from stdin; writes the plaintext bytes to stdout.
    Open {
        #[command(flatten)]
        keyring: KeyringOpts,
        #[command(flatten)]
        context: fields::ContextOpts,
    },
    /// Compute the blind index of a value read from stdin, for equality search.
    BlindIndex(fields::BlindIndexArgs),
    /// Seal records (JSON objects, one per line) by a schema.
    SealRecord(records::RecordOpts),
    /// Open sealed records by their schema.
    OpenRecord {
        #[command(flatten)]
        opts: records::RecordOpts,
        /// Output null for fields sealed under a forgotten subject's key instead of failing.
        #[arg(long)]
        forgotten_as_null: bool,
    },
    /// Re-encrypt sealed records under the keyring's current primary key (data rotation).
    Reencrypt {
        #[command(flatten)]
        opts: records::RecordOpts,
        /// Write here (default: back to the --in file, atomically; stdout without --in).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Manage data-subject keys.
    #[command(subcommand)]
    Subject(fields::SubjectCommand),
    /// Tenant key pairs for HPKE: values sealed to a tenant's public key (e.g. in a browser).
    #[command(subcommand)]
    TenantKey(tenant::TenantKeyCommand),
    /// Verify access tokens (JWT) against a JSON Web Key Set.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Verify a request's token, decide it by a policy, and print the visible record.
    Authorize(commands::authorize::AuthorizeOpts),
    /// Run the policy and protection service a CRM calls per request (HTTP, /v1).
    Serve(serve::ServeOpts),
    /// Append to, verify, and prove inclusion in tamper-evident audit logs.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Manage the plugins folder: add, list, verify.
    #[command(subcommand)]
    Plugin(plugins::PluginCommand),
    /// Run one request through a policy plugin; prints the decision and the visible record.
    Run(Box<plugins::RunArgs>),
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keys(cmd) => keys::run(cmd),
        Command::Seal { keyring, context } => fields::seal(keyring, context),
        Command::Open { keyring, context } => fields::open(keyring, context),
        Command::BlindIndex(args) => fields::blind_index(args),
        Command::SealRecord(opts) => records::seal_record(opts),
        Command::OpenRecord {
            opts,
            forgotten_as_null,
        } => records::open_record(opts, forgotten_as_null),
        Command::Reencrypt { opts, out } => records::reencrypt(opts, out),
        Command::Subject(cmd) => fields::subject(cmd),
        Command::TenantKey(cmd) => tenant::run(cmd),
        Command::Token(cmd) => commands::token::run(cmd),
        Command::Authorize(opts) => commands::authorize::run(opts),
        Command::Serve(opts) => serve::run(opts),
        Command::Audit(cmd) => audit::run(cmd),
        Command::Plugin(cmd) => plugins::plugin(cmd),
        Command::Run(args) => plugins::run(*args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`, `| grep -q`): it has what it wanted.
        Err(failure) if failure.code == failure::Failure::STDOUT_CLOSED => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(1)
        }
    }
}
