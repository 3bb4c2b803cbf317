//! Rendering a field for the caller, the same way in every runtime. A stored value that is a
//! sealed field is opened (and its bytes strictly decoded) before it is shown clear or masked;
//! a field shown sealed is the stored sealed value, or the clear stored value sealed now. The
//! keys stay behind a [`FieldSealer`]: a keyring here, the host's request-scoped session in a
//! plugin host.

use serde_json::{Map, Value};

use super::{AccessRequest, Decider, DeciderFailure, Proposal, ProposedField};
use crate::{
    Action, AuthorizationRequest, Effect, Entropy, Error, FieldContext, FieldVisibility, Keyring,
    MaskStyle, Policy, SealedField, Treatment, mask_value, plaintext_to_value, value_to_plaintext,
};

/// Opens and seals values for one request's record.
pub trait FieldSealer {
    /// Opens `sealed`, stored at `ctx`, to a JSON value (strict: `bytes` content must be
    /// UTF-8, `json` content must be JSON).
    fn open(&mut self, ctx: &FieldContext, sealed: &SealedField) -> Result<Value, Error>;
    /// Seals `value` for `ctx`.
    fn seal(&mut self, ctx: &FieldContext, value: &Value) -> Result<SealedField, Error>;
}

/// A keyring and an entropy source as a [`FieldSealer`].
pub struct KeyringSealer<'a, E> {
    keyring: &'a Keyring,
    entropy: E,
}

impl<'a, E: Entropy> KeyringSealer<'a, E> {
    /// Seals and opens with `keyring`, fresh nonces from `entropy`.
    pub fn new(keyring: &'a Keyring, entropy: E) -> Self {
        Self { keyring, entropy }
    }
}

impl<E> core::fmt::Debug for KeyringSealer<'_, E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KeyringSealer(..)")
    }
}

impl<E: Entropy> FieldSealer for KeyringSealer<'_, E> {
    fn open(&mut self, ctx: &FieldContext, sealed: &SealedField) -> Result<Value, Error> {
        let plain = self.keyring.open(ctx, sealed)?;
        plaintext_to_value(sealed.content_type(), plain)
    }

    fn seal(&mut self, ctx: &FieldContext, value: &Value) -> Result<SealedField, Error> {
        let (content, plain) = value_to_plaintext(value);
        self.keyring
            .seal_with(ctx, &plain, content, &mut self.entropy)
    }
}

/// One keyring per tenant as a [`FieldSealer`]: each context is opened and sealed with its own
/// tenant's keyring, and a tenant without one is refused (`ERR_REQUEST_TENANT_UNKNOWN`).
pub struct TenantKeyringsSealer<'a, K, E> {
    keyrings: &'a std::collections::BTreeMap<crate::TenantId, K>,
    entropy: E,
}

impl<'a, K: core::borrow::Borrow<Keyring>, E: Entropy> TenantKeyringsSealer<'a, K, E> {
    /// Seals and opens with the context's tenant's keyring (held as `K`: the keyring, an
    /// `Arc` of it, ...), fresh nonces from `entropy`.
    pub fn new(keyrings: &'a std::collections::BTreeMap<crate::TenantId, K>, entropy: E) -> Self {
        Self { keyrings, entropy }
    }

    fn keyring(&self, ctx: &FieldContext) -> Result<&'a Keyring, Error> {
        self.keyrings
            .get(&ctx.tenant)
            .map(core::borrow::Borrow::borrow)
            .ok_or_else(|| crate::RequestError::UnknownTenant.into())
    }
}

impl<K, E> core::fmt::Debug for TenantKeyringsSealer<'_, K, E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TenantKeyringsSealer(..)")
    }
}

impl<K: core::borrow::Borrow<Keyring>, E: Entropy> FieldSealer for TenantKeyringsSealer<'_, K, E> {
    fn open(&mut self, ctx: &FieldContext, sealed: &SealedField) -> Result<Value, Error> {
        let plain = self.keyring(ctx)?.open(ctx, sealed)?;
        plaintext_to_value(sealed.content_type(), plain)
    }

    fn seal(&mut self, ctx: &FieldContext, value: &Value) -> Result<SealedField, Error> {
        let (content, plain) = value_to_plaintext(value);
        self.keyring(ctx)?
            .seal_with(ctx, &plain, content, &mut self.entropy)
    }
}

