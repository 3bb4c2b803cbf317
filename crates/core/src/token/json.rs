//! Strict decoding shared by headers, payloads and key sets: canonical unpadded base64url, and
//! JSON objects whose member names are unique (serde_json alone keeps the last duplicate, which
//! lets two parsers disagree about a token's `alg` or `kid`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserializer;
use serde::de::{self, MapAccess, Visitor};
use serde_json::{Map, Value};

/// Decodes canonical, unpadded base64url: no `=`, no whitespace, no other alphabet, and the
/// unused low bits of the last character must be zero (so each value has one encoding).
pub(crate) fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    // The base64 crate's URL_SAFE_NO_PAD engine refuses padding and non-zero trailing bits.
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// Encodes unpadded base64url.
#[cfg(test)]
pub(crate) fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

struct UniqueObject(Map<String, Value>);

impl<'de> de::Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueObject, A::Error> {
                let mut map = Map::new();
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    if map.contains_key(&k) {
                        return Err(de::Error::custom("duplicate member"));
                    }
                    map.insert(k, v);
                }
                Ok(UniqueObject(map))
            }
        }
        d.deserialize_map(V)
    }
}

/// Parses a JSON object whose top-level member names are unique.
pub(crate) fn unique_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<UniqueObject>(bytes)
        .ok()
        .map(|o| o.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_canonical_and_unpadded() {
        assert_eq!(b64url_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(b64url_decode("Zm8").unwrap(), b"fo");
        // Non-zero trailing bits: "Zm9" and "Zm-" decode to "fo" in lax decoders.
        assert!(b64url_decode("Zm9").is_none());
        assert!(b64url_decode("Zm-").is_none());
        assert!(b64url_decode("Zm8=").is_none());
        assert!(b64url_decode("Zm+v").is_none());
        assert!(b64url_decode("Zm/v").is_none());
        assert!(b64url_decode("Zm9v\n").is_none());
        assert!(b64url_decode("Z").is_none());
    }

    #[test]
    fn objects_must_have_unique_members() {
        assert!(unique_object(br#"{"a":1,"b":2}"#).is_some());
        assert!(unique_object(br#"{"a":1,"a":2}"#).is_none());
        assert!(unique_object(br#"[1]"#).is_none());
        assert!(unique_object(br#""a""#).is_none());
        assert!(unique_object(br#"{"a":1} x"#).is_none());
    }
}
