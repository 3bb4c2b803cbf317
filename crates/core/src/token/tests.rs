//! Token verification: a table of hostile tokens (one row per rejection rule, each with its
//! stable code), key-set rules, and property tests on the time windows.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::json::b64url_encode;
use super::test_keys::{TestSigner, jwks};
use super::*;
use crate::ERROR_CODES;

const NOW: u64 = 1_764_400_000;

fn claims(extra: Value) -> String {
    let mut base = json!({ "iss": "https://idp.example", "sub": "u-1", "aud": "crm", "exp": NOW + 600, "iat": NOW - 10 });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base.to_string()
}

fn code(r: Result<VerifiedClaims, crate::Error>) -> &'static str {
    match r {
        Ok(_) => "OK",
        Err(e) => e.code(),
    }
}

/// The code, followed by jose's `claim:reason` when the error names a claim
/// (`ERR_JWT_CLAIM_VALIDATION_FAILED aud:missing`).
fn outcome(r: Result<VerifiedClaims, crate::Error>) -> String {
    match r {
        Ok(_) => "OK".to_owned(),
        Err(crate::Error::Token(e)) => match (e.claim(), e.reason()) {
            (Some(claim), Some(reason)) => format!("{} {claim}:{reason}", e.code()),
            _ => e.code().to_owned(),
        },
        Err(e) => e.code().to_owned(),
    }
}

/// Flips the encoding of the last character of a base64url segment to a non-canonical one
/// (same decoded bytes in lax decoders: only the unused low bits change).
fn non_canonical(seg: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let unused_bits = match seg.len() % 4 {
        2 => 4,
        3 => 2,
        _ => panic!("segment length has no unused bits"),
    };
    let last = *seg.as_bytes().last().unwrap();
    let idx = ALPHABET.iter().position(|&c| c == last).unwrap();
    let new = ALPHABET[idx | ((1 << unused_bits) - 1)];
    assert_ne!(new, last);
    format!("{}{}", &seg[..seg.len() - 1], new as char)
}

