//! The writer's side of a log: turning events into chained records and signing checkpoints.

use super::checkpoint::Checkpoint;
use super::event::{Activity, AuditEvent, Decision, EventClass};
use super::hash::AuditHash;
use super::keys::{AuditSigningKey, PseudonymKey};
use super::merkle::{MerkleFrontier, leaf_hash};
use super::record::{
    AuditRecord, MAX_SAFE_INTEGER, OCSF_VERSION, PRODUCT_NAME, RecordActor, RecordApi,
    RecordEndpoint, RecordField, RecordMetadata, RecordProduct, RecordRequest, RecordResource,
    RecordUser, genesis_hash,
};
use crate::error::AuditError;

/// The resource type that names a data subject; its `uid` is pseudonymised when subjects are.
pub const SUBJECT_RESOURCE_TYPE: &str = "data_subject";

/// How records are written: product version and pseudonymisation.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// The version written in `metadata.product.version`.
    pub product_version: String,
    /// The key for keyed hashes of identifiers; without it nothing is pseudonymised.
    pub pseudonym_key: Option<PseudonymKey>,
    /// Replace `actor.user.uid` by its keyed hash.
    pub pseudonymize_actors: bool,
    /// Replace the `uid` of `data_subject` resources by its keyed hash.
    pub pseudonymize_subjects: bool,
}

impl RecordOptions {
    /// Options with `product_version`, subjects pseudonymised under `key` and actors in clear.
    pub fn new(product_version: &str, key: Option<PseudonymKey>) -> Self {
        Self {
            product_version: product_version.to_owned(),
            pseudonym_key: key,
            pseudonymize_actors: false,
            pseudonymize_subjects: true,
        }
    }
}

/// The OCSF (category, class, activity) for an event, or why it cannot be recorded.
fn ocsf_ids(class: EventClass, activity: Activity) -> Result<(u8, u16, u8), AuditError> {
    use Activity as A;
    let (cat, cls) = match class {
        EventClass::ApiActivity => (6, 6003),
        EventClass::Authentication => (3, 3002),
        EventClass::Authorization => (3, 3003),
        EventClass::KeyEvent | EventClass::SubjectErasure => (3, 3004),
    };
    let act = match (class, activity) {
        (_, A::Other) => Some(99),
        (EventClass::ApiActivity | EventClass::KeyEvent, A::Create) => Some(1),
        (EventClass::ApiActivity | EventClass::KeyEvent, A::Read) => Some(2),
        (EventClass::ApiActivity | EventClass::KeyEvent, A::Update) => Some(3),
        (EventClass::KeyEvent, A::Rotate) => Some(3),
        (EventClass::ApiActivity | EventClass::KeyEvent, A::Delete) => Some(4),
        (EventClass::SubjectErasure, A::Erase | A::Delete) => Some(4),
        (EventClass::Authentication, A::Logon) => Some(1),
        (EventClass::Authentication, A::Logoff) => Some(2),
        (EventClass::Authorization, A::AssignPrivileges) => Some(1),
        (EventClass::Authorization, A::AssignGroups) => Some(2),
        _ => None,
    };
    let act = act.ok_or_else(|| {
        AuditError::Event(format!(
            "activity {activity:?} is not valid for class {class:?}"
        ))
    })?;
    Ok((cat, cls, act))
}

/// Checks a text member: 1..=256 bytes (4096 for reasons), no control characters.
fn text(what: &str, s: &str, max: usize) -> Result<String, AuditError> {
    if s.is_empty() || s.len() > max || s.chars().any(char::is_control) {
        return Err(AuditError::Event(format!(
            "{what} must be 1 to {max} bytes without control characters"
        )));
    }
    Ok(s.to_owned())
}

const ID_MAX: usize = crate::MAX_IDENTIFIER_LEN;

