//! The signature examples of RFC 7515 Appendix A, RFC 7520 Section 4 and RFC 8037 A.4,
//! written from the RFCs' text, verified through [`KeySet`]. RFC 7515's examples carry
//! `exp: 1300819380` (March 2011): they verify with an injected clock and expire without one.

use serde_json::json;

use super::test_keys::{RFC7520_RSA_PRIVATE, TestSigner};
use super::*;

/// RFC 7515 A.1-A.3 share this payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
const RFC7515_PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
/// One second before the examples' exp.
const RFC7515_NOW: u64 = 1_300_819_379;
/// Long after it.
const LATER: u64 = 1_764_400_000;

const A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const A1_HEADER: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
const A1_SIG: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
const A2_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
const A2_SIG: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_HEADER: &str = "eyJhbGciOiJFUzI1NiJ9";
const A3_SIG: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

const A4_TOKEN: &str = "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";
const A4_JWK: &str = r#"{"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2"}"#;

const A5_TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";

fn set(keys: serde_json::Value) -> KeySet {
    KeySet::from_json(&json!({ "keys": keys }).to_string()).unwrap()
}

fn code<T>(r: Result<T, crate::Error>) -> &'static str {
    r.map(|_| "OK").unwrap_or_else(|e| e.code())
}

fn rfc7515_token(header: &str, sig: &str) -> String {
    format!("{header}.{RFC7515_PAYLOAD}.{sig}")
}

fn check_rfc7515_claims(v: &VerifiedClaims) {
    assert_eq!(v.issuer(), Some("joe"));
    assert_eq!(v.get("exp"), Some(&json!(1_300_819_380)));
    assert_eq!(v.get("http://example.com/is_root"), Some(&json!(true)));
}

#[test]
fn rfc7515_a1_hs256() {
    let keys = set(json!([{ "kty": "oct", "k": A1_KEY }]));
    let t = rfc7515_token(A1_HEADER, A1_SIG);
    let opts = VerificationOptions::waive_issuer_and_audience();
    let v = keys.verify_jwt(&t, &opts, RFC7515_NOW).unwrap();
    check_rfc7515_claims(&v);
    assert_eq!(v.algorithm(), Algorithm::Hs256);
    assert_eq!(code(keys.verify_jwt(&t, &opts, LATER)), "ERR_JWT_EXPIRED");
}

#[test]
fn rfc7515_a2_rs256() {
    let keys = set(json!([{ "kty": "RSA", "n": A2_N, "e": "AQAB" }]));
    let t = rfc7515_token(A2_HEADER, A2_SIG);
    let opts = VerificationOptions::waive_issuer_and_audience();
    check_rfc7515_claims(&keys.verify_jwt(&t, &opts, RFC7515_NOW).unwrap());
    assert_eq!(code(keys.verify_jwt(&t, &opts, LATER)), "ERR_JWT_EXPIRED");
    // The same key declared PS256 refuses the RS256 token: the key fixes the algorithm.
    let ps = set(json!([{ "kty": "RSA", "n": A2_N, "e": "AQAB", "alg": "PS256" }]));
    assert_eq!(
        code(ps.verify_jwt(&t, &opts, RFC7515_NOW)),
        "ERR_JOSE_ALG_NOT_ALLOWED"
    );
}

