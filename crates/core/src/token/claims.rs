//! JWT claims: verification options, the time and audience rules, and [`VerifiedClaims`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::json::unique_object;
use super::{Algorithm, KeySet};
use crate::error::TokenError;

/// The default leeway for `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;
/// The largest leeway honoured, in seconds; larger settings are capped to it.
pub const MAX_LEEWAY_SECS: u64 = 300;
/// The default token size limit in bytes (64 KiB), checked before any parsing.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 64 * 1024;

/// What a token must satisfy besides its signature. `Default` is the secure setting: `exp`
/// required, 60 s leeway, 64 KiB limit, no issuer or audience restriction (set them when the
/// deployment has them; an empty list means "not checked").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerificationOptions {
    /// Tokens longer than this many bytes are refused before parsing.
    pub max_token_len: usize,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds; capped at
    /// [`MAX_LEEWAY_SECS`].
    pub leeway_secs: u64,
    /// Whether a token without `exp` is refused.
    pub require_exp: bool,
    /// If not empty, `iss` must be one of these.
    pub allowed_issuers: Vec<String>,
    /// If not empty, `aud` (a string or an array of strings) must name one of these.
    pub allowed_audiences: Vec<String>,
    /// If set, `iat` is required and the token must not be older than this many seconds.
    pub max_token_age_secs: Option<u64>,
}

impl Default for VerificationOptions {
    fn default() -> Self {
        Self {
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            require_exp: true,
            allowed_issuers: Vec::new(),
            allowed_audiences: Vec::new(),
            max_token_age_secs: None,
        }
    }
}

impl VerificationOptions {
    /// The leeway actually applied: the configured one, capped at [`MAX_LEEWAY_SECS`].
    pub fn effective_leeway_secs(&self) -> u64 {
        self.leeway_secs.min(MAX_LEEWAY_SECS)
    }
}

/// The names a list-valued claim holds (`roles`, `groups`, `scope`): the strings of an array,
/// or the words of a space-separated string (OAuth's `scope` form). Anything else holds none.
/// The one reading of such claims shared by the policy, audit records and plugin principals.
pub fn claim_names<'a>(claims: &'a Map<String, Value>, name: &str) -> Vec<&'a str> {
    match claims.get(name) {
        Some(Value::String(s)) => s.split_whitespace().collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The claims of a JWT whose signature and claims verified. Only [`KeySet::verify_jwt`]
/// creates one (no public constructor, no `Deserialize`), so code that takes a
/// `VerifiedClaims` cannot be handed unverified claims. Serializes as the claims object.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    algorithm: Algorithm,
    key_id: Option<String>,
    claims: Map<String, Value>,
}

impl Serialize for VerifiedClaims {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.claims.serialize(s)
    }
}

impl VerifiedClaims {
    /// All claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// One claim.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// A claim that is a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// `iss`, if it is a string.
    pub fn issuer(&self) -> Option<&str> {
        self.get_str("iss")
    }

    /// `sub`, if it is a string.
    pub fn subject(&self) -> Option<&str> {
        self.get_str("sub")
    }

    /// The algorithm of the key that verified the token.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `kid` of the key that verified the token, if it had one.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }
}

/// A NumericDate claim: absent, or a JSON number (integer or not).
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<f64>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(TokenError::ClaimInvalid(name)),
        Some(_) => Err(TokenError::ClaimInvalid(name)),
    }
}