/// Builds the record body for `event` (without seq, prev_hash and hash).
fn build(
    event: &AuditEvent,
    opts: &RecordOptions,
    log_id: &str,
    seq: u64,
    prev_hash: AuditHash,
    time: u64,
) -> Result<(AuditRecord, String), AuditError> {
    if time > MAX_SAFE_INTEGER {
        return Err(AuditError::Event("time above 2^53 - 1".to_owned()));
    }
    let (category_uid, class_uid, activity_id) = ocsf_ids(event.class, event.activity)?;
    // Pseudonymisation without a key refuses the event: writing the id in clear would be
    // the one thing the option promises not to do.
    let pseudo = |on: bool, id: String| match (&opts.pseudonym_key, on) {
        (Some(k), true) => Ok(k.pseudonym(&id)),
        (None, true) => Err(AuditError::PseudonymKey),
        (_, false) => Ok(id),
    };
    let uid = text("actor.uid", &event.actor.uid, ID_MAX)?;
    let user = RecordUser {
        roles: event
            .actor
            .roles
            .iter()
            .map(|r| text("actor role", r, ID_MAX))
            .collect::<Result<_, _>>()?,
        tenant: text("actor.tenant", &event.actor.tenant, ID_MAX)?,
        uid: pseudo(opts.pseudonymize_actors, uid)?,
    };
    let mut resources = Vec::with_capacity(event.resources.len());
    for r in &event.resources {
        let kind = text("resource type", &r.kind, ID_MAX)?;
        let uid = text("resource uid", &r.uid, ID_MAX)?;
        let uid = pseudo(
            opts.pseudonymize_subjects && kind == SUBJECT_RESOURCE_TYPE,
            uid,
        )?;
        let fields = r
            .fields
            .iter()
            .map(|f| {
                Ok(RecordField {
                    action: f.action,
                    name: text("field name", &f.name, ID_MAX)?,
                })
            })
            .collect::<Result<_, AuditError>>()?;
        resources.push(RecordResource { fields, kind, uid });
    }
    let api = match (&event.operation, &event.request_id) {
        (None, None) => None,
        (op, req) => Some(RecordApi {
            operation: op
                .as_deref()
                .map(|o| text("operation", o, ID_MAX))
                .transpose()?,
            request: req
                .as_deref()
                .map(|r| text("request_id", r, ID_MAX).map(|uid| RecordRequest { uid }))
                .transpose()?,
        }),
    };
    let src_endpoint = event.source.as_ref().and_then(|s| {
        (s.ip.is_some() || s.port.is_some()).then(|| RecordEndpoint {
            ip: s.ip.map(|ip| ip.to_string()),
            port: s.port,
        })
    });
    let (status_id, severity_id) = match event.outcome.decision {
        Decision::Allow => (1, 1),
        Decision::Deny => (2, 3),
    };
    let status_detail = event
        .outcome
        .reason
        .as_deref()
        .map(|r| text("outcome reason", r, 4096))
        .transpose()?;
    let mut rec = AuditRecord {
        activity_id,
        actor: RecordActor { user },
        api,
        category_uid,
        class_uid,
        hash: AuditHash([0; 32]),
        metadata: RecordMetadata {
            log_name: log_id.to_owned(),
            product: RecordProduct {
                name: PRODUCT_NAME.to_owned(),
                vendor_name: PRODUCT_NAME.to_owned(),
                version: opts.product_version.clone(),
            },
            version: OCSF_VERSION.to_owned(),
        },
        prev_hash,
        resources,
        seq,
        severity_id,
        src_endpoint,
        status_detail,
        status_id,
        time,
        type_uid: u32::from(class_uid) * 100 + u32::from(activity_id),
    };
    let line = rec.seal_and_render();
    Ok((rec, line))
}

/// A log id: 1 to 256 bytes, no control characters.
pub(crate) fn check_log_id(log_id: &str) -> Result<(), AuditError> {
    text("log id", log_id, ID_MAX).map(|_| ())
}

