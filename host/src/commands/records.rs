//! `crmguard seal-record`, `open-record`, `reencrypt`: whole records by schema.
//!
//! Input is a stream of JSON objects (JSON Lines, or any whitespace-separated JSON values,
//! so one pretty-printed record works too); output is JSON Lines.

use clap::Args;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crmguard_core::{
    OpenRecordOptions, RecordId, RecordSchema, RecordTarget, SubjectId, SystemEntropy, TenantId,
};
use serde_json::Value;

use crate::failure::{CmdResult, Failure};
use crate::keystore::{KeyringOpts, now, write_atomically};

/// Options shared by the record commands.
#[derive(Args, Debug)]
pub(crate) struct RecordOpts {
    #[command(flatten)]
    keyring: KeyringOpts,
    /// The record schema (JSON; see docs/FORMAT.md).
    #[arg(long, value_name = "FILE")]
    schema: PathBuf,
    /// Tenant id.
    #[arg(long)]
    tenant: TenantId,
    /// Record id for every input record (default: the schema's record_id path).
    #[arg(long)]
    record: Option<RecordId>,
    /// Data subject for every input record (default: the schema's subject path).
    #[arg(long)]
    subject: Option<SubjectId>,
    /// Read records from this file instead of stdin.
    #[arg(long = "in", value_name = "FILE")]
    input: Option<PathBuf>,
    /// Pretty-print each output record.
    #[arg(long)]
    pretty: bool,
}

pub(crate) fn load_schema(path: &Path) -> Result<RecordSchema, Failure> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::io(&path.display().to_string(), e))?;
    Ok(RecordSchema::from_json(&text)?)
}

impl RecordOpts {
    fn target(&self) -> RecordTarget {
        RecordTarget {
            tenant: self.tenant.clone(),
            record: self.record.clone(),
            subject: self.subject.clone(),
        }
    }

    fn records(&self) -> Result<Vec<Value>, Failure> {
        let mut text = String::new();
        match &self.input {
            Some(p) => {
                text = std::fs::read_to_string(p)
                    .map_err(|e| Failure::io(&p.display().to_string(), e))?;
            }
            None => {
                std::io::stdin()
                    .lock()
                    .read_to_string(&mut text)
                    .map_err(|e| Failure::io("stdin", e))?;
            }
        }
        serde_json::Deserializer::from_str(&text)
            .into_iter::<Value>()
            .enumerate()
            .map(|(i, v)| {
                v.map_err(|e| {
                    Failure::input(format!(
                        "record {}: invalid JSON at line {} column {}",
                        i + 1,
                        e.line(),
                        e.column()
                    ))
                })
            })
            .collect()
    }
}

fn render(records: &[Value], pretty: bool) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    for r in records {
        let line = if pretty {
            serde_json::to_string_pretty(r)
        } else {
            serde_json::to_string(r)
        };
        out.extend_from_slice(line.map_err(|e| Failure::input(e.to_string()))?.as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

fn emit(records: &[Value], pretty: bool, out: Option<&Path>) -> CmdResult {
    let bytes = render(records, pretty)?;
    match out {
        Some(path) => write_atomically(path, &bytes, false),
        None => {
            let mut w = BufWriter::new(std::io::stdout().lock());
            w.write_all(&bytes)
                .and_then(|()| w.flush())
                .map_err(Failure::stdout)
        }
    }
}

fn with_record_number<T>(i: usize, r: Result<T, crmguard_core::Error>) -> Result<T, Failure> {
    r.map_err(|e| {
        let f = Failure::from(e);
        Failure::new(f.code, format!("record {}: {}", i + 1, f.message))
    })
}

pub(crate) fn seal_record(opts: RecordOpts) -> CmdResult {
    let schema = load_schema(&opts.schema)?;
    let records = opts.records()?;
    let target = opts.target();
    let needs_subjects = schema.uses_subject_keys();
    let mut loaded = if needs_subjects {
        opts.keyring.load_for_update()?
    } else {
        opts.keyring.load()?
    };
    // Create the subject keys the records need, all before sealing, and save once.
    let mut created = 0;
    if needs_subjects {
        for (i, r) in records.iter().enumerate() {
            let Some(subject) = with_record_number(i, schema.subject_id(r, &target))? else {
                continue;
            };
            let added = loaded
                .keyring
                .add_subject(&subject, &mut SystemEntropy, now());
            if with_record_number(i, added)? {
                created += 1;
            }
        }
        if created > 0 {
            loaded.save()?;
        }
    }
    let sealed = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            with_record_number(
                i,
                loaded
                    .keyring
                    .seal_record(&schema, r, &target, &mut SystemEntropy),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    emit(&sealed, opts.pretty, None)
}

pub(crate) fn open_record(opts: RecordOpts, forgotten_as_null: bool) -> CmdResult {
    let schema = load_schema(&opts.schema)?;
    let records = opts.records()?;
    let target = opts.target();
    let loaded = opts.keyring.load()?;
    let options = OpenRecordOptions { forgotten_as_null };
    let opened = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            with_record_number(i, loaded.keyring.open_record(&schema, r, &target, options))
        })
        .collect::<Result<Vec<_>, _>>()?;
    emit(&opened, opts.pretty, None)
}

pub(crate) fn reencrypt(opts: RecordOpts, out: Option<PathBuf>) -> CmdResult {
    let schema = load_schema(&opts.schema)?;
    let mut records = opts.records()?;
    let target = opts.target();
    let loaded = opts.keyring.load()?;
    let mut values = 0;
    for (i, r) in records.iter_mut().enumerate() {
        values += with_record_number(
            i,
            loaded
                .keyring
                .reseal_record(&schema, r, &target, &mut SystemEntropy),
        )?;
    }
    // Every record re-encrypted before anything is written: no half-rotated output.
    let out = out.or_else(|| opts.input.clone());
    emit(&records, opts.pretty, out.as_deref())?;
    eprintln!(
        "re-encrypted {values} values in {} records under primary key {}",
        records.len(),
        loaded.keyring.primary()
    );
    Ok(())
}
