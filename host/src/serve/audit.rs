//! Audit before answer, with group commit: one writer thread owns the log; each request
//! hands it its event and waits. The writer appends everything that is waiting, makes it
//! durable with one `fdatasync`, and only then tells each request its sequence number. A
//! request whose event could not be made durable gets an error and answers 503: an
//! unrecorded decision is never acted on.

use std::sync::mpsc;
use std::time::Instant;

use crmguard_core::AuditEvent;
use crmguard_store::audit_log::{AuditLog, AuditLogError};
use tokio::sync::oneshot;

use super::metrics::Metrics;
use crate::commands::audit::now_ms;

/// The most events made durable by one commit.
const MAX_BATCH: usize = 512;

struct Job {
    event: AuditEvent,
    done: oneshot::Sender<Result<u64, String>>,
}

/// The handle requests append through.
#[derive(Clone)]
pub(crate) struct AuditWriter {
    jobs: mpsc::Sender<Job>,
}

impl AuditWriter {
    /// Starts the writer thread over `log`; it checkpoints and closes the log when every
    /// handle is dropped.
    pub(crate) fn start(
        log: AuditLog,
        metrics: std::sync::Arc<Metrics>,
    ) -> std::io::Result<(Self, std::thread::JoinHandle<()>)> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("crmguard-audit".into())
            .spawn(move || writer(log, &rx, &metrics))?;
        Ok((Self { jobs }, thread))
    }

    /// Appends `event` and waits until it is durable; returns its sequence number.
    pub(crate) async fn append(&self, event: AuditEvent) -> Result<u64, String> {
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job { event, done })
            .map_err(|_| "the audit writer has stopped".to_owned())?;
        wait.await
            .map_err(|_| "the audit writer has stopped".to_owned())?
    }
}

fn writer(mut log: AuditLog, rx: &mpsc::Receiver<Job>, metrics: &Metrics) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let time = now_ms();
        let mut appended = Vec::with_capacity(batch.len());
        for job in batch {
            let r = log.append(&job.event, time).map(|a| a.seq);
            appended.push((job.done, r));
        }
        let committed: Result<u64, AuditLogError> = log.commit(time);
        metrics.audit_commit(started.elapsed(), appended.len());
        for (done, r) in appended {
            let answer = match (&committed, r) {
                (Ok(durable), Ok(seq)) if seq < *durable => Ok(seq),
                (Ok(_), Ok(seq)) => Err(format!("record {seq} is not durable")),
                (Err(e), _) => Err(e.to_string()),
                (_, Err(e)) => Err(e.to_string()),
            };
            // The request may have gone away; its record is written either way.
            let _ = done.send(answer);
        }
    }
    if let Err(e) = log.close(now_ms()) {
        eprintln!("crmguard serve: closing the audit log: {e}");
    }
}