/// DER encoding of a 64-byte r || s ECDSA signature.
fn der_signature(raw: &[u8]) -> Vec<u8> {
    fn int(x: &[u8]) -> Vec<u8> {
        let mut x: Vec<u8> = x.iter().copied().skip_while(|&b| b == 0).collect();
        if x.first().is_some_and(|&b| b & 0x80 != 0) {
            x.insert(0, 0);
        }
        let mut out = vec![0x02, x.len() as u8];
        out.extend(x);
        out
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

struct Fixture {
    rsa: TestSigner,
    p256: TestSigner,
    hmac: TestSigner,
    asym: KeySet,
    sym: KeySet,
    opts: VerificationOptions,
}

fn fixture() -> Fixture {
    let rsa = TestSigner::rsa();
    let p256 = TestSigner::p256();
    let hmac = TestSigner::hmac();
    let asym = KeySet::from_json(&jwks(&[
        rsa.jwk(Some("rsa-1"), Some(Algorithm::Rs256)),
        p256.jwk(Some("ec-1"), None),
    ]))
    .unwrap();
    let sym = KeySet::from_json(&jwks(&[hmac.jwk(Some("hs-1"), Some(Algorithm::Hs256))])).unwrap();
    let opts = VerificationOptions {
        allowed_issuers: vec!["https://idp.example".into()],
        allowed_audiences: vec!["crm".into()],
        ..VerificationOptions::default()
    };
    Fixture {
        rsa,
        p256,
        hmac,
        asym,
        sym,
        opts,
    }
}

#[test]
fn valid_tokens_verify_for_each_key_type() {
    let f = fixture();
    let t = f.rsa.token(
        Algorithm::Rs256,
        r#"{"alg":"RS256","kid":"rsa-1"}"#,
        &claims(json!({})),
    );
    let v = f.asym.verify_jwt(&t, &f.opts, NOW).unwrap();
    assert_eq!(v.subject(), Some("u-1"));
    assert_eq!(v.algorithm(), Algorithm::Rs256);
    assert_eq!(v.key_id(), Some("rsa-1"));
    let t = f.p256.token(
        Algorithm::Es256,
        r#"{"alg":"ES256","kid":"ec-1","typ":"JWT"}"#,
        &claims(json!({})),
    );
    assert_eq!(code(f.asym.verify_jwt(&t, &f.opts, NOW)), "OK");
    let t = f
        .hmac
        .token(Algorithm::Hs256, r#"{"alg":"HS256"}"#, &claims(json!({})));
    assert_eq!(code(f.sym.verify_jwt(&t, &f.opts, NOW)), "OK");
}

#[test]
fn every_algorithm_round_trips_and_a_flipped_bit_fails() {
    let cases = [
        (
            TestSigner::hmac(),
            vec![Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512],
        ),
        (
            TestSigner::rsa(),
            vec![
                Algorithm::Rs256,
                Algorithm::Rs384,
                Algorithm::Rs512,
                Algorithm::Ps256,
                Algorithm::Ps384,
                Algorithm::Ps512,
            ],
        ),
        (TestSigner::p256(), vec![Algorithm::Es256]),
        (TestSigner::p384(), vec![Algorithm::Es384]),
        (TestSigner::ed25519(), vec![Algorithm::EdDsa]),
    ];
    let mut ran = 0;
    for (signer, algs) in &cases {
        for &alg in algs {
            let set = KeySet::from_json(&jwks(&[signer.jwk(Some("k"), Some(alg))])).unwrap();
            let header = format!(r#"{{"alg":"{}","kid":"k"}}"#, alg.name());
            let t = signer.token(alg, &header, &claims(json!({})));
            let v = set
                .verify_jwt(&t, &VerificationOptions::waive_issuer_and_audience(), NOW)
                .unwrap();
            assert_eq!(v.algorithm(), alg);
            let mut seg = segments(&t);
            let mut sig = super::json::b64url_decode(&seg[2]).unwrap();
            sig[3] ^= 0x01;
            seg[2] = b64url_encode(&sig);
            assert_eq!(
                code(set.verify_jwt(
                    &seg.join("."),
                    &VerificationOptions::waive_issuer_and_audience(),
                    NOW
                )),
                "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
                "{alg}"
            );
            ran += 1;
        }
    }
    assert_eq!(ran, Algorithm::ALL.len());
}

#[test]
fn hostile_tokens_are_rejected_with_their_codes() {
    let f = fixture();
    let ok = claims(json!({}));
    let rsa_ok = f
        .rsa
        .token(Algorithm::Rs256, r#"{"alg":"RS256","kid":"rsa-1"}"#, &ok);
    let es_ok = f
        .p256
        .token(Algorithm::Es256, r#"{"alg":"ES256","kid":"ec-1"}"#, &ok);
    let hs_ok = f
        .hmac
        .token(Algorithm::Hs256, r#"{"alg":"HS256","kid":"hs-1"}"#, &ok);
    let h = |json: &str| b64url_encode(json.as_bytes());
    let p = h(&ok);

    // HS256 "signed" with the RSA / EC public key as the HMAC secret (key confusion).
    let rsa_pub_as_secret =
        TestSigner::Hmac(f.rsa.jwk(Some("rsa-1"), None).to_string().into_bytes());
    let ec_pub_as_secret =
        TestSigner::Hmac(f.p256.jwk(Some("ec-1"), None).to_string().into_bytes());
    // A genuine PS256 signature by the RSA key, but the key is fixed to RS256.
    let ps_relabel = f
        .rsa
        .token(Algorithm::Ps256, r#"{"alg":"PS256","kid":"rsa-1"}"#, &ok);
    // The same RS256 signature with the header's alg changed to PS256.
    let relabel_header = {
        let s = segments(&rsa_ok);
        format!(
            "{}.{}.{}",
            h(r#"{"alg":"PS256","kid":"rsa-1"}"#),
            s[1],
            s[2]
        )
    };
    let es_der = {
        let s = segments(&es_ok);
        let raw = super::json::b64url_decode(&s[2]).unwrap();
        format!("{}.{}.{}", s[0], s[1], b64url_encode(&der_signature(&raw)))
    };
    let hs = |header: &str| f.hmac.token(Algorithm::Hs256, header, &ok);
    let hs_payload = |payload: &str| {
        f.hmac
            .token(Algorithm::Hs256, r#"{"alg":"HS256","kid":"hs-1"}"#, payload)
    };
    let big = format!(
        "{}.{}.{}",
        h(r#"{"alg":"HS256"}"#),
        "A".repeat(DEFAULT_MAX_TOKEN_LEN),
        "AAAA"
    );
    let s = segments(&hs_ok);

    let rows: Vec<(&str, &KeySet, String, &str)> = vec![
        (
            "alg none, empty signature",
            &f.sym,
            format!("{}.{p}.", h(r#"{"alg":"none"}"#)),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "alg none, with a signature",
            &f.sym,
            format!("{}.{p}.{}", h(r#"{"alg":"none","kid":"hs-1"}"#), s[2]),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "alg NONE",
            &f.sym,
            format!("{}.{p}.{}", h(r#"{"alg":"NONE"}"#), s[2]),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "alg missing",
            &f.sym,
            format!("{}.{p}.{}", h(r#"{"kid":"hs-1"}"#), s[2]),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "alg not a string",
            &f.sym,
            format!("{}.{p}.{}", h(r#"{"alg":["HS256"]}"#), s[2]),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "lower-case hs256",
            &f.sym,
            hs(r#"{"alg":"hs256","kid":"hs-1"}"#),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "lower-case rs256",
            &f.asym,
            format!(
                "{}.{}.{}",
                h(r#"{"alg":"rs256","kid":"rsa-1"}"#),
                segments(&rsa_ok)[1],
                segments(&rsa_ok)[2]
            ),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "unsupported ES512",
            &f.asym,
            format!("{}.{p}.{}", h(r#"{"alg":"ES512","kid":"ec-1"}"#), s[2]),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "HS256 with the RSA public key as secret",
            &f.asym,
            rsa_pub_as_secret.token(Algorithm::Hs256, r#"{"alg":"HS256","kid":"rsa-1"}"#, &ok),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "HS256 with the EC public key as secret",
            &f.asym,
            ec_pub_as_secret.token(Algorithm::Hs256, r#"{"alg":"HS256","kid":"ec-1"}"#, &ok),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "RS256 key, genuine PS256 signature",
            &f.asym,
            ps_relabel,
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "RS256 signature relabelled PS256",
            &f.asym,
            relabel_header,
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "ES256 header on the RSA key",
            &f.asym,
            format!(
                "{}.{}.{}",
                h(r#"{"alg":"ES256","kid":"rsa-1"}"#),
                segments(&es_ok)[1],
                segments(&es_ok)[2]
            ),
            "ERR_JOSE_ALG_NOT_ALLOWED",
        ),
        (
            "unknown kid",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":"nope"}"#),
            "ERR_JWKS_NO_MATCHING_KEY",
        ),
        (
            "no kid, two keys",
            &f.asym,
            f.rsa.token(Algorithm::Rs256, r#"{"alg":"RS256"}"#, &ok),
            "ERR_JWKS_NO_MATCHING_KEY",
        ),
        (
            "kid not a string",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":7}"#),
            "ERR_JWT_INVALID",
        ),
        (
            "jwk header",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":"hs-1","jwk":{"kty":"oct","k":"AAAA"}}"#),
            "ERR_JWS_KEY_IN_HEADER",
        ),
        (
            "jku header",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":"hs-1","jku":"https://evil.example/jwks"}"#),
            "ERR_JWS_KEY_IN_HEADER",
        ),
        (
            "x5u header",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":"hs-1","x5u":"https://evil.example/cert"}"#),
            "ERR_JWS_KEY_IN_HEADER",
        ),
        (
            "x5c header",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":"hs-1","x5c":["MIIB"]}"#),
            "ERR_JWS_KEY_IN_HEADER",
        ),
        (
            "crit with an unknown entry",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":"hs-1","crit":["exp"],"exp":1}"#),
            "ERR_JWS_CRIT",
        ),
        (
            "crit empty",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":"hs-1","crit":[]}"#),
            "ERR_JWS_CRIT",
        ),
        (
            "b64 false",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":"hs-1","b64":false,"crit":["b64"]}"#),
            "ERR_JWS_B64",
        ),
        (
            "b64 not a boolean",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":"hs-1","b64":"false"}"#),
            "ERR_JWS_B64",
        ),
        ("over 64 KiB", &f.sym, big, "ERR_JWT_TOO_LARGE"),
        (
            "non-canonical base64url header",
            &f.sym,
            format!("{}.{}.{}", non_canonical(&s[0]), s[1], s[2]),
            "ERR_JWT_INVALID",
        ),
        (
            "non-canonical base64url signature",
            &f.sym,
            format!("{}.{}.{}", s[0], s[1], non_canonical(&s[2])),
            "ERR_JWT_INVALID",
        ),
        (
            "padded base64",
            &f.sym,
            format!("{}.{}.{}=", s[0], s[1], s[2]),
            "ERR_JWT_INVALID",
        ),
        (
            "standard-alphabet base64",
            &f.sym,
            format!("{}.{}.{}", s[0], s[1], s[2].replace(['-', '_'], "+")),
            "ERR_JWT_INVALID",
        ),
        (
            "whitespace",
            &f.sym,
            format!("{}.{} .{}", s[0], s[1], s[2]),
            "ERR_JWT_INVALID",
        ),
        (
            "ECDSA signature in DER",
            &f.asym,
            es_der,
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        ),
        (
            "JWE, five segments",
            &f.sym,
            format!(
                "{}.AAAA.AAAA.AAAA.AAAA",
                h(r#"{"alg":"dir","enc":"A256GCM"}"#)
            ),
            "ERR_JWT_INVALID",
        ),
        (
            "two segments",
            &f.sym,
            format!("{}.{}", s[0], s[1]),
            "ERR_JWT_INVALID",
        ),
        (
            "four segments",
            &f.sym,
            format!("{hs_ok}.AAAA"),
            "ERR_JWT_INVALID",
        ),
        (
            "empty signature",
            &f.sym,
            format!("{}.{}.", s[0], s[1]),
            "ERR_JWT_INVALID",
        ),
        ("empty token", &f.sym, String::new(), "ERR_JWT_INVALID"),
        (
            "duplicate alg in header",
            &f.sym,
            hs(r#"{"alg":"HS256","kid":"hs-1","alg":"none"}"#),
            "ERR_JWT_INVALID",
        ),
        (
            "header not an object",
            &f.sym,
            hs(r#"["HS256"]"#),
            "ERR_JWT_INVALID",
        ),
        (
            "tampered payload",
            &f.sym,
            format!("{}.{}.{}", s[0], h(&claims(json!({"sub": "admin"}))), s[2]),
            "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
        ),
        (
            "payload not JSON",
            &f.sym,
            hs_payload("not json"),
            "ERR_JWT_INVALID",
        ),
        (
            "duplicate claim",
            &f.sym,
            hs_payload(
                r#"{"exp":9999999999,"sub":"a","sub":"b","iss":"https://idp.example","aud":"crm"}"#,
            ),
            "ERR_JWT_INVALID",
        ),
        (
            "expired",
            &f.sym,
            hs_payload(&claims(json!({"exp": NOW - 61}))),
            "ERR_JWT_EXPIRED exp:check_failed",
        ),
        (
            "not yet valid (nbf)",
            &f.sym,
            hs_payload(&claims(json!({"nbf": NOW + 61}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED nbf:check_failed",
        ),
        (
            "issued in the future (iat)",
            &f.sym,
            hs_payload(&claims(json!({"iat": NOW + 61}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED iat:check_failed",
        ),
        (
            "exp missing",
            &f.sym,
            hs_payload(&claims(json!({"exp": null}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED exp:missing",
        ),
        (
            "exp a string",
            &f.sym,
            hs_payload(&claims(json!({"exp": "9999999999"}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED exp:invalid",
        ),
        (
            "nbf a boolean",
            &f.sym,
            hs_payload(&claims(json!({"nbf": true}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED nbf:invalid",
        ),
        (
            "iss missing",
            &f.sym,
            hs_payload(&claims(json!({"iss": null}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED iss:missing",
        ),
        (
            "iss not allowed",
            &f.sym,
            hs_payload(&claims(json!({"iss": "https://evil.example"}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED iss:check_failed",
        ),
        (
            "aud missing",
            &f.sym,
            hs_payload(&claims(json!({"aud": null}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED aud:missing",
        ),
        (
            "aud not allowed",
            &f.sym,
            hs_payload(&claims(json!({"aud": "billing"}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED aud:check_failed",
        ),
        (
            "aud array without ours",
            &f.sym,
            hs_payload(&claims(json!({"aud": ["billing", "hr"]}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED aud:check_failed",
        ),
        (
            "aud array with a number",
            &f.sym,
            hs_payload(&claims(json!({"aud": ["crm", 5]}))),
            "ERR_JWT_CLAIM_VALIDATION_FAILED aud:invalid",
        ),
    ];
    let mut ran = 0;
    for (name, set, token, want) in &rows {
        let got = outcome(set.verify_jwt(token, &f.opts, NOW));
        assert_eq!(got, *want, "{name}");
        let want_code = want.split(' ').next().unwrap();
        assert!(
            ERROR_CODES.contains(&want_code),
            "{want} is not in ERROR_CODES"
        );
        ran += 1;
    }
    assert_eq!(ran, 53);
}

#[test]
fn size_limit_is_checked_before_parsing() {
    let f = fixture();
    let t = f
        .hmac
        .token(Algorithm::Hs256, r#"{"alg":"HS256"}"#, &claims(json!({})));
    let tight = VerificationOptions {
        max_token_len: t.len() - 1,
        ..f.opts.clone()
    };
    assert_eq!(code(f.sym.verify_jwt(&t, &tight, NOW)), "ERR_JWT_TOO_LARGE");
    // Garbage over the limit is refused as too large, not as malformed.
    let garbage = "\u{0}".repeat(t.len());
    assert_eq!(
        code(f.sym.verify_jwt(&garbage, &tight, NOW)),
        "ERR_JWT_TOO_LARGE"
    );
    let exact = VerificationOptions {
        max_token_len: t.len(),
        ..f.opts.clone()
    };
    assert_eq!(code(f.sym.verify_jwt(&t, &exact, NOW)), "OK");
}

#[test]
fn max_token_age() {
    let f = fixture();
    let opts = VerificationOptions {
        max_token_age_secs: Some(3600),
        ..f.opts.clone()
    };
    let t = |iat: Value| {
        f.hmac.token(
            Algorithm::Hs256,
            r#"{"alg":"HS256"}"#,
            &claims(json!({ "iat": iat })),
        )
    };
    assert_eq!(
        code(f.sym.verify_jwt(&t(json!(NOW - 3600)), &opts, NOW)),
        "OK"
    );
    assert_eq!(
        outcome(f.sym.verify_jwt(&t(json!(NOW - 3600 - 61)), &opts, NOW)),
        "ERR_JWT_EXPIRED iat:check_failed"
    );
    assert_eq!(
        outcome(f.sym.verify_jwt(&t(Value::Null), &opts, NOW)),
        "ERR_JWT_CLAIM_VALIDATION_FAILED iat:missing"
    );
}

#[test]
fn exp_can_be_optional_and_fractional() {
    let f = fixture();
    let lax = VerificationOptions {
        require_exp: false,
        ..f.opts.clone()
    };
    let t = f.hmac.token(
        Algorithm::Hs256,
        r#"{"alg":"HS256"}"#,
        &claims(json!({"exp": null})),
    );
    assert_eq!(code(f.sym.verify_jwt(&t, &lax, NOW)), "OK");
    let t = f.hmac.token(
        Algorithm::Hs256,
        r#"{"alg":"HS256"}"#,
        &claims(json!({"exp": (NOW as f64) - 59.5})),
    );
    assert_eq!(code(f.sym.verify_jwt(&t, &f.opts, NOW)), "OK");
    let t = f.hmac.token(
        Algorithm::Hs256,
        r#"{"alg":"HS256"}"#,
        &claims(json!({"exp": (NOW as f64) - 60.5})),
    );
    assert_eq!(code(f.sym.verify_jwt(&t, &f.opts, NOW)), "ERR_JWT_EXPIRED");
}

#[test]
fn key_set_rules() {
    let rsa = TestSigner::rsa();
    let p256 = TestSigner::p256();
    let hmac = TestSigner::hmac();
    let load = |keys: &[Value]| {
        KeySet::from_json(&jwks(keys))
            .map(|_| "OK")
            .unwrap_or_else(|e| e.code())
    };
    // Mixed symmetric and asymmetric keys.
    assert_eq!(
        load(&[hmac.jwk(Some("a"), None), p256.jwk(Some("b"), None)]),
        "ERR_JWKS_INVALID"
    );
    // Duplicate kid.
    assert_eq!(
        load(&[rsa.jwk(Some("a"), None), p256.jwk(Some("a"), None)]),
        "ERR_JWKS_INVALID"
    );
    // HMAC secrets shorter than the hash.
    let short = |n: usize, alg| TestSigner::Hmac(vec![7; n]).jwk(None, Some(alg));
    assert_eq!(load(&[short(31, Algorithm::Hs256)]), "ERR_JWKS_WEAK_KEY");
    assert_eq!(load(&[short(32, Algorithm::Hs256)]), "OK");
    assert_eq!(load(&[short(47, Algorithm::Hs384)]), "ERR_JWKS_WEAK_KEY");
    assert_eq!(load(&[short(63, Algorithm::Hs512)]), "ERR_JWKS_WEAK_KEY");
    assert_eq!(load(&[short(64, Algorithm::Hs512)]), "OK");
    // alg that contradicts the key type or curve.
    assert_eq!(
        load(&[rsa.jwk(None, Some(Algorithm::Es256))]),
        "ERR_JWKS_INVALID"
    );
    assert_eq!(
        load(&[p256.jwk(None, Some(Algorithm::Es384))]),
        "ERR_JWKS_INVALID"
    );
    assert_eq!(
        load(&[hmac.jwk(None, Some(Algorithm::Rs256))]),
        "ERR_JWKS_INVALID"
    );
    // Private material in a verification set.
    let mut private: Value = serde_json::from_str(super::test_keys::RFC7515_P256_PRIVATE).unwrap();
    assert_eq!(load(&[private.clone()]), "ERR_JWKS_INVALID");
    private.as_object_mut().unwrap().remove("d");
    assert_eq!(load(&[private]), "OK");
    // An oct key with members of other key types.
    let mut odd = hmac.jwk(None, None);
    odd["n"] = json!("AQAB");
    assert_eq!(load(&[odd]), "ERR_JWKS_INVALID");
    // Not a key set.
    assert_eq!(
        KeySet::from_json("[]").unwrap_err().code(),
        "ERR_JWKS_INVALID"
    );
    assert_eq!(
        KeySet::from_json(r#"{"keys":{}}"#).unwrap_err().code(),
        "ERR_JWKS_INVALID"
    );
    assert_eq!(
        KeySet::from_json(r#"{"keys":[],"keys":[]}"#)
            .unwrap_err()
            .code(),
        "ERR_JWKS_INVALID"
    );
    assert_eq!(
        KeySet::from_json(&" ".repeat(MAX_KEY_SET_LEN + 1))
            .unwrap_err()
            .code(),
        "ERR_JWKS_INVALID"
    );
    // Skipped, not refused: encryption keys, algorithms and curves we do not verify with.
    let set = KeySet::from_json(&jwks(&[
        rsa.jwk(Some("sig"), None),
        json!({"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}),
        json!({"kty": "RSA", "alg": "RSA-OAEP-256", "n": "AQAB", "e": "AQAB"}),
        json!({"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}),
        json!({"kty": "OKP", "crv": "X25519", "x": "AA"}),
        json!({"kty": "RSA", "key_ops": ["encrypt"], "n": "AQAB", "e": "AQAB"}),
    ]))
    .unwrap();
    assert_eq!((set.len(), set.skipped()), (1, 5));
    assert_eq!(
        set.key_summary(),
        vec![(Some("sig".to_owned()), Algorithm::Rs256)]
    );
}

#[test]
fn debug_output_holds_no_key_material() {
    let hmac = TestSigner::hmac();
    let set = KeySet::from_json(&jwks(&[hmac.jwk(Some("hs"), None)])).unwrap();
    let dbg = format!("{set:?}");
    assert!(dbg.contains("<redacted>") && dbg.contains("hs"));
    let secret = b64url_encode(&super::test_keys::HMAC_SECRET);
    assert!(!dbg.contains(&secret[..16]));
    assert!(!dbg.contains("90, 90, 90"), "{dbg}");
    // Error messages name keys by position and kid only.
    let weak = KeySet::from_json(&jwks(&[
        TestSigner::Hmac(vec![0x41; 16]).jwk(Some("w"), None)
    ]))
    .unwrap_err();
    assert!(!weak.to_string().contains("QUFB"), "{weak}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// exp is honoured exactly at the edge of the (capped) leeway.
    #[test]
    fn exp_window(exp_offset in -1000i64..1000, leeway in 0u64..900) {
        let f = fixture();
        let exp = NOW as i64 + exp_offset;
        let opts = VerificationOptions { leeway_secs: leeway, ..f.opts.clone() };
        let t = f.hmac.token(Algorithm::Hs256, r#"{"alg":"HS256"}"#, &claims(json!({"exp": exp})));
        let l = leeway.min(MAX_LEEWAY_SECS) as i64;
        let want = if (NOW as i64) < exp + l { "OK" } else { "ERR_JWT_EXPIRED" };
        prop_assert_eq!(code(f.sym.verify_jwt(&t, &opts, NOW)), want);
    }

    /// nbf and iat may be at most the (capped) leeway in the future.
    #[test]
    fn nbf_and_iat_window(offset in -1000i64..1000, leeway in 0u64..900, use_iat in any::<bool>()) {
        let f = fixture();
        let at = NOW as i64 + offset;
        let opts = VerificationOptions { leeway_secs: leeway, ..f.opts.clone() };
        let extra = if use_iat { json!({"iat": at}) } else { json!({"nbf": at, "iat": null}) };
        let t = f.hmac.token(Algorithm::Hs256, r#"{"alg":"HS256"}"#, &claims(extra));
        let l = leeway.min(MAX_LEEWAY_SECS) as i64;
        let claim = if use_iat { "iat" } else { "nbf" };
        let want = if NOW as i64 + l >= at {
            "OK".to_owned()
        } else {
            format!("ERR_JWT_CLAIM_VALIDATION_FAILED {claim}:check_failed")
        };
        prop_assert_eq!(outcome(f.sym.verify_jwt(&t, &opts, NOW)), want);
    }

    /// Whatever the clock, a token is accepted for exactly exp - nbf + 2 * leeway seconds.
    #[test]
    fn validity_interval(nbf_offset in -500i64..500, lifetime in 1i64..2000, now_offset in -3000i64..3000) {
        let f = fixture();
        let nbf = NOW as i64 + nbf_offset;
        let exp = nbf + lifetime;
        let now = (NOW as i64 + now_offset) as u64;
        let t = f.hmac.token(Algorithm::Hs256, r#"{"alg":"HS256"}"#, &claims(json!({"nbf": nbf, "exp": exp, "iat": null})));
        let l = DEFAULT_LEEWAY_SECS as i64;
        let inside = (now as i64) + l >= nbf && (now as i64) < exp + l;
        prop_assert_eq!(f.sym.verify_jwt(&t, &f.opts, now).is_ok(), inside);
    }

    /// Arbitrary strings never panic the verifier and never verify.
    #[test]
    fn garbage_never_verifies(s in "[A-Za-z0-9_.=+/-]{0,200}") {
        let f = fixture();
        prop_assert!(f.sym.verify_jwt(&s, &f.opts, NOW).is_err());
    }
}

#[test]
fn issuer_and_audience_are_required_unless_waived() {
    // Before: an empty list meant "not checked", so a deployment that forgot --issuer
    // accepted tokens of any issuer, and one that forgot --audience tokens for any API.
    let f = fixture();
    let t = f
        .hmac
        .token(Algorithm::Hs256, r#"{"alg":"HS256"}"#, &claims(json!({})));
    let default = VerificationOptions::default();
    assert_eq!(code(f.sym.verify_jwt(&t, &default, NOW)), "ERR_JWT_OPTIONS");
    let issuer_only = VerificationOptions {
        allowed_issuers: vec!["https://idp.example".into()],
        ..VerificationOptions::default()
    };
    assert_eq!(
        code(f.sym.verify_jwt(&t, &issuer_only, NOW)),
        "ERR_JWT_OPTIONS"
    );
    let waived = VerificationOptions {
        waive: super::Waivers {
            audience: true,
            ..super::Waivers::default()
        },
        ..issuer_only
    };
    assert_eq!(code(f.sym.verify_jwt(&t, &waived, NOW)), "OK");
    assert_eq!(code(f.sym.verify_jwt(&t, &f.opts, NOW)), "OK");
    assert_eq!(
        code(
            f.sym
                .verify_jwt(&t, &VerificationOptions::waive_issuer_and_audience(), NOW)
        ),
        "OK"
    );
}

#[test]
fn typ_says_what_kind_of_token_it_is() {
    let f = fixture();
    let with_typ = |typ: Option<&str>| {
        let header = match typ {
            Some(t) => format!(r#"{{"alg":"HS256","typ":"{t}"}}"#),
            None => r#"{"alg":"HS256"}"#.to_owned(),
        };
        f.hmac.token(Algorithm::Hs256, &header, &claims(json!({})))
    };
    let access = VerificationOptions {
        token_type: super::TokenType::AccessToken,
        ..f.opts.clone()
    };
    let mut ran = 0;
    // jose reports a typ it does not accept as a claim validation failure on "typ".
    const TYP: &str = "ERR_JWT_CLAIM_VALIDATION_FAILED typ:check_failed";
    for (typ, default, rfc9068) in [
        (None, "OK", TYP),
        (Some("JWT"), "OK", TYP),
        (Some("application/jwt"), "OK", TYP),
        (Some("at+jwt"), "OK", "OK"),
        (Some("application/AT+JWT"), "OK", "OK"),
        (Some("dpop+jwt"), TYP, TYP),
        (Some("logout+jwt"), TYP, TYP),
        (Some("secevent+jwt"), TYP, TYP),
    ] {
        let t = with_typ(typ);
        assert_eq!(
            outcome(f.sym.verify_jwt(&t, &f.opts, NOW)),
            default,
            "{typ:?}"
        );
        assert_eq!(
            outcome(f.sym.verify_jwt(&t, &access, NOW)),
            rfc9068,
            "{typ:?}"
        );
        ran += 1;
    }
    assert_eq!(ran, 8);
    let numeric = f.hmac.token(
        Algorithm::Hs256,
        r#"{"alg":"HS256","typ":7}"#,
        &claims(json!({})),
    );
    assert_eq!(
        code(f.sym.verify_jwt(&numeric, &f.opts, NOW)),
        "ERR_JWT_INVALID"
    );
}
