//! The durable audit log: an append-only JSON Lines file of records and signed checkpoints.
//!
//! - **Layout.** The active file is `PATH`; rotated segments are `PATH.000001`, `PATH.000002`,
//!   ... (oldest first). The chain continues across segments: a verifier reads the segments in
//!   order, then the active file. `PATH.head.json` holds the latest checkpoint (replaced
//!   atomically), `PATH.lock` is the writers' lock.
//! - **Durability.** [`Durability::PerRecord`]: every record is written and `fdatasync`ed before
//!   [`AuditLog::append`] returns. [`Durability::Group`]: records are buffered and made durable
//!   together (one write and one `fdatasync`) once `max_records` are pending or the oldest
//!   pending one has waited `max_delay` (checked on each append and by
//!   [`AuditLog::commit_if_due`]). Either way a record counts as acknowledged only once
//!   [`Appended::durable_size`] (or [`AuditLog::durable_size`]) covers it.
//! - **Crash recovery.** A write torn by a crash leaves a last line without a newline. Opening
//!   the log reports and cuts it away, and the chain continues from the last good record.
//!   Anything else that fails verification makes opening fail: tampering is not repaired.
//! - **Locking.** An exclusive advisory lock on `PATH.lock` stops a second writer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::audit_proofs::ProofIndex;
use crmguard_core::{
    Anchor, AuditChain, AuditError, AuditEvent, AuditHash, AuditRecord, AuditSigningKey,
    AuditVerifyingKey, ChainVerifier, Checkpoint, RecordOptions, VerifiedLog,
};

/// When appended records become durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `fdatasync` after every record: each append returns only once its record is durable.
    PerRecord,
    /// Group commit: one `fdatasync` for all records pending when `max_records` are pending or
    /// the oldest has waited `max_delay`.
    Group {
        /// Commit once this many records are pending (at least 1).
        max_records: usize,
        /// Commit once the oldest pending record has waited this long.
        max_delay: Duration,
    },
    /// Only [`AuditLog::commit`] makes records durable: for a writer that batches on its own
    /// (`crmguard serve` commits once per batch of waiting requests).
    Explicit,
}

/// How a log is opened and written.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// When records become durable.
    pub durability: Durability,
    /// Write a signed checkpoint after every this many records (and always on close).
    pub checkpoint_every: Option<u64>,
    /// Rotate the active file once it holds at least this many bytes.
    pub rotate_bytes: Option<u64>,
    /// Product version and pseudonymisation of records.
    pub record: RecordOptions,
    /// Keys, besides the writer's own, whose checkpoints are trusted (earlier signing keys).
    pub trusted_keys: Vec<AuditVerifyingKey>,
    /// The log id to use if the log is new (empty).
    pub new_log_id: String,
}

/// Why a log operation failed.
#[derive(Debug)]
pub enum AuditLogError {
    /// A file could not be read, written or synced.
    Io {
        /// Which file or operation.
        what: String,
        /// The error.
        source: io::Error,
    },
    /// The log failed verification, or a record or key was rejected.
    Audit(AuditError),
}

impl AuditLogError {
    /// The stable code: `ERR_IO` or an `ERR_AUDIT_...` code.
    pub fn code(&self) -> &'static str {
        match self {
            AuditLogError::Io { .. } => "ERR_IO",
            AuditLogError::Audit(e) => e.code(),
        }
    }
}

