//! Who is asking, bound by the trusted host: a [`Principal`] is made only from
//! [`VerifiedClaims`] and carries the caller's own tenant, so nothing downstream (a policy
//! plugin, the crypto session, the audit record) can be pointed at another tenant's data by
//! the request.
//!
//! The tenant comes from the token's tenant claim ([`ClaimNames::tenant`]). Where tenants have
//! their own identity providers, [`TenantIssuers`] says which issuer may speak for which
//! tenant, so a token from one tenant's IdP naming another tenant is refused.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::RequestError;
use crate::{ClaimNames, Error, TenantId, VerifiedClaims, claim_names};

/// Which issuers may speak for which tenants. Empty: any verified issuer may name any tenant
/// (one IdP for every tenant, the issuer already checked by the verification options).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantIssuers {
    by_tenant: BTreeMap<TenantId, Vec<String>>,
}

impl TenantIssuers {
    /// No binding: every tenant is served by the verified issuers.
    pub fn any() -> Self {
        Self::default()
    }

    /// Adds `issuer` as an identity provider of `tenant` (a tenant may have several).
    pub fn with(mut self, tenant: TenantId, issuer: impl Into<String>) -> Self {
        self.by_tenant
            .entry(tenant)
            .or_default()
            .push(issuer.into());
        self
    }

    /// Whether any binding is configured.
    pub fn is_empty(&self) -> bool {
        self.by_tenant.is_empty()
    }

    /// Checks that `issuer` may speak for `tenant`: with bindings, the tenant must be bound
    /// and the issuer one of its own.
    fn check(&self, tenant: &TenantId, issuer: Option<&str>) -> Result<(), RequestError> {
        if self.by_tenant.is_empty() {
            return Ok(());
        }
        match (self.by_tenant.get(tenant), issuer) {
            (Some(issuers), Some(iss)) if issuers.iter().any(|i| i == iss) => Ok(()),
            (None, _) => Err(RequestError::UnknownTenant),
            _ => Err(RequestError::TenantIssuer),
        }
    }
}

/// The caller of one request: subject, own tenant, roles, and every verified claim. Only
/// [`Principal::from_verified`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    subject: String,
    tenant: TenantId,
    roles: Vec<String>,
    claims: Map<String, Value>,
}

impl Principal {
    /// Binds the caller of `claims`: `sub` (required), the tenant claim named by `names`
    /// (required, a valid [`TenantId`], and one `issuers` lets this token's issuer speak
    /// for), and the roles claim read by [`claim_names`].
    ///
    /// ```
    /// # use crmguard_core::{ClaimNames, KeySet, Principal, TenantIssuers, VerificationOptions};
    /// # let keys = KeySet::from_json(r#"{"keys":[{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}"#)?;
    /// # let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    /// # let options = VerificationOptions::waive_issuer_and_audience();
    /// let claims = keys.verify_jwt(token, &options, 1_300_819_000)?;
    /// // RFC 7515's example token names no subject and no tenant: no principal.
    /// let e = Principal::from_verified(&claims, &ClaimNames::default(), &TenantIssuers::any());
    /// assert_eq!(e.unwrap_err().code(), "ERR_REQUEST_SUBJECT_CLAIM");
    /// # Ok::<(), crmguard_core::Error>(())
    /// ```
    pub fn from_verified(
        claims: &VerifiedClaims,
        names: &ClaimNames,
        issuers: &TenantIssuers,
    ) -> Result<Self, Error> {
        let subject = claims
            .subject()
            .filter(|s| !s.is_empty())
            .ok_or(RequestError::SubjectClaim)?
            .to_owned();
        let tenant = claims
            .get_str(&names.tenant)
            .ok_or(RequestError::TenantClaim)
            .and_then(|t| TenantId::new(t).map_err(|_| RequestError::TenantClaim))?;
        issuers.check(&tenant, claims.issuer())?;
        Ok(Self {
            subject,
            roles: claim_names(claims.claims(), &names.roles)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            tenant,
            claims: claims.claims().clone(),
        })
    }

