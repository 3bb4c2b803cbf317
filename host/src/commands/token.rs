//! `crmguard token verify`: verify a compact JWT read from stdin against a JWKS file.

use crate::failure::outln;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use crmguard_core::{KeySet, TokenError, TokenType, VerificationOptions, VerifiedClaims, Waivers};

use crate::failure::{CmdResult, Failure};

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Verify a compact JWT read from stdin (one trailing newline allowed). Valid: the verified
    /// claims as JSON on stdout, exit 0. Invalid: one stderr line beginning with the stable
    /// code, exit 1.
    Verify(VerifyOpts),
}

/// How tokens are verified; shared with `crmguard authorize`.
#[derive(Args)]
pub(crate) struct VerifyOpts {
    /// The JSON Web Key Set (RFC 7517) holding the verification keys.
    #[arg(long, value_name = "FILE")]
    pub(crate) jwks: PathBuf,
    /// An accepted issuer (`iss`); repeat for several. Required (ERR_JWT_OPTIONS) unless
    /// --any-issuer.
    #[arg(long = "issuer", value_name = "ISS")]
    pub(crate) issuers: Vec<String>,
    /// An accepted audience (`aud`); repeat for several. Required (ERR_JWT_OPTIONS) unless
    /// --any-audience.
    #[arg(long = "audience", value_name = "AUD")]
    pub(crate) audiences: Vec<String>,
    /// Accept tokens of any issuer (an explicit waiver of the issuer check).
    #[arg(long, conflicts_with = "issuers")]
    pub(crate) any_issuer: bool,
    /// Accept tokens for any audience (an explicit waiver of the audience check).
    #[arg(long, conflicts_with = "audiences")]
    pub(crate) any_audience: bool,
    /// Accept RFC 9068 JWT access tokens only (`typ: at+jwt`): ID tokens and other JWTs of
    /// the same IdP are refused with ERR_JWT_CLAIM_VALIDATION_FAILED (claim typ).
    #[arg(long)]
    pub(crate) access_token: bool,
    /// Clock skew allowed on exp, nbf and iat, in seconds (0 to 300).
    #[arg(long, value_name = "SECS", default_value_t = crmguard_core::DEFAULT_LEEWAY_SECS,
          value_parser = clap::value_parser!(u64).range(0..=crmguard_core::MAX_LEEWAY_SECS))]
    pub(crate) leeway: u64,
    /// Refuse tokens issued (`iat`) more than this many seconds ago.
    #[arg(long, value_name = "SECS")]
    pub(crate) max_age: Option<u64>,
    /// Verify as of this time (seconds since the Unix epoch) instead of the system clock;
    /// for reproducible tests and examples.
    #[arg(long, value_name = "UNIX_SECS")]
    pub(crate) now: Option<u64>,
}

impl VerifyOpts {
    pub(crate) fn options(&self) -> VerificationOptions {
        VerificationOptions {
            leeway_secs: self.leeway,
            allowed_issuers: self.issuers.clone(),
            allowed_audiences: self.audiences.clone(),
            max_token_age_secs: self.max_age,
            token_type: if self.access_token {
                TokenType::AccessToken
            } else {
                TokenType::Jwt
            },
            waive: Waivers {
                issuer: self.any_issuer,
                audience: self.any_audience,
            },
            ..VerificationOptions::default()
        }
    }

    /// The key set of `--jwks`.
    pub(crate) fn key_set(&self) -> Result<KeySet, Failure> {
        load_jwks(&self.jwks)
    }

    /// Loads the key set and verifies `token` at `--now` or the system time.
    pub(crate) fn verify(&self, token: &str) -> Result<VerifiedClaims, Failure> {
        let keys = load_jwks(&self.jwks)?;
        let now = self.now.unwrap_or_else(crate::keystore::now);
        Ok(keys.verify_jwt(token, &self.options(), now)?)
    }
}

fn load_jwks(path: &Path) -> Result<KeySet, Failure> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Failure::io(&path.display().to_string(), e))?;
    Ok(KeySet::from_json(&text)?)
}

pub(crate) fn run(cmd: TokenCommand) -> CmdResult {
    match cmd {
        TokenCommand::Verify(opts) => verify(&opts),
    }
}

fn verify(opts: &VerifyOpts) -> CmdResult {
    // Read one byte more than the limit allows (plus a newline), so an oversized token is
    // reported by the core's size check, without reading unbounded input.
    let limit = crmguard_core::DEFAULT_MAX_TOKEN_LEN + 2;
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit as u64)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::io("stdin", e))?;
    let token = token_text(&buf)?;
    let claims = opts.verify(token)?;
    let json = serde_json::to_string(&claims)
        .map_err(|e| Failure::new("ERR_IO", format!("serializing claims: {e}")))?;
    outln!("{json}");
    Ok(())
}

/// The token as text: stdin with at most one trailing newline removed.
pub(crate) fn token_text(buf: &[u8]) -> Result<&str, Failure> {
    let buf = buf.strip_suffix(b"\n").unwrap_or(buf);
    std::str::from_utf8(buf).map_err(|_| {
        crmguard_core::Error::from(TokenError::Malformed("the token is not UTF-8")).into()
    })
}