impl std::fmt::Display for AuditLogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditLogError::Io { what, source } => write!(f, "{what}: {source}"),
            AuditLogError::Audit(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AuditLogError {}

impl From<AuditError> for AuditLogError {
    fn from(e: AuditError) -> Self {
        AuditLogError::Audit(e)
    }
}

pub(crate) fn io_err(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> AuditLogError {
    move |source| AuditLogError::Io {
        what: what.to_string(),
        source,
    }
}

/// `PATH` + suffix.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The file holding the latest checkpoint of the log at `path`.
pub fn head_path(path: &Path) -> PathBuf {
    with_suffix(path, ".head.json")
}

fn lock_path(path: &Path) -> PathBuf {
    with_suffix(path, ".lock")
}

/// The rotated segments of the log at `path`, oldest first, with their numbers.
fn rotated_segments(path: &Path) -> Result<Vec<(u32, PathBuf)>, AuditLogError> {
    let dir = parent_dir(path);
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{name}.");
    let mut out = Vec::new();
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_err(dir.display())(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(dir.display()))?;
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        if n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()) {
            // Six ASCII digits always parse as a u32.
            let num: u32 = n.parse().expect("six digits fit a u32");
            out.push((num, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn sync_dir(path: &Path) -> Result<(), AuditLogError> {
    let dir = parent_dir(path);
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir.display()))
}

/// The files of the log at `path`, in order: rotated segments, then the active file.
pub fn log_files(path: &Path) -> Result<Vec<PathBuf>, AuditLogError> {
    let mut files: Vec<PathBuf> = rotated_segments(path)?
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    files.push(path.to_path_buf());
    Ok(files)
}

/// A torn last line found at the end of the active file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// Where the good part of the file ends.
    pub good_len: u64,
    /// How many bytes follow it without a newline.
    pub bytes: u64,
}

/// What [`replay`] found besides the verified chain.
struct Replayed {
    /// The active file's torn tail, if any.
    torn: Option<TornTail>,
    /// The bytes of the rotated segments (where the active file starts, counted across the
    /// log's files).
    segment_bytes: u64,
}

/// Replays every segment and the active file through `verifier`, and into `index` if given.
/// A torn tail in a rotated segment is an error; the active file's is returned.
fn replay(
    path: &Path,
    verifier: &mut ChainVerifier,
    mut index: Option<&mut ProofIndex>,
) -> Result<Replayed, AuditLogError> {
    let files = log_files(path)?;
    let last = files.len() - 1;
    let mut base = 0u64;
    for (i, file) in files.iter().enumerate() {
        let f = match File::open(file) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound && i == last => {
                return Ok(Replayed {
                    torn: None,
                    segment_bytes: base,
                });
            }
            Err(e) => return Err(io_err(file.display())(e)),
        };
        let mut reader = BufReader::with_capacity(1 << 16, f);
        let mut buf = Vec::with_capacity(1024);
        let mut offset = 0u64;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(io_err(file.display()))?;
            if n == 0 {
                break;
            }
            if buf.last() != Some(&b'\n') {
                let torn = TornTail {
                    good_len: offset,
                    bytes: n as u64,
                };
                if i != last {
                    return Err(AuditError::TornTail {
                        seq: verifier.size(),
                        bytes: torn.bytes,
                    }
                    .into());
                }
                return Ok(Replayed {
                    torn: Some(torn),
                    segment_bytes: base,
                });
            }
            let line_start = base + offset;
            offset += n as u64;
            let line = std::str::from_utf8(&buf[..n - 1]).map_err(|_| AuditError::Malformed {
                seq: verifier.size(),
                reason: "line is not UTF-8".to_owned(),
            })?;
            let before = verifier.size();
            verifier.push_line(line)?;
            if let Some(ix) = index.as_deref_mut() {
                if verifier.size() > before {
                    ix.push_record(line_start, &verifier.head());
                } else if let Some(c) = verifier.last_checkpoint() {
                    ix.push_checkpoint(c.clone());
                }
            }
        }
        if i != last {
            base += offset;
        }
    }
    Ok(Replayed {
        torn: None,
        segment_bytes: base,
    })
}

/// Reads the checkpoint in `PATH.head.json`, if the file exists.
pub fn read_head(path: &Path) -> Result<Option<Checkpoint>, AuditLogError> {
    let hp = head_path(path);
    match fs::read_to_string(&hp) {
        Ok(s) => Ok(Some(Checkpoint::parse(&s, 0)?)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(hp.display())(e)),
    }
}

/// Verifies the log at `path` (all segments, then the active file) read-only, trusting
/// checkpoints signed by `keys`, against `anchor`. A torn last line is reported as
/// `ERR_AUDIT_TORN` (opening the log for writing repairs it).
pub fn verify_log(
    path: &Path,
    keys: Vec<AuditVerifyingKey>,
    anchor: &Anchor,
) -> Result<VerifiedLog, AuditLogError> {
    let mut v = ChainVerifier::new(keys);
    if let Some(torn) = replay(path, &mut v, None)?.torn {
        return Err(AuditError::TornTail {
            seq: v.size(),
            bytes: torn.bytes,
        }
        .into());
    }
    Ok(v.finish(anchor)?)
}

