//! Keys and a signer for tests. The RSA, P-256 and Ed25519 private keys are the published
//! example keys of RFC 7520 3.4, RFC 7515 A.3 and RFC 8037 A.1; P-384 is generated per run.

use jwt_simple::algorithms::{
    ECDSAP256KeyPairLike, ECDSAP384KeyPairLike, ES256KeyPair, ES384KeyPair, Ed25519KeyPair,
    EdDSAKeyPairLike, HS256Key, HS384Key, HS512Key, MACLike, RS256KeyPair, RSAKeyPairLike,
};
use serde_json::{Value, json};
use superboring::hash::MessageDigest;
use superboring::pkey::{PKey, Private};
use superboring::rsa::{Padding, Rsa};
use superboring::sign::Signer;

use super::Algorithm;
use super::json::b64url_encode;

/// RFC 7520 3.4 (the RSA key of "bilbo.baggins@hobbiton.example"), 2048 bits.
pub(crate) const RFC7520_RSA_PRIVATE: &str = r#"{"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw","e":"AQAB","d":"bWUC9B-EFRIo8kpGfh0ZuyGPvMNKvYWNtB_ikiH9k20eT-O1q_I78eiZkpXxXQ0UTEs2LsNRS-8uJbvQ-A1irkwMSMkK1J3XTGgdrhCku9gRldY7sNA_AKZGh-Q661_42rINLRCe8W-nZ34ui_qOfkLnK9QWDDqpaIsA-bMwWWSDFu2MUBYwkHTMEzLYGqOe04noqeq1hExBTHBOBdkMXiuFhUq1BU6l-DqEiWxqg82sXt2h-LMnT3046AOYJoRioz75tSUQfGCshWTBnP5uDjd18kKhyv07lhfSJdrPdM5Plyl21hsFf4L_mHCuoFau7gdsPfHPxxjVOcOpBrQzwQ","p":"3Slxg_DwTXJcb6095RoXygQCAZ5RnAvZlno1yhHtnUex_fp7AZ_9nRaO7HX_-SFfGQeutao2TDjDAWU4Vupk8rw9JR0AzZ0N2fvuIAmr_WCsmGpeNqQnev1T7IyEsnh8UMt-n5CafhkikzhEsrmndH6LxOrvRJlsPp6Zv8bUq0k","q":"uKE2dh-cTf6ERF4k4e_jy78GfPYUIaUyoSSJuBzp3Cubk3OCqs6grT8bR_cu0Dm1MZwWmtdqDyI95HrUeq3MP15vMMON8lHTeZu2lmKvwqW7anV5UzhM1iZ7z4yMkuUwFWoBvyY898EXvRD-hdqRxHlSqAZ192zB3pVFJ0s7pFc","dp":"B8PVvXkvJrj2L-GYQ7v3y9r6Kw5g9SahXBwsWUzp19TVlgI-YV85q1NIb1rxQtD-IsXXR3-TanevuRPRt5OBOdiMGQp8pbt26gljYfKU_E9xn-RULHz0-ed9E9gXLKD4VGngpz-PfQ_q29pk5xWHoJp009Qf1HvChixRX59ehik","dq":"CLDmDGduhylc9o7r84rEUVn7pzQ6PF83Y-iBZx5NT-TpnOZKF1pErAMVeKzFEl41DlHHqqBLSM0W1sOFbwTxYWZDm6sI6og5iTbwQGIC3gnJKbi_7k_vJgGHwHxgPaX2PnvP-zyEkDERuf-ry4c_Z11Cq9AqC2yeL6kdKT1cYF8","qi":"3PiqvXQN0zwMeE-sBvZgi289XP9XCQF3VWqPzMKnIgQp7_Tugo6-NZBKCQsMf3HaEGBjTVJs_jcK8-TRXvaKe-7ZMaQj8VfBdYkssbu0NKDDhjJ-GtiseaDVWt7dcH0cfwxgFUHpQh7FoCrjFJ6h6ZEpMF6xmujs4qMpPz8aaI4"}"#;

/// RFC 7515 A.3 P-256 key.
pub(crate) const RFC7515_P256_PRIVATE: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#;

/// RFC 8037 A.1 Ed25519 key.
pub(crate) const RFC8037_ED25519_PRIVATE: &str = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

/// A fixed 64-byte HMAC secret for tests.
pub(crate) const HMAC_SECRET: [u8; 64] = [0x5a; 64];

/// A private key able to sign for one algorithm family.
pub(crate) enum TestSigner {
    Hmac(Vec<u8>),
    Rsa(Box<Rsa<Private>>),
    P256(Box<ES256KeyPair>),
    P384(Box<ES384KeyPair>),
    Ed25519(Box<Ed25519KeyPair>),
}

fn public_members(private_jwk: &str) -> serde_json::Map<String, Value> {
    let mut v: serde_json::Map<String, Value> = serde_json::from_str(private_jwk).unwrap();
    for m in ["d", "p", "q", "dp", "dq", "qi"] {
        v.remove(m);
    }
    v.remove("kid");
    v.remove("use");
    v
}