/// What the caller gets of one stored value under `treatment` (`None`: left out). Opened
/// with the request's context (its subject included, so subject-sealed values open with the
/// subject's key); a clear value shown sealed is sealed under the keyring, without subject.
pub fn render_field(
    treatment: Treatment,
    style: MaskStyle,
    stored: &Value,
    ctx: &FieldContext,
    sealer: &mut dyn FieldSealer,
) -> Result<Option<Value>, Error> {
    let sealed = stored.as_str().and_then(|s| SealedField::from_text(s).ok());
    Ok(match (treatment, sealed) {
        (Treatment::Hidden, _) => None,
        (Treatment::Sealed, Some(_)) => Some(stored.clone()),
        (Treatment::Sealed, None) => {
            let ctx = FieldContext {
                subject: None,
                ..ctx.clone()
            };
            Some(Value::String(sealer.seal(&ctx, stored)?.to_text()))
        }
        (Treatment::Clear, None) => Some(stored.clone()),
        (Treatment::Clear, Some(s)) => Some(sealer.open(ctx, &s)?),
        (Treatment::Mask, None) => Some(mask_value(stored, style)),
        (Treatment::Mask, Some(s)) => Some(mask_value(&sealer.open(ctx, &s)?, style)),
    })
}

impl FieldVisibility {
    /// The field action and, for a mask, its style (the default style otherwise).
    pub fn treatment(&self) -> (Treatment, MaskStyle) {
        match self {
            FieldVisibility::Clear => (Treatment::Clear, MaskStyle::default()),
            FieldVisibility::Mask { style } => (Treatment::Mask, *style),
            FieldVisibility::Sealed => (Treatment::Sealed, MaskStyle::default()),
            FieldVisibility::Hidden => (Treatment::Hidden, MaskStyle::default()),
        }
    }
}

/// A policy document as a [`Decider`]: the native counterpart of the reference policy
/// plugin. It names each field's treatment; core renders them ([`Proposal::validate`]).
#[derive(Debug, Clone, Copy)]
pub struct PolicyDecider<'a> {
    policy: &'a Policy,
}

impl<'a> PolicyDecider<'a> {
    /// Decides with `policy`.
    pub fn new(policy: &'a Policy) -> Self {
        Self { policy }
    }
}

fn failure(e: &Error) -> DeciderFailure {
    DeciderFailure {
        code: e.code().to_owned(),
        message: e.to_string(),
    }
}

impl Decider for PolicyDecider<'_> {
    fn name(&self) -> &str {
        "policy"
    }

    fn decide(&mut self, request: &AccessRequest) -> Result<Proposal, DeciderFailure> {
        let action: Action = serde_json::from_value(Value::from(request.action().as_str()))
            .map_err(|_| {
                failure(&Error::from(crate::PolicyError::Request(format!(
                    "the policy language has no action {:?}",
                    request.action().as_str()
                ))))
            })?;
        let asked = AuthorizationRequest {
            tenant: request.tenant().to_string(),
            object: request.object().to_string(),
            action,
            record_id: Some(request.record_id().to_string()),
        };
        let decision = self
            .policy
            .evaluate_verified_elsewhere(request.principal().claims(), &asked)
            .map_err(|e| failure(&e))?;
        if decision.effect != Effect::Allow {
            return Ok(Proposal::Deny {
                code: None,
                reason: decision.reason.to_string(),
            });
        }
        if let Some(tf) = &decision.tenant_field
            && request.record().get(tf).and_then(Value::as_str) != Some(request.tenant().as_str())
        {
            return Err(failure(&crate::PolicyError::TenantMismatch.into()));
        }
        Ok(Proposal::Allow {
            reason: decision.reason.to_string(),
            fields: treatments(request.record(), &decision.fields),
        })
    }
}

/// Every field of `record` with its treatment under a decision's `visibility`; a field the
/// policy does not list is hidden (and audited as dropped).
pub fn treatments(
    record: &Map<String, Value>,
    visibility: &std::collections::BTreeMap<String, FieldVisibility>,
) -> Vec<ProposedField> {
    record
        .keys()
        .map(|name| {
            let (action, style) = visibility
                .get(name)
                .unwrap_or(&FieldVisibility::Hidden)
                .treatment();
            ProposedField {
                name: name.clone(),
                action,
                style,
            }
        })
        .collect()
}
