//! The request as types: a [`Target`] is what the CRM asks about (untrusted, from the
//! request), an [`AccessRequest`] is that target bound to a [`Principal`]. Binding is the only
//! way to make an `AccessRequest`, and it refuses a target in another tenant than the
//! caller's, so every decider, crypto session and audit record downstream sees the caller's
//! own tenant and nothing else.

use serde_json::{Map, Value};

use super::decision::AccessDecision;
use super::{Principal, UnixTime};
use crate::error::RequestError;
use crate::{ActionName, Error, ObjectType, RecordId, SubjectId, TenantId};

/// What the CRM asks about: one record. Every member comes from the request and is untrusted
/// until [`AccessRequest::bind`] has checked it against the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The tenant whose record is addressed; `None`: the caller's own. Must be the caller's.
    pub tenant: Option<TenantId>,
    /// What is done to the record.
    pub action: ActionName,
    /// The object type.
    pub object: ObjectType,
    /// The record id.
    pub record_id: RecordId,
    /// The data subject the record is about, if any (the key of subject-sealed fields).
    pub subject: Option<SubjectId>,
}

impl Target {
    /// A target from strings, each checked as its identifier type (`ERR_CONTEXT_INVALID`).
    pub fn parse(
        tenant: Option<&str>,
        action: &str,
        object: &str,
        record_id: &str,
        subject: Option<&str>,
    ) -> Result<Self, Error> {
        Ok(Self {
            tenant: tenant.map(TenantId::new).transpose()?,
            action: ActionName::new(action)?,
            object: ObjectType::new(object)?,
            record_id: RecordId::new(record_id)?,
            subject: subject.map(SubjectId::new).transpose()?,
        })
    }
}

/// One request for one record, bound to its caller. Only [`AccessRequest::bind`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRequest {
    principal: Principal,
    action: ActionName,
    object: ObjectType,
    record_id: RecordId,
    subject: Option<SubjectId>,
    time: UnixTime,
    record: Map<String, Value>,
}

/// A request the trusted host refused before any decider ran: the error (with its stable
/// code), and the deny that is audited under the caller's own tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// Why (e.g. `ERR_REQUEST_TENANT_MISMATCH`).
    pub error: Error,
    /// The deny, as audited and answered.
    pub decision: AccessDecision,
    /// The audit event of the deny: the caller's tenant, the addressed record, no fields.
    pub event: crate::AuditEvent,
}

impl AccessRequest {
    /// Binds `target` to `principal` at `time`, with the record as stored. A target naming
    /// another tenant than the principal's is refused (`ERR_REQUEST_TENANT_MISMATCH`), with
    /// the deny's audit event, which names `decided_by` as the decider.
    pub fn bind(
        principal: Principal,
        target: Target,
        time: UnixTime,
        record: Map<String, Value>,
        decided_by: &str,
    ) -> Result<Self, Box<Refusal>> {
        let mismatch = target
            .tenant
            .as_ref()
            .is_some_and(|t| t != principal.tenant());
        let request = Self {
            principal,
            action: target.action,
            object: target.object,
            record_id: target.record_id,
            subject: target.subject,
            time,
            record,
        };
        if mismatch {
            let error = Error::from(RequestError::TenantMismatch);
            let decision = AccessDecision::refused(&error);
            // The refused request is audited, then dropped: nothing else ever sees it.
            let event = decision.audit_event(&request, decided_by);
            return Err(Box::new(Refusal {
                error,
                decision,
                event,
            }));
        }
        Ok(request)
    }

    /// The write path's first step: every value of `record` sealed in a browser to the
    /// tenant (`cgh1:`) opened with `key` for this request's own context (tenant, object,
    /// record id, field, subject) and replaced by its JSON value, so the record can then be
    /// sealed by its schema. A value sealed for another context fails
    /// (`ERR_TENANT_SEALED_AUTH`), one that only starts like one is
    /// `ERR_TENANT_SEALED_MALFORMED`, and any with no `key` is `ERR_TENANT_KEY_MISSING`.
    pub fn open_tenant_sealed(
        &self,
        record: &mut Map<String, Value>,
        key: Option<&crate::TenantSecretKey>,
    ) -> Result<(), Error> {
        for (name, value) in record.iter_mut() {
            let Some(text) = value
                .as_str()
                .filter(|t| t.starts_with(crate::TENANT_SEALED_PREFIX))
            else {
                continue;
            };
            let sealed = crate::TenantSealed::from_text(text)?;
            let key = key.ok_or(crate::TenantSealError::KeyMissing)?;
            let ctx = self.field_context(crate::FieldName::new(name.as_str())?);
            let plain = crate::open_from_tenant(key, &ctx, &sealed)?;
            *value = crate::plaintext_to_value(sealed.content_type(), plain)?;
        }
        Ok(())
    }

    /// Who is asking.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The tenant the request is for: always the caller's own.
    pub fn tenant(&self) -> &TenantId {
        self.principal.tenant()
    }

    /// What is done to the record.
    pub fn action(&self) -> &ActionName {
        &self.action
    }

    /// The object type.
    pub fn object(&self) -> &ObjectType {
        &self.object
    }

    /// The record id.
    pub fn record_id(&self) -> &RecordId {
        &self.record_id
    }

    /// The record's data subject, if any.
    pub fn subject(&self) -> Option<&SubjectId> {
        self.subject.as_ref()
    }

    /// When the request is decided (deciders see this time, not a clock).
    pub fn time(&self) -> UnixTime {
        self.time
    }

    /// The record as stored (sealed fields in their `cg1:` text form).
    pub fn record(&self) -> &Map<String, Value> {
        &self.record
    }

    /// The stored record, to replace or amend (it is data, not identity: whom and what the
    /// request is for do not change).
    pub fn record_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.record
    }

    /// The crypto context of one of the record's fields: the caller's tenant, this record,
    /// and its subject.
    pub fn field_context(&self, field: crate::FieldName) -> crate::FieldContext {
        crate::FieldContext {
            tenant: self.tenant().clone(),
            object: self.object.clone(),
            record: self.record_id.clone(),
            field,
            subject: self.subject.clone(),
        }
    }
}
