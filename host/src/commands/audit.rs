//! `crmguard audit ...`: append events to a durable log, verify it, prove and check inclusion
//! and consistency. Only translation: the log is `crmguard_store::audit_log`, the rules are in
//! crmguard-core.

use crate::failure::outln;
use clap::{Subcommand, ValueEnum};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use crmguard_core::{
    Anchor, AuditEvent, AuditRecord, AuditSigningKey, AuditVerifyingKey, Checkpoint,
    ConsistencyProof, InclusionProof, ProofDocument, RecordOptions, SystemEntropy, parse_proof,
};
use crmguard_store::audit_log::{
    AuditLog, AuditLogError, Durability, LogOptions, read_head, verify_log,
};

use crate::failure::{CmdResult, Failure};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum DurabilityArg {
    /// fdatasync after every record.
    Fsync,
    /// Group commit: one fdatasync per --group-records records or --group-ms milliseconds.
    Group,
}

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Append events (one JSON object per line on stdin) to a log, write a checkpoint at the
    /// end, and print the head.
    Append {
        /// The log file (rotated segments are LOG.000001, ...).
        #[arg(long)]
        log: PathBuf,
        /// The signing key file (from `crmguard keys new-signing`).
        #[arg(long)]
        signing_key: PathBuf,
        /// When records become durable.
        #[arg(long, value_enum, default_value = "group")]
        durability: DurabilityArg,
        /// Group commit: commit once this many records are pending.
        #[arg(long, default_value_t = 256)]
        group_records: usize,
        /// Group commit: commit once the oldest pending record has waited this long.
        #[arg(long, default_value_t = 10)]
        group_ms: u64,
        /// Also write a checkpoint after every N records.
        #[arg(long)]
        checkpoint_every: Option<u64>,
        /// Rotate the active file once it reaches this many bytes.
        #[arg(long)]
        rotate_bytes: Option<u64>,
        /// Print `ack SEQ HASH` on stdout as each record becomes durable.
        #[arg(long)]
        print_acks: bool,
        /// Replace actor ids by keyed hashes.
        #[arg(long)]
        pseudonymize_actors: bool,
        /// Keep data-subject ids in clear (by default they are replaced by keyed hashes).
        #[arg(long)]
        clear_subject_ids: bool,
        /// The log id for a new log (default: random).
        #[arg(long)]
        log_id: Option<String>,
    },
    /// Verify a log: every record, the chain, every checkpoint, and truncation against the
    /// head file or an anchor.
    Verify {
        /// The log file.
        #[arg(long)]
        log: PathBuf,
        /// A trusted verifying key file (repeat for earlier keys).
        #[arg(long = "public-key", required = true)]
        public_keys: Vec<PathBuf>,
        /// A checkpoint kept outside the log (default: LOG.head.json if present).
        #[arg(long)]
        anchor: Option<PathBuf>,
        /// Fail unless the log holds at least this many records.
        #[arg(long)]
        expect_size: Option<u64>,
    },
    /// Print a proof: that record SEQ is in the log's last checkpoint (inclusion), or that the
    /// checkpoint of size OLD is a prefix of the last one (consistency).
    Prove {
        /// The log file.
        #[arg(long)]
        log: PathBuf,
        /// A trusted verifying key file.
        #[arg(long = "public-key", required = true)]
        public_keys: Vec<PathBuf>,
        /// The record to prove.
        #[arg(
            long,
            required_unless_present = "consistency_from",
            conflicts_with = "consistency_from"
        )]
        seq: Option<u64>,
        /// Prove consistency from the log's checkpoint of this size to its last checkpoint.
        #[arg(long)]
        consistency_from: Option<u64>,
    },
    /// Verify a proof document made by `audit prove`.
    VerifyProof {
        /// The proof file (`-` for stdin).
        #[arg(long)]
        proof: PathBuf,
        /// A trusted verifying key file.
        #[arg(long = "public-key", required = true)]
        public_keys: Vec<PathBuf>,
    },
}

