//! What a plugin's request-scoped sealer may do: seal, open and index fields of the request's
//! own record only, a bounded number of times. The plugin names a field; the tenant, object,
//! record id and data subject are the request's, so it cannot name another record, subject or
//! tenant at all (0.1.0 took a whole context from the plugin and checked it). The budgets
//! stop the sealer being an oracle: a dictionary run against blind indexes, or a probe of
//! which values open.

use crmguard_core::{FieldName, TenantId};

use super::bindings::plugin::crmguard::guard::types::{self, KeyScope};
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
    error::guard(error::SCOPE, message)
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

    /// Spends one call of `call`'s budget on `field` of the request's record and returns the
    /// context the crypto component gets: the request's tenant, object, record and subject.
    /// A field name that is not one is refused before any budget is spent.
    pub(crate) fn admit(
        &mut self,
        call: Call,
        field: &str,
    ) -> Result<types::FieldContext, types::GuardError> {
        FieldName::new(field).map_err(|e| {
            let e = crmguard_core::Error::from(e);
            error::guard(e.code(), e.to_string())
        })?;
        self.spend(call)?;
        Ok(types::FieldContext {
            tenant: self.tenant.to_string(),
            object: self.object.clone(),
            record: self.record.clone(),
            field: field.to_owned(),
            subject: self.subject.clone(),
        })
    }

    /// Whether the request has a data subject, for a call under the subject's key.
    pub(crate) fn admits_key(&self, key: KeyScope) -> Result<(), types::GuardError> {
        match (key, &self.subject) {
            (KeyScope::Subject, None) => Err(error::guard(
                crmguard_core::codes::SUBJECT_REQUIRED,
                "the request names no data subject",
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(subject: Option<&str>) -> Scope {
        Scope {
            tenant: TenantId::new("acme").unwrap_or_else(|_| unreachable!("valid")),
            object: "contact".into(),
            record: "0042".into(),
            subject: subject.map(Into::into),
            used: [0; 3],
        }
    }

    #[test]
    fn every_call_is_about_the_requests_record_and_subject() {
        let mut s = scope(Some("0042"));
        let ctx = s
            .admit(Call::Seal, "email")
            .unwrap_or_else(|e| panic!("{}", e.code));
        assert_eq!(
            (ctx.tenant, ctx.object, ctx.record, ctx.field, ctx.subject),
            (
                "acme".into(),
                "contact".into(),
                "0042".into(),
                "email".into(),
                Some("0042".into())
            )
        );
        assert!(s.admits_key(KeyScope::Subject).is_ok());
        let s = scope(None);
        assert_eq!(
            s.admits_key(KeyScope::Subject).map_err(|e| e.code),
            Err(crmguard_core::codes::SUBJECT_REQUIRED.to_owned())
        );
        assert!(s.admits_key(KeyScope::Keyring).is_ok());
    }

    #[test]
    fn a_field_name_that_is_not_one_is_refused_without_spending() {
        let mut s = scope(None);
        for bad in ["", "a\u{0}b", &"x".repeat(10_000)] {
            let e = s.admit(Call::Open, bad).unwrap_err();
            assert!(e.code.starts_with("ERR_"), "{}", e.code);
            assert_ne!(e.code, error::SCOPE);
        }
        assert_eq!(s.used, [0; 3]);
    }

    #[test]
    fn each_kind_of_call_has_a_budget() {
        let mut s = scope(Some("0042"));
        for _ in 0..16 {
            assert!(s.admit(Call::BlindIndex, "email").is_ok());
        }
        assert_eq!(
            s.admit(Call::BlindIndex, "email")
                .map(drop)
                .map_err(|e| e.code),
            Err(error::SCOPE.to_owned())
        );
        // Other kinds keep their own budgets.
        assert!(s.admit(Call::Open, "email").is_ok());
    }
}