impl TestSigner {
    pub(crate) fn rsa() -> Self {
        let kp = RS256KeyPair::from_jwk(RFC7520_RSA_PRIVATE).unwrap();
        TestSigner::Rsa(Box::new(kp.key_pair().as_ref().clone()))
    }
    pub(crate) fn p256() -> Self {
        TestSigner::P256(Box::new(
            ES256KeyPair::from_jwk(RFC7515_P256_PRIVATE).unwrap(),
        ))
    }
    pub(crate) fn p384() -> Self {
        TestSigner::P384(Box::new(ES384KeyPair::generate()))
    }
    pub(crate) fn ed25519() -> Self {
        TestSigner::Ed25519(Box::new(
            Ed25519KeyPair::from_jwk(RFC8037_ED25519_PRIVATE).unwrap(),
        ))
    }
    pub(crate) fn hmac_with(secret: &[u8]) -> Self {
        TestSigner::Hmac(secret.to_vec())
    }
    pub(crate) fn hmac() -> Self {
        TestSigner::Hmac(HMAC_SECRET.to_vec())
    }

    /// The public JWK (or, for HMAC, the secret JWK) with `kid` and `alg` added.
    pub(crate) fn jwk(&self, kid: Option<&str>, alg: Option<Algorithm>) -> Value {
        let mut m = match self {
            TestSigner::Hmac(k) => {
                let mut m = serde_json::Map::new();
                m.insert("kty".into(), json!("oct"));
                m.insert("k".into(), json!(b64url_encode(k)));
                m
            }
            TestSigner::Rsa(_) => public_members(RFC7520_RSA_PRIVATE),
            TestSigner::P256(_) => public_members(RFC7515_P256_PRIVATE),
            TestSigner::P384(kp) => serde_json::from_str(&kp.public_key().to_jwk()).unwrap(),
            TestSigner::Ed25519(_) => public_members(RFC8037_ED25519_PRIVATE),
        };
        m.remove("alg");
        m.remove("use");
        m.remove("kid");
        if let Some(kid) = kid {
            m.insert("kid".into(), json!(kid));
        }
        if let Some(alg) = alg {
            m.insert("alg".into(), json!(alg.name()));
        }
        Value::Object(m)
    }

    /// Signs `message` with `alg` (which must fit the key).
    pub(crate) fn sign_raw(&self, alg: Algorithm, message: &[u8]) -> Vec<u8> {
        match (self, alg) {
            (TestSigner::Hmac(k), Algorithm::Hs256) => {
                HS256Key::from_bytes(k).authentication_tag(message)
            }
            (TestSigner::Hmac(k), Algorithm::Hs384) => {
                HS384Key::from_bytes(k).authentication_tag(message)
            }
            (TestSigner::Hmac(k), Algorithm::Hs512) => {
                HS512Key::from_bytes(k).authentication_tag(message)
            }
            (TestSigner::Rsa(rsa), alg) => {
                let (md, pad) = match alg {
                    Algorithm::Rs256 => (MessageDigest::sha256(), Padding::PKCS1),
                    Algorithm::Rs384 => (MessageDigest::sha384(), Padding::PKCS1),
                    Algorithm::Rs512 => (MessageDigest::sha512(), Padding::PKCS1),
                    Algorithm::Ps256 => (MessageDigest::sha256(), Padding::PKCS1_PSS),
                    Algorithm::Ps384 => (MessageDigest::sha384(), Padding::PKCS1_PSS),
                    Algorithm::Ps512 => (MessageDigest::sha512(), Padding::PKCS1_PSS),
                    _ => panic!("not an RSA algorithm"),
                };
                let pkey = PKey::from_rsa((**rsa).clone()).unwrap();
                let mut s = Signer::new(md, &pkey).unwrap();
                s.set_rsa_padding(pad).unwrap();
                s.update(message).unwrap();
                s.sign_to_vec().unwrap()
            }
            (TestSigner::P256(kp), Algorithm::Es256) => {
                use p256::ecdsa::signature::Signer as _;
                let sig: p256::ecdsa::Signature = kp.key_pair().as_ref().sign(message);
                sig.to_bytes().to_vec()
            }
            (TestSigner::P384(kp), Algorithm::Es384) => {
                use p384::ecdsa::signature::Signer as _;
                let sig: p384::ecdsa::Signature = kp.key_pair().as_ref().sign(message);
                sig.to_bytes().to_vec()
            }
            (TestSigner::Ed25519(kp), Algorithm::EdDsa) => {
                kp.key_pair().as_ref().sk.sign(message, None).to_vec()
            }
            _ => panic!("algorithm does not fit the test key"),
        }
    }

    /// A compact JWS over the given header and payload JSON texts.
    pub(crate) fn token(&self, alg: Algorithm, header: &str, payload: &str) -> String {
        let input = format!(
            "{}.{}",
            b64url_encode(header.as_bytes()),
            b64url_encode(payload.as_bytes())
        );
        let sig = self.sign_raw(alg, input.as_bytes());
        format!("{input}.{}", b64url_encode(&sig))
    }
}

/// A key set document holding the given JWKs.
pub(crate) fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// `claims` (with `exp` far ahead when absent) as they come out of verifying an HS256 token
/// signed with the test secret: for tests of code that takes [`crate::VerifiedClaims`].
pub(crate) fn hs256_verified(claims: &Value) -> crate::VerifiedClaims {
    let signer = TestSigner::hmac();
    let mut claims = claims.clone();
    if let Some(map) = claims.as_object_mut() {
        map.entry("exp").or_insert(json!(4_000_000_000u64));
    }
    let token = signer.token(
        Algorithm::Hs256,
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &claims.to_string(),
    );
    let keys = crate::KeySet::from_json(&jwks(&[signer.jwk(None, Some(Algorithm::Hs256))]))
        .expect("the test key set parses");
    keys.verify_jwt(
        &token,
        &crate::VerificationOptions::waive_issuer_and_audience(),
        1_764_400_000,
    )
    .expect("the test token verifies")
}