pub(crate) fn run(cmd: AuditCommand) -> CmdResult {
    match cmd {
        AuditCommand::Append {
            log,
            signing_key,
            durability,
            group_records,
            group_ms,
            checkpoint_every,
            rotate_bytes,
            print_acks,
            pseudonymize_actors,
            clear_subject_ids,
            log_id,
        } => {
            let durability = match durability {
                DurabilityArg::Fsync => Durability::PerRecord,
                DurabilityArg::Group => Durability::Group {
                    max_records: group_records.max(1),
                    max_delay: Duration::from_millis(group_ms),
                },
            };
            let key = read_signing_key(&signing_key)?;
            let mut record =
                RecordOptions::new(env!("CARGO_PKG_VERSION"), Some(key.pseudonym_key().clone()));
            record.pseudonymize_actors = pseudonymize_actors;
            record.pseudonymize_subjects = !clear_subject_ids;
            let options = LogOptions {
                durability,
                checkpoint_every,
                rotate_bytes,
                record,
                trusted_keys: Vec::new(),
                new_log_id: match log_id {
                    Some(id) => id,
                    None => random_log_id()?,
                },
            };
            append(&log, key, options, print_acks)
        }
        AuditCommand::Verify {
            log,
            public_keys,
            anchor,
            expect_size,
        } => {
            let keys = read_verifying_keys(&public_keys)?;
            let checkpoint = match anchor {
                Some(p) => Some(Checkpoint::parse(&read_text(&p)?, 0)?),
                None => read_head(&log).map_err(log_failure)?,
            };
            let anchor = Anchor {
                checkpoint,
                min_size: expect_size,
            };
            let v = verify_log(&log, keys, &anchor).map_err(log_failure)?;
            let head = match v.size {
                0 => "empty".to_owned(),
                n => format!("head seq {} hash {}", n - 1, v.head_hash),
            };
            outln!(
                "ok: {} records, {} checkpoints, {} records after the last checkpoint, {head}, log id {}",
                v.size,
                v.checkpoints,
                v.uncovered,
                v.log_id
            );
            Ok(())
        }
        AuditCommand::Prove {
            log,
            public_keys,
            seq,
            consistency_from,
        } => prove(&log, &public_keys, seq, consistency_from),
        AuditCommand::VerifyProof { proof, public_keys } => {
            let keys = read_verifying_keys(&public_keys)?;
            let text = if proof.as_os_str() == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| Failure::io("stdin", e))?;
                s
            } else {
                read_text(&proof)?
            };
            let doc = parse_proof(&text)?;
            doc.verify(&keys)?;
            match doc {
                ProofDocument::Inclusion(p) => outln!(
                    "ok: seq {} is in log {} at checkpoint size {} (root {})",
                    p.record.seq,
                    p.checkpoint.log_id,
                    p.checkpoint.size,
                    p.checkpoint.root_hash
                ),
                ProofDocument::Consistency(p) => outln!(
                    "ok: log {} at size {} is a prefix of size {} (root {})",
                    p.new.log_id,
                    p.old.size,
                    p.new.size,
                    p.new.root_hash
                ),
            }
            Ok(())
        }
    }
}

/// Where `subject forget` records an erasure: `--audit-log` and `--signing-key` together.
#[derive(clap::Args, Debug)]
pub(crate) struct ErasureAuditOpts {
    /// Append an audit record of the erasure to this log (the subject id is replaced by a
    /// keyed hash).
    #[arg(long, value_name = "PATH", requires = "signing_key")]
    pub(crate) audit_log: Option<PathBuf>,
    /// The audit signing key file (from `crmguard keys new-signing`).
    #[arg(long, value_name = "PATH", requires = "audit_log")]
    pub(crate) signing_key: Option<PathBuf>,
    /// The actor recorded as having erased the subject.
    #[arg(long, value_name = "UID", default_value = "crmguard-cli")]
    pub(crate) audit_actor: String,
    /// The tenant recorded for the erasure.
    #[arg(long, value_name = "TENANT", default_value = "default")]
    pub(crate) audit_tenant: String,
}

