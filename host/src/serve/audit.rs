//! Audit before answer, with group commit: one writer thread owns the log; each request
//! hands it its event and waits. The writer appends everything that is waiting, makes it
//! durable with one `fdatasync`, and only then tells each request its sequence number. A
//! request whose event could not be made durable gets an error and answers 503: an
//! unrecorded decision is never acted on.

use std::sync::mpsc;
use std::time::Instant;

use crmguard_core::{AuditEvent, Checkpoint};
use crmguard_store::audit_log::{AuditLog, AuditLogError};
use crmguard_store::audit_proofs::ProofIndex;
use tokio::sync::oneshot;

use super::metrics::Metrics;
use crate::commands::audit::now_ms;

/// The most events made durable by one commit.
const MAX_BATCH: usize = 512;

enum Job {
    /// Append and make durable; answer the sequence number.
    Append {
        event: AuditEvent,
        done: oneshot::Sender<Result<u64, Refused>>,
    },
    /// The log's state now.
    Head { done: oneshot::Sender<Head> },
    /// The durable log's proof index.
    Proofs { done: oneshot::Sender<ProofIndex> },
    /// Sign a checkpoint over everything appended (none for an empty log).
    Checkpoint {
        done: oneshot::Sender<Result<Option<Checkpoint>, String>>,
    },
}

/// Why an event was not recorded: the event itself (its core code: the caller's fault), or
/// the log (no code: not durable, the writer stopped).
#[derive(Debug, Clone)]
pub(crate) struct Refused {
    pub(crate) code: Option<&'static str>,
    pub(crate) message: String,
}

impl From<String> for Refused {
    fn from(message: String) -> Self {
        Self {
            code: None,
            message,
        }
    }
}

impl core::fmt::Display for Refused {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The log's state, as the writer sees it (everything durable: it commits per batch).
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) log_id: String,
    pub(crate) size: u64,
    pub(crate) head_hash: String,
    pub(crate) checkpoint: Option<Checkpoint>,
}

/// The handle requests append through.
#[derive(Clone)]
pub(crate) struct AuditWriter {
    jobs: mpsc::Sender<Job>,
    log_id: std::sync::Arc<str>,
}

impl AuditWriter {
    /// Starts the writer thread over `log`; it checkpoints and closes the log when every
    /// handle is dropped.
    pub(crate) fn start(
        log: AuditLog,
        metrics: std::sync::Arc<Metrics>,
    ) -> std::io::Result<(Self, std::thread::JoinHandle<()>)> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let log_id = log.log_id().into();
        let thread = std::thread::Builder::new()
            .name("crmguard-audit".into())
            .spawn(move || writer(log, &rx, &metrics))?;
        Ok((Self { jobs, log_id }, thread))
    }

    /// The log's id: which replica's chain holds a record (fixed once the log exists).
    pub(crate) fn log_id(&self) -> &str {
        &self.log_id
    }

    /// Appends `event` and waits until it is durable; returns its sequence number. The event
    /// carries the id of the request it is made for, unless it names one itself.
    pub(crate) async fn append(&self, mut event: AuditEvent) -> Result<u64, Refused> {
        if event.request_id.is_none() {
            event.request_id = super::scope::request_id();
        }
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job::Append { event, done })
            .map_err(|_| stopped())?;
        wait.await.map_err(|_| Refused::from(stopped()))?
    }

    /// The log's size, head and last checkpoint.
    pub(crate) async fn head(&self) -> Result<Head, String> {
        let (done, wait) = oneshot::channel();
        self.jobs.send(Job::Head { done }).map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())
    }

    /// The durable log's proof index (a view: proofs are built from it off this thread).
    pub(crate) async fn proofs(&self) -> Result<ProofIndex, String> {
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job::Proofs { done })
            .map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())
    }

    /// Signs a checkpoint over everything appended so far, durably.
    pub(crate) async fn checkpoint(&self) -> Result<Option<Checkpoint>, String> {
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job::Checkpoint { done })
            .map_err(|_| stopped())?;
        wait.await.map_err(|_| stopped())?
    }
}

fn stopped() -> String {
    "the audit writer has stopped".to_owned()
}

/// Answers a query job at once; an append job is returned for the batch.
type Reply = oneshot::Sender<Result<u64, Refused>>;

fn query(log: &mut AuditLog, job: Job) -> Option<(AuditEvent, Reply)> {
    match job {
        Job::Append { event, done } => Some((event, done)),
        Job::Head { done } => {
            let _ = done.send(Head {
                log_id: log.log_id().to_owned(),
                size: log.size(),
                head_hash: log.head().to_hex(),
                checkpoint: log.last_checkpoint().cloned(),
            });
            None
        }
        Job::Proofs { done } => {
            let _ = done.send(log.proof_index());
            None
        }
        Job::Checkpoint { done } => {
            let _ = done.send(log.checkpoint(now_ms()).map_err(|e| e.to_string()));
            None
        }
    }
}

fn writer(mut log: AuditLog, rx: &mpsc::Receiver<Job>, metrics: &Metrics) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::new();
        batch.extend(query(&mut log, first));
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.extend(query(&mut log, job)),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        let started = Instant::now();
        let time = now_ms();
        let mut appended = Vec::with_capacity(batch.len());
        for (event, done) in batch {
            let r = log.append(&event, time).map(|a| a.seq);
            appended.push((done, r));
        }
        let committed: Result<u64, AuditLogError> = log.commit(time);
        metrics.audit_commit(started.elapsed(), appended.len());
        for (done, r) in appended {
            let answer = match (&committed, r) {
                (Ok(durable), Ok(seq)) if seq < *durable => Ok(seq),
                (Ok(_), Ok(seq)) => Err(format!("record {seq} is not durable").into()),
                (Err(e), _) => Err(e.to_string().into()),
                // The event itself could not be recorded (nothing was written for it).
                (_, Err(e)) => Err(Refused {
                    code: Some(e.code()),
                    message: e.to_string(),
                }),
            };
            // The request may have gone away; its record is written either way.
            let _ = done.send(answer);
        }
    }
    if let Err(e) = log.close(now_ms()) {
        eprintln!("crmguard serve: closing the audit log: {e}");
    }
}