/// Applies the time, issuer and audience rules to decoded claims at `now` (seconds since the
/// Unix epoch).
pub(crate) fn check_claims(
    claims: &Map<String, Value>,
    options: &VerificationOptions,
    now_unix_secs: u64,
) -> Result<(), TokenError> {
    // f64 holds every whole second up to 2^53 exactly; NumericDates may be fractional.
    let now = now_unix_secs as f64;
    let leeway = options.effective_leeway_secs() as f64;

    let exp = numeric_date(claims, "exp")?;
    let nbf = numeric_date(claims, "nbf")?;
    let iat = numeric_date(claims, "iat")?;
    match exp {
        // RFC 7519 4.1.4: the current time must be before exp.
        Some(exp) if now >= exp + leeway => return Err(TokenError::Expired("exp has passed")),
        Some(_) => {}
        None if options.require_exp => return Err(TokenError::ClaimMissing("exp")),
        None => {}
    }
    if let Some(nbf) = nbf
        && now + leeway < nbf
    {
        return Err(TokenError::NotYetValid("nbf is in the future"));
    }
    if let Some(iat) = iat
        && now + leeway < iat
    {
        return Err(TokenError::NotYetValid("iat is in the future"));
    }
    if let Some(max_age) = options.max_token_age_secs {
        let Some(iat) = iat else {
            return Err(TokenError::ClaimMissing("iat"));
        };
        if now - leeway > iat + max_age as f64 {
            return Err(TokenError::Expired("older than the maximum token age"));
        }
    }
    if !options.allowed_issuers.is_empty() {
        match claims.get("iss") {
            None => return Err(TokenError::ClaimMissing("iss")),
            Some(Value::String(iss)) if options.allowed_issuers.iter().any(|a| a == iss) => {}
            Some(Value::String(_)) => return Err(TokenError::Issuer),
            Some(_) => return Err(TokenError::ClaimInvalid("iss")),
        }
    }
    if !options.allowed_audiences.is_empty() {
        let allowed = |a: &str| options.allowed_audiences.iter().any(|x| x == a);
        match claims.get("aud") {
            None => return Err(TokenError::ClaimMissing("aud")),
            Some(Value::String(aud)) => {
                if !allowed(aud) {
                    return Err(TokenError::Audience);
                }
            }
            Some(Value::Array(auds)) => {
                let mut names = Vec::with_capacity(auds.len());
                for a in auds {
                    names.push(a.as_str().ok_or(TokenError::ClaimInvalid("aud"))?);
                }
                if !names.into_iter().any(allowed) {
                    return Err(TokenError::Audience);
                }
            }
            Some(_) => return Err(TokenError::ClaimInvalid("aud")),
        }
    }
    Ok(())
}

impl KeySet {
    /// Verifies a JWT: everything [`KeySet::verify_jws`] checks, then the payload must be a
    /// JSON object with unique member names and its claims must pass the time, issuer,
    /// audience and age rules at `now_unix_secs` (the caller's clock: the core has none).
    ///
    /// ```
    /// use crmguard_core::{KeySet, VerificationOptions};
    ///
    /// // RFC 7515 A.1: an HS256 token whose exp is 1300819380 (March 2011).
    /// let keys = KeySet::from_json(
    ///     r#"{"keys":[{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}"#,
    /// )?;
    /// let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\
    ///     eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.\
    ///     dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    /// let options = VerificationOptions::default();
    /// let claims = keys.verify_jwt(token, &options, 1_300_819_000)?;
    /// assert_eq!(claims.issuer(), Some("joe"));
    /// let later = keys.verify_jwt(token, &options, 1_764_400_000);
    /// assert_eq!(later.unwrap_err().code(), "ERR_JWT_EXPIRED");
    /// # Ok::<(), crmguard_core::Error>(())
    /// ```
    pub fn verify_jwt(
        &self,
        token: &str,
        options: &VerificationOptions,
        now_unix_secs: u64,
    ) -> Result<VerifiedClaims, crate::Error> {
        let jws = self.verify_jws_inner(token, options.max_token_len)?;
        let claims = unique_object(jws.payload()).ok_or(TokenError::Malformed(
            "the payload is not a JSON object with unique member names",
        ))?;
        check_claims(&claims, options, now_unix_secs)?;
        Ok(VerifiedClaims {
            algorithm: jws.algorithm(),
            key_id: jws.key_id().map(str::to_owned),
            claims,
        })
    }
}
