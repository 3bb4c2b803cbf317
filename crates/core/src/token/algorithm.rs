//! The JWS algorithms CRMGuard accepts.

use serde::{Deserialize, Serialize};

/// A JWS signature or MAC algorithm (RFC 7518 names, plus `EdDSA` from RFC 8037 for Ed25519).
///
/// Names are case-sensitive: `hs256` is not `HS256`. ES512, ES256K, `none` and everything else
/// are not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// HMAC with SHA-256 (`oct` key of at least 32 bytes).
    #[serde(rename = "HS256")]
    Hs256,
    /// HMAC with SHA-384 (`oct` key of at least 48 bytes).
    #[serde(rename = "HS384")]
    Hs384,
    /// HMAC with SHA-512 (`oct` key of at least 64 bytes).
    #[serde(rename = "HS512")]
    Hs512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    #[serde(rename = "RS384")]
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    #[serde(rename = "RS512")]
    Rs512,
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256, 32-byte salt.
    #[serde(rename = "PS256")]
    Ps256,
    /// RSASSA-PSS with SHA-384, MGF1 with SHA-384, 48-byte salt.
    #[serde(rename = "PS384")]
    Ps384,
    /// RSASSA-PSS with SHA-512, MGF1 with SHA-512, 64-byte salt.
    #[serde(rename = "PS512")]
    Ps512,
    /// ECDSA on P-256 with SHA-256, signature as 64 bytes `r || s`.
    #[serde(rename = "ES256")]
    Es256,
    /// ECDSA on P-384 with SHA-384, signature as 96 bytes `r || s`.
    #[serde(rename = "ES384")]
    Es384,
    /// Ed25519 (`OKP` key, `crv: Ed25519`).
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl Algorithm {
    /// Every accepted algorithm.
    pub const ALL: [Algorithm; 12] = [
        Algorithm::Hs256,
        Algorithm::Hs384,
        Algorithm::Hs512,
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::EdDsa,
    ];

    /// The JOSE name, e.g. `"RS256"`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Hs256 => "HS256",
            Algorithm::Hs384 => "HS384",
            Algorithm::Hs512 => "HS512",
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// The algorithm with exactly this JOSE name (case-sensitive), if it is accepted.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Whether this is an HMAC algorithm (symmetric key).
    pub fn is_hmac(self) -> bool {
        matches!(self, Algorithm::Hs256 | Algorithm::Hs384 | Algorithm::Hs512)
    }

    /// Whether this is an RSA algorithm (PKCS#1 v1.5 or PSS).
    pub(crate) fn is_rsa(self) -> bool {
        matches!(
            self,
            Algorithm::Rs256
                | Algorithm::Rs384
                | Algorithm::Rs512
                | Algorithm::Ps256
                | Algorithm::Ps384
                | Algorithm::Ps512
        )
    }
}

impl core::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
