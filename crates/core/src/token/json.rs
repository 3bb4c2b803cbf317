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

/// A JSON value in which no object, at any depth, has two members of one name (RFC 7515 4 and
/// RFC 7517 4 call such documents invalid; a last-one-wins parser lets two readers of one JWK
/// disagree about its key).
struct UniqueValue(Value);

impl<'de> de::Deserialize<'de> for UniqueValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueValue;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<UniqueValue, E> {
                Ok(UniqueValue(Value::Bool(b)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<UniqueValue, E> {
                Ok(UniqueValue(Value::from(n)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<UniqueValue, E> {
                Ok(UniqueValue(Value::from(n)))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<UniqueValue, E> {
                serde_json::Number::from_f64(n)
                    .map(|n| UniqueValue(Value::Number(n)))
                    .ok_or_else(|| de::Error::custom("not a finite number"))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<UniqueValue, E> {
                Ok(UniqueValue(Value::String(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<UniqueValue, E> {
                Ok(UniqueValue(Value::String(s)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<UniqueValue, E> {
                Ok(UniqueValue(Value::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<UniqueValue, E> {
                Ok(UniqueValue(Value::Null))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<UniqueValue, A::Error> {
                let mut items = Vec::new();
                while let Some(UniqueValue(v)) = seq.next_element()? {
                    items.push(v);
                }
                Ok(UniqueValue(Value::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueValue, A::Error> {
                let mut map = Map::new();
                while let Some((k, UniqueValue(v))) = access.next_entry::<String, UniqueValue>()? {
                    if map.contains_key(&k) {
                        return Err(de::Error::custom("duplicate member"));
                    }
                    map.insert(k, v);
                }
                Ok(UniqueValue(Value::Object(map)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses a JSON value in which no object, at any depth, repeats a member name.
pub(crate) fn unique_value(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice::<UniqueValue>(bytes)
        .ok()
        .map(|v| v.0)
}

/// Parses a JSON object in which no object, at any depth, repeats a member name.
pub(crate) fn unique_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice::<UniqueValue>(bytes).ok()?.0 {
        Value::Object(map) => Some(map),
        _ => None,
    }
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
        // At any depth: a JWK inside a key set, a claim object inside a payload. Before, only
        // the top level was checked, so `{"keys":[{"kty":"EC","x":A,"x":B}]}` was accepted.
        assert!(unique_object(br#"{"keys":[{"kty":"oct","k":"AA","k":"BB"}]}"#).is_none());
        assert!(unique_object(br#"{"a":{"b":{"c":1,"c":1}}}"#).is_none());
        assert_eq!(
            unique_object(br#"{"a":[1,-2,2.5,true,null,"s",{"b":[]}]}"#).map(Value::Object),
            Some(serde_json::json!({"a":[1,-2,2.5,true,null,"s",{"b":[]}]}))
        );
        assert!(unique_object(br#"[1]"#).is_none());
        assert!(unique_object(br#""a""#).is_none());
        assert!(unique_object(br#"{"a":1} x"#).is_none());
    }
}
