//! What a plugin's `fields` import may do within one request: seal, open and index only the
//! request's own record (its tenant, object, record id and data subject), a bounded number of
//! times. Without this the crypto component is a confused deputy: a plugin could forge
//! authentic `cg1:` values for any record of the tenant, open values it smuggled in from
//! elsewhere, run a dictionary against blind indexes, or probe which ids are live, erased or
//! unknown data subjects through the error codes of calls naming other subjects.

use crmguard_core::{RecordSchema, RecordTarget, TenantId};

use super::bindings::plugin::crmguard::guard::types;
use super::error;
use super::request::AccessRequest;

/// A kind of crypto call, each with its own budget per request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    Seal,
    Open,
    BlindIndex,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Call::Seal => "seal",
            Call::Open => "open",
            Call::BlindIndex => "blind-index",
        }
    }

    /// Calls of this kind allowed per request: enough for every field of a large record,
    /// too few to be an oracle.
    fn budget(self) -> u32 {
        match self {
            Call::Seal | Call::Open => 256,
            Call::BlindIndex => 16,
        }
    }
}

/// The record a request is about, and what its plugin has used of its budgets.
pub(crate) struct Scope {
    pub(crate) tenant: TenantId,
    object: String,
    record: String,
    subject: Option<String>,
    used: [u32; 3],
}

fn refused(message: String) -> types::GuardError {
    types::GuardError {
        code: error::SCOPE.to_owned(),
        message,
    }
}

impl Scope {
    pub(crate) fn of(request: &AccessRequest) -> Self {
        Self {
            tenant: request.tenant().clone(),
            object: request.object().to_string(),
            record: request.record_id().to_string(),
            subject: request.subject().map(ToString::to_string),
            used: [0; 3],
        }
    }

    fn spend(&mut self, call: Call) -> Result<(), types::GuardError> {
        let used = &mut self.used[call as usize];
        if *used >= call.budget() {
            return Err(refused(format!(
                "more than {} {} calls in one request",
                call.budget(),
                call.name()
            )));
        }
        *used += 1;
        Ok(())
    }

    fn check(
        &self,
        tenant: &str,
        object: &str,
        record: &str,
        subject: Option<&str>,
    ) -> Result<(), types::GuardError> {
        if tenant != self.tenant.as_str() {
            return Err(types::GuardError {
                code: error::TENANT.to_owned(),
                message: "keys are served for the request's tenant only".to_owned(),
            });
        }
        if object != self.object || record != self.record {
            return Err(refused(format!(
                "the request is about {} {}; the call named {object} {record}",
                self.object, self.record
            )));
        }
        // No subject is in scope too: a subject's record keeps its keyring-key fields bound
        // to tenant, object, record and field only.
        if subject.is_some() && subject != self.subject.as_deref() {
            return Err(refused(
                "the call names another data subject than the request's".to_owned(),
            ));
        }
        Ok(())
    }

    /// Admits a call on one field of `ctx`, or says why not.
    pub(crate) fn admit(
        &mut self,
        call: Call,
        ctx: &types::FieldContext,
    ) -> Result<(), types::GuardError> {
        self.check(
            &ctx.tenant,
            &ctx.object,
            &ctx.record,
            ctx.subject.as_deref(),
        )?;
        self.spend(call)
    }

    /// Admits `seal-record` / `open-record` of `record_json` under `schema_json`: the record
    /// the schema identifies (object, record id and subject paths) must be the request's.
    pub(crate) fn admit_record(
        &mut self,
        call: Call,
        tenant: &str,
        schema_json: &str,
        record_json: &str,
    ) -> Result<(), types::GuardError> {
        let invalid = |e: crmguard_core::Error| types::GuardError {
            code: e.code().to_owned(),
            message: e.to_string(),
        };
        let schema = RecordSchema::from_json(schema_json).map_err(invalid)?;
        let record: serde_json::Value =
            serde_json::from_str(record_json).map_err(|e| types::GuardError {
                code: crmguard_core::codes::RECORD_INVALID.to_owned(),
                message: format!("record: {e}"),
            })?;
        let target = RecordTarget::tenant(self.tenant.clone());
        let id = schema.record_id(&record, &target).map_err(invalid)?;
        let subject = schema.subject_id(&record, &target).map_err(invalid)?;
        self.check(
            tenant,
            schema.object().as_str(),
            id.as_str(),
            subject.as_ref().map(|s| s.as_str()),
        )?;
        self.spend(call)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            tenant: TenantId::new("acme").unwrap_or_else(|_| unreachable!("valid")),
            object: "contact".into(),
            record: "0042".into(),
            subject: Some("0042".into()),
            used: [0; 3],
        }
    }

    fn ctx(tenant: &str, object: &str, record: &str, subject: Option<&str>) -> types::FieldContext {
        types::FieldContext {
            tenant: tenant.into(),
            object: object.into(),
            record: record.into(),
            field: "email".into(),
            subject: subject.map(Into::into),
        }
    }

    #[test]
    fn only_the_requests_record_and_subject_are_in_scope() {
        let mut s = scope();
        assert!(
            s.admit(Call::Seal, &ctx("acme", "contact", "0042", Some("0042")))
                .is_ok()
        );
        // The record's keyring-key fields carry no subject.
        assert!(
            s.admit(Call::Open, &ctx("acme", "contact", "0042", None))
                .is_ok()
        );
        for (c, code) in [
            (
                ctx("globex", "contact", "0042", Some("0042")),
                error::TENANT,
            ),
            (ctx("acme", "deal", "0042", Some("0042")), error::SCOPE),
            (ctx("acme", "contact", "0043", Some("0042")), error::SCOPE),
            (ctx("acme", "contact", "0042", Some("0099")), error::SCOPE),
        ] {
            assert_eq!(
                s.admit(Call::Open, &c).map_err(|e| e.code),
                Err(code.to_owned())
            );
        }
    }

    #[test]
    fn each_kind_of_call_has_a_budget() {
        let mut s = scope();
        let c = ctx("acme", "contact", "0042", Some("0042"));
        for _ in 0..16 {
            assert!(s.admit(Call::BlindIndex, &c).is_ok());
        }
        assert_eq!(
            s.admit(Call::BlindIndex, &c).map_err(|e| e.code),
            Err(error::SCOPE.to_owned())
        );
        // Other kinds keep their own budgets.
        assert!(s.admit(Call::Open, &c).is_ok());
    }

    #[test]
    fn whole_records_are_checked_through_their_schema() {
        let schema = r#"{"object":"contact","record_id":"id","subject":"id","fields":{"id":{"action":"clear"},"email":{"action":"encrypt"}}}"#;
        let mut s = scope();
        assert!(
            s.admit_record(Call::Seal, "acme", schema, r#"{"id":"0042","email":"a@b"}"#)
                .is_ok()
        );
        let other = s.admit_record(Call::Seal, "acme", schema, r#"{"id":"0043","email":"a@b"}"#);
        assert_eq!(other.map_err(|e| e.code), Err(error::SCOPE.to_owned()));
    }
}