#[test]
fn rfc7515_a3_es256() {
    let keys = set(json!([{ "kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y }]));
    let t = rfc7515_token(A3_HEADER, A3_SIG);
    let opts = VerificationOptions::waive_issuer_and_audience();
    let v = keys.verify_jwt(&t, &opts, RFC7515_NOW).unwrap();
    check_rfc7515_claims(&v);
    assert_eq!(v.algorithm(), Algorithm::Es256);
    assert_eq!(code(keys.verify_jwt(&t, &opts, LATER)), "ERR_JWT_EXPIRED");
}

#[test]
fn rfc7515_a4_es512_is_not_allowed() {
    // The P-521 key is skipped (not a curve CRMGuard verifies with); the token's alg is
    // refused before any key is looked up.
    let keys = KeySet::from_json(&format!(r#"{{"keys":[{A4_JWK}]}}"#)).unwrap();
    assert_eq!((keys.len(), keys.skipped()), (0, 1));
    let opts = VerificationOptions::waive_issuer_and_audience();
    assert_eq!(
        code(keys.verify_jws(A4_TOKEN, &opts)),
        "ERR_JOSE_ALG_NOT_ALLOWED"
    );
    // Even with a usable key in the set.
    let p256 = set(json!([{ "kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y }]));
    assert_eq!(
        code(p256.verify_jws(A4_TOKEN, &opts)),
        "ERR_JOSE_ALG_NOT_ALLOWED"
    );
}

#[test]
fn rfc7515_a5_unsecured_is_not_allowed() {
    let keys = set(json!([{ "kty": "oct", "k": A1_KEY }]));
    assert_eq!(
        code(keys.verify_jwt(
            A5_TOKEN,
            &VerificationOptions::waive_issuer_and_audience(),
            RFC7515_NOW
        )),
        "ERR_JOSE_ALG_NOT_ALLOWED"
    );
}

/// RFC 7520 Figure 7/8: the payload of every Section 4 example.
const RFC7520_PAYLOAD_TEXT: &str = "It\u{2019}s a dangerous business, Frodo, going out your door. You step onto the road, and if you don't keep your feet, there\u{2019}s no knowing where you might be swept off to.";
const RFC7520_PAYLOAD: &str = "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4";

const RFC7520_41_HEADER: &str =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
const RFC7520_41_SIG: &str = "MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg";
const RFC7520_42_HEADER: &str =
    "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
const RFC7520_42_SIG: &str = "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw";
const RFC7520_43_HEADER: &str =
    "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9";
const RFC7520_43_SIG: &str = "AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2";
const RFC7520_44_HEADER: &str =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9";
const RFC7520_44_SIG: &str = "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";
/// RFC 7520 3.5.
const RFC7520_SYMMETRIC: &str = r#"{"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256","k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"}"#;
/// RFC 7520 3.1 (P-521).
const RFC7520_EC_PUBLIC: &str = r#"{"kty":"EC","crv":"P-521","kid":"bilbo.baggins@hobbiton.example","use":"sig","x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}"#;

/// RFC 7520 3.3: the public half of the 3.4 key (kid, use, n, e).
fn rfc7520_rsa_public(alg: Option<&str>) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(RFC7520_RSA_PRIVATE).unwrap();
    let m = v.as_object_mut().unwrap();
    for p in ["d", "p", "q", "dp", "dq", "qi"] {
        m.remove(p);
    }
    if let Some(alg) = alg {
        m.insert("alg".into(), json!(alg));
    }
    v
}

fn rfc7520_token(header: &str, sig: &str) -> String {
    format!("{header}.{RFC7520_PAYLOAD}.{sig}")
}

#[test]
fn rfc7520_payload_is_figure_7() {
    assert_eq!(
        super::json::b64url_decode(RFC7520_PAYLOAD).unwrap(),
        RFC7520_PAYLOAD_TEXT.as_bytes()
    );
}

#[test]
fn rfc7520_4_1_rs256() {
    let keys = set(json!([rfc7520_rsa_public(None)]));
    let t = rfc7520_token(RFC7520_41_HEADER, RFC7520_41_SIG);
    let opts = VerificationOptions::waive_issuer_and_audience();
    let v = keys.verify_jws(&t, &opts).unwrap();
    assert_eq!(v.payload(), RFC7520_PAYLOAD_TEXT.as_bytes());
    assert_eq!(v.key_id(), Some("bilbo.baggins@hobbiton.example"));
    // A JWS, not a JWT: the payload is not a claims object.
    assert_eq!(code(keys.verify_jwt(&t, &opts, LATER)), "ERR_JWT_INVALID");
    // Our signer produces the same (deterministic) PKCS#1 v1.5 signature.
    let signing_input = format!("{RFC7520_41_HEADER}.{RFC7520_PAYLOAD}");
    let ours = TestSigner::rsa().sign_raw(Algorithm::Rs256, signing_input.as_bytes());
    assert_eq!(super::json::b64url_encode(&ours), RFC7520_41_SIG);
}

#[test]
fn rfc7520_4_2_ps384() {
    let t = rfc7520_token(RFC7520_42_HEADER, RFC7520_42_SIG);
    let opts = VerificationOptions::waive_issuer_and_audience();
    // The RFC's key has no alg: an RSA key without alg is fixed to RS256, so PS384 is refused.
    let keys = set(json!([rfc7520_rsa_public(None)]));
    assert_eq!(code(keys.verify_jws(&t, &opts)), "ERR_JOSE_ALG_NOT_ALLOWED");
    // Declared PS384, the same key verifies the example.
    let keys = set(json!([rfc7520_rsa_public(Some("PS384"))]));
    assert_eq!(
        keys.verify_jws(&t, &opts).unwrap().payload(),
        RFC7520_PAYLOAD_TEXT.as_bytes()
    );
    // A flipped bit anywhere in the signing input fails.
    let tampered =
        rfc7520_token(RFC7520_42_HEADER, RFC7520_42_SIG).replacen("SXTigJlz", "SXTigJly", 1);
    assert_eq!(
        code(keys.verify_jws(&tampered, &opts)),
        "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
    );
}

#[test]
fn rfc7520_4_3_es512_is_not_allowed() {
    let keys = KeySet::from_json(&format!(r#"{{"keys":[{RFC7520_EC_PUBLIC}]}}"#)).unwrap();
    assert_eq!(keys.skipped(), 1);
    let t = rfc7520_token(RFC7520_43_HEADER, RFC7520_43_SIG);
    assert_eq!(
        code(keys.verify_jws(&t, &VerificationOptions::waive_issuer_and_audience())),
        "ERR_JOSE_ALG_NOT_ALLOWED"
    );
}

#[test]
fn rfc7520_4_4_hs256() {
    let keys = KeySet::from_json(&format!(r#"{{"keys":[{RFC7520_SYMMETRIC}]}}"#)).unwrap();
    let t = rfc7520_token(RFC7520_44_HEADER, RFC7520_44_SIG);
    let v = keys
        .verify_jws(&t, &VerificationOptions::waive_issuer_and_audience())
        .unwrap();
    assert_eq!(v.payload(), RFC7520_PAYLOAD_TEXT.as_bytes());
    assert_eq!(v.algorithm(), Algorithm::Hs256);
}

#[test]
fn rfc8037_a4_ed25519() {
    const TOKEN: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    let signer = TestSigner::ed25519();
    let keys = set(json!([signer.jwk(None, None)]));
    let v = keys
        .verify_jws(TOKEN, &VerificationOptions::waive_issuer_and_audience())
        .unwrap();
    assert_eq!(v.payload(), b"Example of Ed25519 signing");
    // Ed25519 is deterministic: our signer reproduces the RFC's signature.
    let (input, sig) = TOKEN.rsplit_once('.').unwrap();
    let ours = signer.sign_raw(Algorithm::EdDsa, input.as_bytes());
    assert_eq!(super::json::b64url_encode(&ours), sig);
}