/// Reads the log's lines (all segments, then the active file) until `f` returns `Some`.
fn scan<T>(path: &Path, mut f: impl FnMut(&str) -> Option<T>) -> Result<Option<T>, AuditLogError> {
    for file in log_files(path)? {
        let text = match fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_err(file.display())(e)),
        };
        for line in text.lines() {
            if let Some(t) = f(line) {
                return Ok(Some(t));
            }
        }
    }
    Ok(None)
}

/// The record with sequence number `seq` in the log at `path`, if it holds one. The line is
/// parsed, not verified: verify the log first ([`verify_log`]) and build proofs from both.
pub fn find_record(path: &Path, seq: u64) -> Result<Option<AuditRecord>, AuditLogError> {
    let needle = format!(",\"seq\":{seq},");
    scan(path, |line| {
        if line.contains(&needle) {
            AuditRecord::parse_line(line, seq)
                .ok()
                .filter(|r| r.seq == seq)
        } else {
            None
        }
    })
}

/// The checkpoint over the first `size` records in the log at `path`, if it holds one
/// (parsed, not verified: see [`find_record`]).
pub fn find_checkpoint(path: &Path, size: u64) -> Result<Option<Checkpoint>, AuditLogError> {
    scan(path, |line| {
        Checkpoint::parse(line, 0).ok().filter(|c| c.size == size)
    })
}

/// What opening a log found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenReport {
    /// Records in the log.
    pub size: u64,
    /// A torn last line that was cut away.
    pub torn: Option<TornTail>,
    /// Whether the log was empty (a new log id was used).
    pub new_log: bool,
}

/// A record appended to the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Its sequence number.
    pub seq: u64,
    /// Its hash.
    pub hash: AuditHash,
    /// How many records are durable now: this record is acknowledged iff `seq < durable_size`.
    pub durable_size: u64,
}

/// A line in the pending buffer, for the proof index once it is durable.
#[derive(Debug)]
enum Unindexed {
    /// A record: where its line starts (across the log's files) and its hash.
    Record(u64, AuditHash),
    Checkpoint(Checkpoint),
}

/// An open, locked log with its writer state.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
    _lock: File,
    buf: Vec<u8>,
    chain: AuditChain,
    key: AuditSigningKey,
    options: LogOptions,
    durable_size: u64,
    pending_since: Option<Instant>,
    active_bytes: u64,
    since_checkpoint: u64,
    last_checkpoint: Option<Checkpoint>,
    /// The size of the checkpoint in the head file.
    head_size: u64,
    broken: bool,
    /// Block roots and checkpoints of the durable log, for proofs without reading all of it.
    index: ProofIndex,
    /// What the index gets once the pending buffer is durable.
    unindexed: Vec<Unindexed>,
    /// The bytes of the rotated segments: the active file starts there.
    segment_bytes: u64,
}

