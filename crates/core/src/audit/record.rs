//! The audit record: OCSF-shaped, canonical (RFC 8785 JCS), hash-chained.
//!
//! Struct fields are declared in JCS member order (ASCII keys sorted bytewise) and hold only
//! strings, integers below 2^53 and arrays, so serde_json's compact output of these types is
//! exactly their JCS form; tests check that against an independent JCS implementation.

use serde::{Deserialize, Serialize};

use super::hash::{AuditHash, sha256};
use crate::error::AuditError;

/// Domain separation for record hashes: `hash = SHA-256(RECORD_DOMAIN || JCS(record without
/// "hash"))`.
pub const RECORD_DOMAIN: &[u8] = b"crmguard/audit/record/v1\0";
/// Domain separation for the genesis value: `prev_hash` of seq 0 is
/// `SHA-256(GENESIS_DOMAIN || log_id)`.
pub const GENESIS_DOMAIN: &[u8] = b"crmguard/audit/genesis/v1\0";
/// The largest integer a record or checkpoint may hold (2^53 - 1), so that every JSON
/// implementation reads it exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
/// The OCSF schema version records follow (`metadata.version`).
pub const OCSF_VERSION: &str = "1.3.0";
/// The product name in `metadata.product.name` and `vendor_name`.
pub const PRODUCT_NAME: &str = "CRMGuard";

/// The genesis value of the chain of log `log_id`: the `prev_hash` of its record 0.
pub fn genesis_hash(log_id: &str) -> AuditHash {
    sha256(&[GENESIS_DOMAIN, log_id.as_bytes()])
}

/// `actor.user`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordUser {
    /// Roles.
    pub roles: Vec<String>,
    /// Tenant.
    pub tenant: String,
    /// User id, or its keyed hash (`ps1:` + 32 hex digits).
    pub uid: String,
}

/// `actor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordActor {
    /// The user.
    pub user: RecordUser,
}

/// `api.request`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    /// The request id.
    pub uid: String,
}

/// `api`: the operation and request id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordApi {
    /// The operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// The request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RecordRequest>,
}

/// `metadata.product`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordProduct {
    /// Always `CRMGuard`.
    pub name: String,
    /// Always `CRMGuard`.
    pub vendor_name: String,
    /// The version of the software that wrote the record.
    pub version: String,
}

/// `metadata`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordMetadata {
    /// The log id (also named by the genesis value).
    pub log_name: String,
    /// The product.
    pub product: RecordProduct,
    /// The OCSF schema version.
    pub version: String,
}

/// One field touched: name and action, never a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordField {
    /// What happened to the field.
    pub action: super::AuditFieldAction,
    /// The field name.
    pub name: String,
}

/// One entry of `resources`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordResource {
    /// The fields touched.
    pub fields: Vec<RecordField>,
    /// The resource type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The resource id (a keyed hash for pseudonymised data subjects).
    pub uid: String,
}

/// `src_endpoint`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordEndpoint {
    /// IP address, in Rust's `IpAddr` display form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// One audit record, one line of the log.
///
/// Members (in JCS order): `activity_id`, `actor`, `api`?, `category_uid`, `class_uid`,
/// `hash`, `metadata`, `prev_hash`, `resources`, `seq`, `severity_id`, `src_endpoint`?,
/// `status_detail`?, `status_id`, `time`, `type_uid` (`?`: omitted when absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// OCSF activity id.
    pub activity_id: u8,
    /// Who acted.
    pub actor: RecordActor,
    /// Operation and request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<RecordApi>,
    /// OCSF category (6 Application Activity, 3 Identity & Access Management).
    pub category_uid: u8,
    /// OCSF class (6003, 3002, 3003, 3004).
    pub class_uid: u16,
    /// `SHA-256(RECORD_DOMAIN || JCS(this record without "hash"))`.
    pub hash: AuditHash,
    /// Log id, product and schema version.
    pub metadata: RecordMetadata,
    /// The previous record's `hash`, or the genesis value for seq 0.
    pub prev_hash: AuditHash,
    /// What the event concerns.
    pub resources: Vec<RecordResource>,
    /// The position in the log, from 0, without gaps.
    pub seq: u64,
    /// OCSF severity (1 Informational for allow, 3 Medium for deny).
    pub severity_id: u8,
    /// Where the request came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_endpoint: Option<RecordEndpoint>,
    /// The reason for the outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_detail: Option<String>,
    /// OCSF status (1 Success, 2 Failure).
    pub status_id: u8,
    /// Milliseconds since the Unix epoch, as given by the caller.
    pub time: u64,
    /// OCSF type: `class_uid * 100 + activity_id`.
    pub type_uid: u32,
}

/// The record without `hash`, borrowed: what the hash covers. Same member order.
#[derive(Serialize)]
struct RecordBody<'a> {
    activity_id: u8,
    actor: &'a RecordActor,
    #[serde(skip_serializing_if = "Option::is_none")]
    api: &'a Option<RecordApi>,
    category_uid: u8,
    class_uid: u16,
    metadata: &'a RecordMetadata,
    prev_hash: &'a AuditHash,
    resources: &'a [RecordResource],
    seq: u64,
    severity_id: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_endpoint: &'a Option<RecordEndpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_detail: &'a Option<String>,
    status_id: u8,
    time: u64,
    type_uid: u32,
}

