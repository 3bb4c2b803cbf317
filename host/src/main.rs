//! `crmguard`: seal and open CRM fields and records, manage keyrings and data-subject keys.
//!
//! Exit status: 0 on success; 1 with one stderr line `ERR_CODE: message` on failure;
//! 2 on usage errors.

mod commands;
mod failure;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
    Keys(commands::keys::KeysCommand),
    /// Append to, verify, and prove inclusion in tamper-evident audit logs.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keys(cmd) => commands::keys::run(cmd),
        Command::Audit(cmd) => commands::audit::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::from(1)
        }
    }
}