/// Appends (durably, then checkpointed) the record of `subject`'s erasure if `opts` name a
/// log; `reason` goes to `status_detail`. Returns the record's seq.
pub(crate) fn record_subject_erasure(
    opts: &ErasureAuditOpts,
    subject: &str,
    reason: Option<&str>,
) -> Result<Option<u64>, Failure> {
    let (Some(log), Some(key_path)) = (&opts.audit_log, &opts.signing_key) else {
        return Ok(None);
    };
    let actor = crmguard_core::EventActor {
        uid: opts.audit_actor.clone(),
        tenant: opts.audit_tenant.clone(),
        roles: Vec::new(),
    };
    let mut event = AuditEvent::subject_erasure(actor, subject, None);
    event.outcome.reason = reason.map(str::to_owned);
    append_event(log, key_path, &event).map(Some)
}

/// Audit options of commands that make a decision (`authorize`): every decision, allow or
/// deny, is recorded when a log is named.
#[derive(clap::Args, Debug)]
pub(crate) struct DecisionAuditOpts {
    /// Append an audit record of the decision (allow or deny) to this log.
    #[arg(long, value_name = "PATH", requires = "signing_key")]
    pub(crate) audit_log: Option<PathBuf>,
    /// The audit signing key file (from `crmguard keys new-signing`).
    #[arg(long, value_name = "PATH", requires = "audit_log")]
    pub(crate) signing_key: Option<PathBuf>,
}

/// Appends `event` if `opts` name a log. Returns the record's seq.
pub(crate) fn record_decision(
    opts: &DecisionAuditOpts,
    event: &AuditEvent,
) -> Result<Option<u64>, Failure> {
    let (Some(log), Some(key_path)) = (&opts.audit_log, &opts.signing_key) else {
        return Ok(None);
    };
    append_event(log, key_path, event).map(Some)
}

/// One durable append (fsync) and a checkpoint; subject ids pseudonymised.
fn append_event(log: &Path, key_path: &Path, event: &AuditEvent) -> Result<u64, Failure> {
    let key = read_signing_key(key_path)?;
    let record = RecordOptions::new(env!("CARGO_PKG_VERSION"), Some(key.pseudonym_key().clone()));
    let options = LogOptions {
        durability: Durability::PerRecord,
        checkpoint_every: None,
        rotate_bytes: None,
        record,
        trusted_keys: Vec::new(),
        new_log_id: random_log_id()?,
    };
    let (appended, _) = crmguard_store::audit_log::append_one(log, key, options, event, now_ms())
        .map_err(log_failure)?;
    Ok(appended.seq)
}

fn log_failure(e: AuditLogError) -> Failure {
    Failure::new(e.code(), e.to_string())
}

fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::io(&path.display().to_string(), e))
}

fn read_signing_key(path: &Path) -> Result<AuditSigningKey, Failure> {
    let text = zeroize::Zeroizing::new(read_text(path)?);
    Ok(AuditSigningKey::from_json(&text)?)
}

fn read_verifying_keys(paths: &[PathBuf]) -> Result<Vec<AuditVerifyingKey>, Failure> {
    paths
        .iter()
        .map(|p| Ok(AuditVerifyingKey::from_json(&read_text(p)?)?))
        .collect()
}