/// The state of a log's writer: next seq, head hash and Merkle frontier.
///
/// Pure: time comes in as a parameter (milliseconds since the Unix epoch), and records come
/// out as values and lines for the caller to store.
///
/// ```
/// use crmguard_core::{Anchor, AuditChain, AuditEvent, AuditSigningKey, ChainVerifier, RecordOptions};
///
/// let key = AuditSigningKey::from_seed(&[7; 32], [8; 32]); // from `crmguard keys new-signing`
/// let opts = RecordOptions::new("1.0.0", Some(key.pseudonym_key().clone()));
/// let mut chain = AuditChain::new("log-1", opts)?;
/// let event: AuditEvent = serde_json::from_str(r#"{"class":"api_activity","activity":"read",
///     "actor":{"uid":"u-1","tenant":"acme","roles":["sales"]},
///     "resources":[{"type":"contact","uid":"c-42","fields":[{"name":"email","action":"mask"}]}],
///     "outcome":{"decision":"allow"}}"#).expect("a valid event");
/// let (record, line) = chain.append_line(&event, 1_767_225_600_000)?;
/// assert_eq!((record.seq, record.class_uid, record.type_uid), (0, 6003, 600302));
/// let checkpoint = chain.checkpoint(&key, 1_767_225_600_001).expect("one record");
///
/// let mut verifier = ChainVerifier::new(vec![key.verifying_key()]);
/// verifier.push_line(&line)?;
/// verifier.push_line(&checkpoint.to_line())?;
/// assert_eq!(verifier.finish(&Anchor::default())?.size, 1);
///
/// let tampered = line.replace("c-42", "c-43");
/// let mut verifier = ChainVerifier::new(vec![key.verifying_key()]);
/// assert_eq!(verifier.push_line(&tampered).unwrap_err().code(), "ERR_AUDIT_HASH");
/// # Ok::<(), crmguard_core::AuditError>(())
/// ```
#[derive(Clone, Debug)]
pub struct AuditChain {
    log_id: String,
    options: RecordOptions,
    head: AuditHash,
    frontier: MerkleFrontier,
}

impl AuditChain {
    /// A new, empty log named `log_id`.
    pub fn new(log_id: &str, options: RecordOptions) -> Result<Self, AuditError> {
        check_log_id(log_id)?;
        Ok(Self {
            log_id: log_id.to_owned(),
            head: genesis_hash(log_id),
            options,
            frontier: MerkleFrontier::default(),
        })
    }

    /// Continues a verified log.
    pub fn resume(log: &super::VerifiedLog, options: RecordOptions) -> Self {
        Self {
            log_id: log.log_id.clone(),
            options,
            head: log.head_hash,
            frontier: log.frontier.clone(),
        }
    }

    /// The log id.
    pub fn log_id(&self) -> &str {
        &self.log_id
    }

    /// The number of records so far (the next record's seq).
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The hash of the last record, or the genesis value for an empty log.
    pub fn head(&self) -> AuditHash {
        self.head
    }

    /// The Merkle root over all records so far.
    pub fn root(&self) -> AuditHash {
        self.frontier.root()
    }

    /// Appends the record for `event` at `time` and returns it; write
    /// [`AuditRecord::to_line`] and a newline to the log. Fails, without changing the chain,
    /// on an event that cannot be recorded.
    pub fn append(&mut self, event: &AuditEvent, time: u64) -> Result<AuditRecord, AuditError> {
        self.append_line(event, time).map(|(rec, _)| rec)
    }

    /// Like [`append`](Self::append), also returning the record's line (its canonical form,
    /// without newline), rendered in the same pass as the hash.
    pub fn append_line(
        &mut self,
        event: &AuditEvent,
        time: u64,
    ) -> Result<(AuditRecord, String), AuditError> {
        let seq = self.size();
        let (rec, line) = build(event, &self.options, &self.log_id, seq, self.head, time)?;
        self.head = rec.hash;
        self.frontier.push(leaf_hash(&rec.hash));
        Ok((rec, line))
    }

    /// A signed checkpoint over all records so far, or `None` for an empty log.
    pub fn checkpoint(&self, key: &AuditSigningKey, time: u64) -> Option<Checkpoint> {
        (self.size() > 0).then(|| {
            Checkpoint::sign(
                key,
                &self.log_id,
                self.size(),
                self.head,
                self.root(),
                time.min(MAX_SAFE_INTEGER),
            )
        })
    }
}