impl AuditRecord {
    fn body(&self) -> RecordBody<'_> {
        RecordBody {
            activity_id: self.activity_id,
            actor: &self.actor,
            api: &self.api,
            category_uid: self.category_uid,
            class_uid: self.class_uid,
            metadata: &self.metadata,
            prev_hash: &self.prev_hash,
            resources: &self.resources,
            seq: self.seq,
            severity_id: self.severity_id,
            src_endpoint: &self.src_endpoint,
            status_detail: &self.status_detail,
            status_id: self.status_id,
            time: self.time,
            type_uid: self.type_uid,
        }
    }

    /// The canonical (JCS) bytes of the record without its `hash` member: what is hashed
    /// after [`RECORD_DOMAIN`].
    pub fn canonical_body(&self) -> Vec<u8> {
        // Serialising plain structs of strings and integers into a Vec cannot fail.
        serde_json::to_vec(&self.body()).expect("record serialisation is infallible")
    }

    /// The hash this record's content calls for (whatever its `hash` member says).
    pub fn compute_hash(&self) -> AuditHash {
        let mut buf = Vec::with_capacity(512);
        // Writing plain structs into a Vec cannot fail.
        serde_json::to_writer(&mut buf, &self.body()).expect("record serialisation is infallible");
        sha256(&[RECORD_DOMAIN, &buf])
    }

    /// Computes the record's hash, sets it, and returns the record's line (as
    /// [`to_line`](Self::to_line) would) with a single serialisation.
    pub(crate) fn seal_and_render(&mut self) -> String {
        let body = self.canonical_body();
        self.hash = sha256(&[RECORD_DOMAIN, &body]);
        // In canonical form `hash` sits right before `metadata`. A raw `,"metadata":` cannot
        // occur inside a JSON string (its quotes would be escaped) and no object before it has
        // a `metadata` member, so the first occurrence is the top-level member.
        let at = find(&body, b",\"metadata\":").expect("records have a metadata member");
        let mut line = Vec::with_capacity(body.len() + 76);
        line.extend_from_slice(&body[..at]);
        line.extend_from_slice(b",\"hash\":\"");
        line.extend_from_slice(self.hash.to_hex().as_bytes());
        line.push(b'"');
        line.extend_from_slice(&body[at..]);
        // Built from UTF-8 JSON and ASCII.
        String::from_utf8(line).expect("JSON is UTF-8")
    }

    /// Parses a canonical line and returns the record with the hash its content calls for.
    pub(crate) fn parse_line_and_hash(
        line: &str,
        expected_seq: u64,
    ) -> Result<(Self, AuditHash), AuditError> {
        let rec = Self::parse_line(line, expected_seq)?;
        // The line is canonical, so the body is the line without its `,"hash":"..."` member
        // (the first raw occurrence, for the reason given in `seal_and_render`).
        let needle = format!(",\"hash\":\"{}\"", rec.hash);
        let computed = match line.find(&needle) {
            Some(at) => sha256(&[
                RECORD_DOMAIN,
                &line.as_bytes()[..at],
                &line.as_bytes()[at + needle.len()..],
            ]),
            None => rec.compute_hash(),
        };
        Ok((rec, computed))
    }

    /// The record's line in the log: its canonical (JCS) form, without the trailing newline.
    pub fn to_line(&self) -> String {
        // Serialising plain structs of strings and integers cannot fail.
        serde_json::to_string(self).expect("record serialisation is infallible")
    }

    /// Parses one log line as a record, requiring the canonical form (so that every verifier
    /// hashes the same bytes) and integers no larger than [`MAX_SAFE_INTEGER`]. `expected_seq`
    /// is only used to label errors. Does not check the hash.
    pub fn parse_line(line: &str, expected_seq: u64) -> Result<Self, AuditError> {
        let malformed = |reason: String| AuditError::Malformed {
            seq: expected_seq,
            reason,
        };
        let rec: AuditRecord = serde_json::from_str(line)
            .map_err(|e| malformed(format!("not an audit record: {}", short_error(&e))))?;
        if rec.seq > MAX_SAFE_INTEGER || rec.time > MAX_SAFE_INTEGER {
            return Err(malformed("seq or time above 2^53 - 1".to_owned()));
        }
        if rec.to_line() != line {
            return Err(malformed(
                "record line is not in canonical (RFC 8785) form".to_owned(),
            ));
        }
        Ok(rec)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    hay.windows(needle.len())
        .position(|w| w[0] == first && w == needle)
}

/// A serde_json error message cut to a bounded length (it may quote parts of the input).
pub(crate) fn short_error(e: &serde_json::Error) -> String {
    let mut s = e.to_string();
    if s.len() > 160 {
        let mut cut = 160;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}