fn random_log_id() -> Result<String, Failure> {
    use crmguard_core::Entropy;
    let mut b = [0u8; 16];
    SystemEntropy.fill(&mut b)?;
    Ok(format!(
        "log-{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    ))
}

/// Milliseconds since the Unix epoch: the host's clock, given to core as a parameter.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn append(log: &Path, key: AuditSigningKey, options: LogOptions, print_acks: bool) -> CmdResult {
    let (mut audit, report) = AuditLog::open(log, key, options).map_err(log_failure)?;
    if let Some(t) = report.torn {
        eprintln!(
            "warning: cut a torn last line ({} bytes) left by a crash; the log continues from seq {}",
            t.bytes, report.size
        );
    }
    // stdin is read on its own thread so that group commits happen on time while it blocks.
    let (tx, rx) = mpsc::sync_channel::<std::io::Result<String>>(1024);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = std::io::stdout().lock();
    // Appended but not yet acknowledged: (seq, hash), acknowledged once durable.
    let mut unacked: std::collections::VecDeque<(u64, crmguard_core::AuditHash)> =
        std::collections::VecDeque::new();
    let mut line_no = 0u64;
    let ack = |unacked: &mut std::collections::VecDeque<(u64, crmguard_core::AuditHash)>,
               out: &mut std::io::StdoutLock<'_>,
               durable: u64|
     -> CmdResult {
        let mut wrote = false;
        while unacked.front().is_some_and(|(seq, _)| *seq < durable) {
            // The loop condition just saw a front element.
            let (seq, hash) = unacked.pop_front().expect("front exists");
            if print_acks {
                writeln!(out, "ack {seq} {hash}").map_err(Failure::stdout)?;
                wrote = true;
            }
        }
        if wrote {
            out.flush().map_err(Failure::stdout)?;
        }
        Ok(())
    };
    let failure = loop {
        let msg = match audit.commit_deadline() {
            Some(d) => rx.recv_timeout(d),
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match msg {
            Ok(Ok(line)) => {
                line_no += 1;
                if line.trim().is_empty() {
                    continue;
                }
                let event: AuditEvent = match serde_json::from_str(&line) {
                    Ok(e) => e,
                    Err(e) => {
                        break Some(Failure::input(format!(
                            "stdin line {line_no}: not an audit event: {}",
                            short(&e.to_string())
                        )));
                    }
                };
                match audit.append(&event, now_ms()) {
                    Ok(a) => {
                        unacked.push_back((a.seq, a.hash));
                        ack(&mut unacked, &mut out, a.durable_size)?;
                    }
                    Err(e) => {
                        break Some(log_failure(e).with_context(&format!("stdin line {line_no}")));
                    }
                }
            }
            Ok(Err(e)) => break Some(Failure::io("stdin", e)),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let d = audit.commit_if_due(now_ms()).map_err(log_failure)?;
                ack(&mut unacked, &mut out, d)?;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break None,
        }
    };
    // Whatever happened to the input, what was appended is committed and checkpointed.
    let size = audit.size();
    let head = audit.head();
    let log_id = audit.log_id().to_owned();
    audit.commit(now_ms()).map_err(log_failure)?;
    ack(&mut unacked, &mut out, audit.durable_size())?;
    let cp = audit.close(now_ms()).map_err(log_failure)?;
    if let Some(f) = failure {
        return Err(f);
    }
    match cp {
        Some(c) => outln!(
            "head: {size} records, seq {} hash {head}, root {}, log id {log_id}",
            size - 1,
            c.root_hash
        ),
        None => outln!("head: empty log, log id {log_id}"),
    }
    Ok(())
}

fn short(s: &str) -> String {
    s.chars().take(160).collect()
}

fn prove(
    log: &Path,
    public_keys: &[PathBuf],
    seq: Option<u64>,
    consistency_from: Option<u64>,
) -> CmdResult {
    let keys = read_verifying_keys(public_keys)?;
    let anchor = Anchor {
        checkpoint: read_head(log).map_err(log_failure)?,
        min_size: None,
    };
    let v = verify_log(log, keys, &anchor).map_err(log_failure)?;
    let last = v.last_checkpoint.clone().ok_or_else(|| {
        Failure::new(
            crmguard_core::codes::AUDIT_PROOF,
            "proof: the log has no checkpoint",
        )
    })?;
    let json = if let Some(old_size) = consistency_from {
        let old = find_checkpoint(log, old_size)?;
        serde_json::to_string_pretty(&ConsistencyProof::build(&v, old, last)?)
    } else {
        // clap requires one of --seq and --consistency-from.
        let seq = seq.unwrap_or_default();
        let rec = find_record(log, seq)?;
        serde_json::to_string_pretty(&InclusionProof::build(&v, rec, last)?)
    };
    // Serialising plain structs cannot fail.
    outln!("{}", json.expect("proofs serialise"));
    Ok(())
}

fn find_record(log: &Path, seq: u64) -> Result<AuditRecord, Failure> {
    crmguard_store::audit_log::find_record(log, seq)
        .map_err(log_failure)?
        .ok_or_else(|| {
            Failure::new(
                crmguard_core::codes::AUDIT_PROOF,
                format!("proof: no record with seq {seq}"),
            )
        })
}

fn find_checkpoint(log: &Path, size: u64) -> Result<Checkpoint, Failure> {
    crmguard_store::audit_log::find_checkpoint(log, size)
        .map_err(log_failure)?
        .ok_or_else(|| {
            Failure::new(
                crmguard_core::codes::AUDIT_PROOF,
                format!("proof: the log has no checkpoint of size {size}"),
            )
        })
}