impl AuditLog {
    /// Opens (or creates) the log at `path` for writing: takes the lock, verifies the whole
    /// log (against its head file, if present), cuts a torn last line, and continues the chain.
    pub fn open(
        path: &Path,
        key: AuditSigningKey,
        options: LogOptions,
    ) -> Result<(Self, OpenReport), AuditLogError> {
        let lp = lock_path(path);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lp)
            .map_err(io_err(lp.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(AuditError::Locked.into()),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(lp.display())(e)),
        }
        let mut keys = vec![key.verifying_key()];
        keys.extend(options.trusted_keys.iter().cloned());
        let mut index = ProofIndex::new(path, keys.clone());
        let mut v = ChainVerifier::new(keys);
        let Replayed {
            torn,
            segment_bytes,
        } = replay(path, &mut v, Some(&mut index))?;
        let anchor = Anchor {
            checkpoint: read_head(path)?,
            min_size: None,
        };
        let verified = v.finish(&anchor)?;
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(io_err(path.display()))?;
        if let Some(t) = torn {
            file.set_len(t.good_len)
                .and_then(|()| file.sync_all())
                .map_err(io_err(path.display()))?;
        }
        sync_dir(path)?;
        let active_bytes = file
            .seek(io::SeekFrom::End(0))
            .map_err(io_err(path.display()))?;
        let new_log = verified.size == 0;
        let chain = if new_log {
            AuditChain::new(&options.new_log_id, options.record.clone())?
        } else {
            AuditChain::resume(&verified, options.record.clone())
        };
        let report = OpenReport {
            size: verified.size,
            torn,
            new_log,
        };
        Ok((
            Self {
                path: path.to_path_buf(),
                file,
                _lock: lock,
                buf: Vec::with_capacity(1 << 16),
                chain,
                key,
                durable_size: verified.size,
                pending_since: None,
                active_bytes,
                since_checkpoint: verified.uncovered,
                head_size: anchor.checkpoint.as_ref().map_or(0, |c| c.size),
                last_checkpoint: verified.last_checkpoint,
                index,
                unindexed: Vec::new(),
                segment_bytes,
                options,
                broken: false,
            },
            report,
        ))
    }

    /// The log id.
    pub fn log_id(&self) -> &str {
        self.chain.log_id()
    }

    /// Records appended (durable or not).
    pub fn size(&self) -> u64 {
        self.chain.size()
    }

    /// Records that are durable: every seq below this is acknowledged.
    pub fn durable_size(&self) -> u64 {
        self.durable_size
    }

    /// The hash of the last record appended.
    pub fn head(&self) -> AuditHash {
        self.chain.head()
    }

    /// The log as far as it is durable, for building proofs (off this thread too) without
    /// reading the whole log: see [`ProofIndex`].
    pub fn proof_index(&self) -> ProofIndex {
        self.index.clone()
    }

    /// The latest checkpoint written (or found on open).
    pub fn last_checkpoint(&self) -> Option<&Checkpoint> {
        self.last_checkpoint.as_ref()
    }

    fn check_usable(&self) -> Result<(), AuditLogError> {
        if self.broken {
            return Err(AuditLogError::Io {
                what: self.path.display().to_string(),
                source: io::Error::other("an earlier write failed; reopen the log"),
            });
        }
        Ok(())
    }

    /// Appends the record for `event` at `time` (ms since the Unix epoch). With
    /// [`Durability::PerRecord`] it is durable on return; with group commit it is durable once
    /// `durable_size` exceeds its seq.
    pub fn append(&mut self, event: &AuditEvent, time: u64) -> Result<Appended, AuditLogError> {
        self.check_usable()?;
        let (rec, line) = self.chain.append_line(event, time)?;
        self.unindexed.push(Unindexed::Record(
            self.segment_bytes + self.active_bytes + self.buf.len() as u64,
            rec.hash,
        ));
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.push(b'\n');
        self.pending_since.get_or_insert_with(Instant::now);
        self.since_checkpoint += 1;
        if self
            .options
            .checkpoint_every
            .is_some_and(|n| n > 0 && self.since_checkpoint >= n)
        {
            self.push_checkpoint(time);
        }
        let due = match self.options.durability {
            Durability::PerRecord => true,
            Durability::Explicit => false,
            Durability::Group {
                max_records,
                max_delay,
            } => {
                self.size() - self.durable_size >= max_records.max(1) as u64
                    || self.pending_since.is_some_and(|t| t.elapsed() >= max_delay)
            }
        };
        if due {
            self.commit(time)?;
        }
        Ok(Appended {
            seq: rec.seq,
            hash: rec.hash,
            durable_size: self.durable_size,
        })
    }

    fn push_checkpoint(&mut self, time: u64) {
        if let Some(c) = self.chain.checkpoint(&self.key, time) {
            self.buf.extend_from_slice(c.to_line().as_bytes());
            self.buf.push(b'\n');
            self.unindexed.push(Unindexed::Checkpoint(c.clone()));
            self.since_checkpoint = 0;
            self.last_checkpoint = Some(c);
        }
    }

    /// Commits under group commit if the oldest pending record has waited `max_delay`.
    /// Returns the durable size.
    pub fn commit_if_due(&mut self, time: u64) -> Result<u64, AuditLogError> {
        if let Durability::Group { max_delay, .. } = self.options.durability
            && self.pending_since.is_some_and(|t| t.elapsed() >= max_delay)
        {
            self.commit(time)?;
        }
        Ok(self.durable_size)
    }

    /// How long until the oldest pending record must be committed (`None`: nothing pending, or
    /// [`Durability::Explicit`]).
    pub fn commit_deadline(&self) -> Option<Duration> {
        let since = self.pending_since?;
        let delay = match self.options.durability {
            Durability::PerRecord => Duration::ZERO,
            Durability::Group { max_delay, .. } => max_delay,
            Durability::Explicit => return None,
        };
        Some(delay.saturating_sub(since.elapsed()))
    }

    /// Writes and syncs everything pending; afterwards every appended record is durable.
    /// Rotates the active file if it has grown past `rotate_bytes`.
    pub fn commit(&mut self, time: u64) -> Result<u64, AuditLogError> {
        self.commit_pending()?;
        if self
            .options
            .rotate_bytes
            .is_some_and(|max| self.active_bytes >= max)
        {
            self.rotate(time)?;
        }
        Ok(self.durable_size)
    }

    /// One write and one `fdatasync` for everything pending, then the head file if a new
    /// checkpoint became durable.
    fn commit_pending(&mut self) -> Result<(), AuditLogError> {
        self.check_usable()?;
        if !self.buf.is_empty() {
            let r = self
                .file
                .write_all(&self.buf)
                .and_then(|()| self.file.sync_data());
            if let Err(e) = r {
                // The file may now end in a partial line: only reopening (which cuts it) may
                // continue.
                self.broken = true;
                return Err(io_err(self.path.display())(e));
            }
            self.active_bytes += self.buf.len() as u64;
            self.buf.clear();
        }
        for u in self.unindexed.drain(..) {
            match u {
                Unindexed::Record(offset, hash) => self.index.push_record(offset, &hash),
                Unindexed::Checkpoint(c) => self.index.push_checkpoint(c),
            }
        }
        self.pending_since = None;
        self.durable_size = self.chain.size();
        let cp_size = self.last_checkpoint.as_ref().map_or(0, |c| c.size);
        if cp_size > self.head_size {
            self.write_head()?;
            self.head_size = cp_size;
        }
        Ok(())
    }

    fn write_head(&self) -> Result<(), AuditLogError> {
        let Some(c) = &self.last_checkpoint else {
            return Ok(());
        };
        let hp = head_path(&self.path);
        crate::files::replace_file(&hp, format!("{}\n", c.to_line()).as_bytes())
            .map_err(io_err(hp.display()))
    }

    /// Writes a checkpoint over everything appended and commits it. `None` if the log is
    /// empty.
    pub fn checkpoint(&mut self, time: u64) -> Result<Option<Checkpoint>, AuditLogError> {
        self.check_usable()?;
        if self.since_checkpoint > 0 {
            self.push_checkpoint(time);
        }
        self.commit(time)?;
        Ok(self.last_checkpoint.clone())
    }

    /// Ends the active file with a checkpoint, renames it to the next segment number and
    /// starts a new active file. The chain continues.
    fn rotate(&mut self, time: u64) -> Result<(), AuditLogError> {
        if self.since_checkpoint > 0 {
            self.push_checkpoint(time);
        }
        self.commit_pending()?;
        let next = rotated_segments(&self.path)?
            .last()
            .map_or(1, |(n, _)| n + 1);
        let seg = with_suffix(&self.path, &format!(".{next:06}"));
        fs::rename(&self.path, &seg).map_err(io_err(seg.display()))?;
        sync_dir(&self.path)?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io_err(self.path.display()))?;
        sync_dir(&self.path)?;
        self.segment_bytes += self.active_bytes;
        self.active_bytes = 0;
        Ok(())
    }

    /// Commits, writes a final checkpoint if records are not yet covered, and releases the
    /// lock. Returns the last checkpoint.
    pub fn close(mut self, time: u64) -> Result<Option<Checkpoint>, AuditLogError> {
        self.checkpoint(time)
    }
}

/// Opens the log at `path`, appends the record for `event` durably (fsync), writes a
/// checkpoint and closes it: for one-off events such as a data subject's erasure.
pub fn append_one(
    path: &Path,
    key: AuditSigningKey,
    mut options: LogOptions,
    event: &AuditEvent,
    time: u64,
) -> Result<(Appended, Option<Checkpoint>), AuditLogError> {
    options.durability = Durability::PerRecord;
    let (mut log, _) = AuditLog::open(path, key, options)?;
    let appended = log.append(event, time)?;
    let checkpoint = log.close(time)?;
    Ok((appended, checkpoint))
}