    /// Refuses a request that addresses another tenant than the caller's own.
    pub fn check_tenant(&self, requested: &str) -> Result<(), Error> {
        if requested == self.tenant.as_str() {
            Ok(())
        } else {
            Err(RequestError::TenantMismatch.into())
        }
    }

    /// The caller's user id (`sub`).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The caller's own tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The caller's roles.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }

    /// Every verified claim.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::test_keys;
    use serde_json::json;

    fn verified(claims: Value) -> VerifiedClaims {
        test_keys::hs256_verified(&claims)
    }

    fn acme() -> TenantId {
        TenantId::new("acme").unwrap()
    }

    #[test]
    fn the_tenant_comes_from_the_token_and_binds_the_request() {
        let c = verified(json!({"sub": "user-7", "tenant": "acme", "roles": ["sales_rep"]}));
        let p =
            Principal::from_verified(&c, &ClaimNames::default(), &TenantIssuers::any()).unwrap();
        assert_eq!(p.tenant(), &acme());
        assert_eq!(p.subject(), "user-7");
        assert_eq!(p.roles(), ["sales_rep"]);
        p.check_tenant("acme").unwrap();
        assert_eq!(
            p.check_tenant("globex").unwrap_err().code(),
            "ERR_REQUEST_TENANT_MISMATCH"
        );
    }

    #[test]
    fn the_claim_names_are_the_deployments() {
        let c = verified(json!({"sub": "u", "org": "acme", "groups": "a b"}));
        let names = ClaimNames {
            tenant: "org".into(),
            roles: "groups".into(),
            ..ClaimNames::default()
        };
        let p = Principal::from_verified(&c, &names, &TenantIssuers::any()).unwrap();
        assert_eq!(p.tenant(), &acme());
        assert_eq!(p.roles(), ["a", "b"]);
    }

    #[test]
    fn no_subject_or_tenant_no_principal() {
        for (claims, code) in [
            (json!({"tenant": "acme"}), "ERR_REQUEST_SUBJECT_CLAIM"),
            (
                json!({"sub": "", "tenant": "acme"}),
                "ERR_REQUEST_SUBJECT_CLAIM",
            ),
            (json!({"sub": "u"}), "ERR_REQUEST_TENANT_CLAIM"),
            (json!({"sub": "u", "tenant": 7}), "ERR_REQUEST_TENANT_CLAIM"),
            (
                json!({"sub": "u", "tenant": ""}),
                "ERR_REQUEST_TENANT_CLAIM",
            ),
        ] {
            let e = Principal::from_verified(
                &verified(claims.clone()),
                &ClaimNames::default(),
                &TenantIssuers::any(),
            )
            .unwrap_err();
            assert_eq!(e.code(), code, "{claims}");
        }
    }

    #[test]
    fn a_tenant_bound_to_its_idp_refuses_other_issuers() {
        let issuers = TenantIssuers::any()
            .with(acme(), "https://idp.acme.example")
            .with(
                TenantId::new("globex").unwrap(),
                "https://login.globex.example",
            );
        let from = |iss: &str, tenant: &str| {
            Principal::from_verified(
                &verified(json!({"sub": "u", "tenant": tenant, "iss": iss})),
                &ClaimNames::default(),
                &issuers,
            )
            .map(|p| p.tenant().to_string())
            .map_err(|e| e.code())
        };
        assert_eq!(from("https://idp.acme.example", "acme"), Ok("acme".into()));
        // Globex's IdP (a tenant admin there can mint anything) naming acme.
        assert_eq!(
            from("https://login.globex.example", "acme"),
            Err("ERR_REQUEST_TENANT_ISSUER")
        );
        assert_eq!(
            from("https://idp.acme.example", "initech"),
            Err("ERR_REQUEST_TENANT_UNKNOWN")
        );
    }
}
