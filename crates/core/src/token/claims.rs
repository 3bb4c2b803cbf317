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
/// required, 60 s leeway, 64 KiB limit, `typ` absent or a JWT media type, and issuer and
/// audience **required**: with no allowed issuer (audience) configured, every token is
/// refused with `ERR_JWT_OPTIONS` unless the check is explicitly waived ([`Waivers`]), so a
/// forgotten setting never means "any issuer".
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
    /// `iss` must be one of these (none: refused, unless [`Waivers::issuer`]).
    pub allowed_issuers: Vec<String>,
    /// `aud` (a string or an array of strings) must name one of these (none: refused, unless
    /// [`Waivers::audience`]).
    pub allowed_audiences: Vec<String>,
    /// If set, `iat` is required and the token must not be older than this many seconds.
    pub max_token_age_secs: Option<u64>,
    /// Which `typ` header values are accepted.
    pub token_type: TokenType,
    /// Checks deliberately switched off.
    pub waive: Waivers,
}

/// Which tokens, by their `typ` header (RFC 7515 4.1.9: a media type, compared without case,
/// `application/` optional).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TokenType {
    /// `typ` absent, `JWT`, or `at+jwt`; anything else (`dpop+jwt`, `logout+jwt`,
    /// `secevent+jwt`, ...) is another kind of token and refused.
    #[default]
    Jwt,
    /// RFC 9068 JWT access tokens: `typ` must be `at+jwt` (so an ID token, `typ: JWT`, of
    /// the same IdP is refused).
    AccessToken,
    /// Not checked.
    Any,
}

impl TokenType {
    /// Whether a token whose header has `typ` is accepted.
    pub fn accepts(self, typ: Option<&str>) -> bool {
        let media = typ.map(|t| {
            let t = t.to_ascii_lowercase();
            t.strip_prefix("application/")
                .map(str::to_owned)
                .unwrap_or(t)
        });
        matches!(
            (self, media.as_deref()),
            (TokenType::Any, _)
                | (TokenType::Jwt, None | Some("jwt" | "at+jwt"))
                | (TokenType::AccessToken, Some("at+jwt"))
        )
    }
}

/// Checks of [`VerificationOptions`] that are off only when said so here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Waivers {
    /// Accept any issuer (a deployment that binds tenants to issuers elsewhere).
    pub issuer: bool,
    /// Accept any audience (never right for a resource server shared by several APIs).
    pub audience: bool,
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
            token_type: TokenType::Jwt,
            waive: Waivers::default(),
        }
    }
}

impl VerificationOptions {
    /// Refuses options that leave a required check unconfigured: a forgotten issuer or
    /// audience setting fails every token loudly instead of accepting any.
    pub fn check(&self) -> Result<(), crate::Error> {
        if self.allowed_issuers.is_empty() && !self.waive.issuer {
            return Err(TokenError::Options(
                "no allowed issuer is configured and the issuer check is not waived",
            )
            .into());
        }
        if self.allowed_audiences.is_empty() && !self.waive.audience {
            return Err(TokenError::Options(
                "no allowed audience is configured and the audience check is not waived",
            )
            .into());
        }
        Ok(())
    }

    /// The defaults for an API: tokens from `issuers` for `audiences`.
    pub fn for_api(issuers: &[&str], audiences: &[&str]) -> Self {
        Self {
            allowed_issuers: issuers.iter().map(|s| (*s).to_owned()).collect(),
            allowed_audiences: audiences.iter().map(|s| (*s).to_owned()).collect(),
            ..Self::default()
        }
    }

    /// The defaults with the issuer and audience checks waived (tests, and tokens whose
    /// issuer and audience are checked by the caller).
    pub fn waive_issuer_and_audience() -> Self {
        Self {
            waive: Waivers {
                issuer: true,
                audience: true,
            },
            ..Self::default()
        }
    }

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
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or(TokenError::invalid(name)),
        Some(_) => Err(TokenError::invalid(name)),
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
        Some(exp) if now >= exp + leeway => return Err(TokenError::Expired { claim: "exp" }),
        Some(_) => {}
        None if options.require_exp => return Err(TokenError::missing("exp")),
        None => {}
    }
    if let Some(nbf) = nbf
        && now + leeway < nbf
    {
        return Err(TokenError::check_failed("nbf"));
    }
    if let Some(iat) = iat
        && now + leeway < iat
    {
        return Err(TokenError::check_failed("iat"));
    }
    if let Some(max_age) = options.max_token_age_secs {
        let Some(iat) = iat else {
            return Err(TokenError::missing("iat"));
        };
        if now - leeway > iat + max_age as f64 {
            return Err(TokenError::Expired { claim: "iat" });
        }
    }
    if !options.allowed_issuers.is_empty() {
        match claims.get("iss") {
            None => return Err(TokenError::missing("iss")),
            Some(Value::String(iss)) if options.allowed_issuers.iter().any(|a| a == iss) => {}
            Some(Value::String(_)) => return Err(TokenError::check_failed("iss")),
            Some(_) => return Err(TokenError::invalid("iss")),
        }
    }
    if !options.allowed_audiences.is_empty() {
        let allowed = |a: &str| options.allowed_audiences.iter().any(|x| x == a);
        match claims.get("aud") {
            None => return Err(TokenError::missing("aud")),
            Some(Value::String(aud)) => {
                if !allowed(aud) {
                    return Err(TokenError::check_failed("aud"));
                }
            }
            Some(Value::Array(auds)) => {
                let mut names = Vec::with_capacity(auds.len());
                for a in auds {
                    names.push(a.as_str().ok_or(TokenError::invalid("aud"))?);
                }
                if !names.into_iter().any(allowed) {
                    return Err(TokenError::check_failed("aud"));
                }
            }
            Some(_) => return Err(TokenError::invalid("aud")),
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
    /// let options = VerificationOptions::waive_issuer_and_audience();
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
        options.check()?;
        let jws = self.verify_jws_inner(token, options.max_token_len)?;
        let typ = match jws.header().get("typ") {
            None => None,
            Some(Value::String(t)) => Some(t.as_str()),
            Some(_) => return Err(TokenError::Malformed("typ is not a string").into()),
        };
        if !options.token_type.accepts(typ) {
            return Err(TokenError::check_failed("typ").into());
        }
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
