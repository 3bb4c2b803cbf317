//! The audit-log API (`crmguard/audit` entry point): a separate wasm build with the `audit`
//! feature, so the field-encryption module stays small. Types only; the rules are in
//! crmguard-core's audit module (docs/AUDIT.md).

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::{OrThrow, crm_error, to_js, type_error};

/// Options holding `Uint8Array` keys, which JSON text cannot carry: through
/// serde-wasm-bindgen, a dependency of this module only.
fn from_js_with_bytes<T: serde::de::DeserializeOwned>(
    value: JsValue,
    what: &str,
) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| type_error(&format!("{what}: {e}")))
}

fn key32(bytes: &[u8], what: &str) -> Result<[u8; 32], JsValue> {
    bytes
        .try_into()
        .map_err(|_| type_error(&format!("{what} must be 32 bytes")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AuditOptionsArg {
    product_version: String,
    #[serde(default, with = "serde_bytes_opt")]
    pseudonym_key: Option<Vec<u8>>,
    pseudonymize_actors: Option<bool>,
    pseudonymize_subjects: Option<bool>,
}

/// `Uint8Array` (or plain array of numbers) for an optional byte member.
mod serde_bytes_opt {
    use serde::Deserialize;

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<serde_bytes_buf::Buf>::deserialize(d).map(|o| o.map(|b| b.0))
    }

    pub(crate) mod serde_bytes_buf {
        /// Bytes from a `Uint8Array` (serde-wasm-bindgen gives them as a byte buffer).
        pub(crate) struct Buf(pub(crate) Vec<u8>);

        impl<'de> serde::Deserialize<'de> for Buf {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Buf;
                    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                        f.write_str("a Uint8Array")
                    }
                    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Buf, E> {
                        Ok(Buf(v.to_vec()))
                    }
                    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Buf, E> {
                        Ok(Buf(v))
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(
                        self,
                        mut seq: A,
                    ) -> Result<Buf, A::Error> {
                        let mut out = Vec::new();
                        while let Some(b) = seq.next_element::<u8>()? {
                            out.push(b);
                        }
                        Ok(Buf(out))
                    }
                }
                d.deserialize_byte_buf(V)
            }
        }
    }
}

/// A tamper-evident audit log being written: each appended event becomes an OCSF-shaped
/// record line chained to the previous one by hash (docs/AUDIT.md).
#[wasm_bindgen]
pub struct AuditChain(crmguard_core::AuditChain);

#[wasm_bindgen]
impl AuditChain {
    /// A new, empty log: `{ productVersion, pseudonymKey?, pseudonymizeActors?,
    /// pseudonymizeSubjects? }`.
    #[wasm_bindgen(constructor)]
    pub fn new(log_id: &str, options: JsValue) -> Result<AuditChain, JsValue> {
        let o: AuditOptionsArg = from_js_with_bytes(options, "options")?;
        let key = match o.pseudonym_key {
            Some(k) => Some(crmguard_core::PseudonymKey::from_bytes(key32(
                &k,
                "pseudonymKey",
            )?)),
            None => None,
        };
        let mut options = crmguard_core::RecordOptions::new(&o.product_version, key);
        if let Some(a) = o.pseudonymize_actors {
            options.pseudonymize_actors = a;
        }
        if let Some(s) = o.pseudonymize_subjects {
            options.pseudonymize_subjects = s;
        }
        crmguard_core::AuditChain::new(log_id, options)
            .map(AuditChain)
            .or_throw()
    }

    /// Builds the record for `event` at `time` (milliseconds since the epoch) and returns its
    /// line (append it and a newline to the log).
    #[wasm_bindgen(js_name = buildAuditRecord)]
    pub fn build_audit_record(&mut self, event: JsValue, time: f64) -> Result<String, JsValue> {
        // Through JSON text, so the core's serde rules (deny_unknown_fields, IP parsing) apply
        // exactly as to events read from files.
        let text: String = js_sys::JSON::stringify(&event)
            .map_err(|_| type_error("event: not JSON-serialisable"))?
            .into();
        let event: crmguard_core::AuditEvent = serde_json::from_str(&text)
            .map_err(|e| crm_error(&crmguard_core::AuditError::Event(e.to_string()).into()))?;
        if !(time >= 0.0 && time <= crmguard_core::MAX_SAFE_INTEGER as f64 && time.fract() == 0.0) {
            return Err(type_error("time must be a non-negative integer"));
        }
        // Checked above: an integer in 0..=2^53-1, exactly representable as u64.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let time = time as u64;
        self.0
            .append_line(&event, time)
            .map(|(_, line)| line)
            .or_throw()
    }

    /// A signed checkpoint line over all records so far (Ed25519 `signingSeed`, 32 bytes,
    /// with the chain's pseudonym key), or `undefined` for an empty log.
    pub fn checkpoint(
        &self,
        signing_seed: &[u8],
        pseudonym_key: &[u8],
        time: f64,
    ) -> Result<Option<String>, JsValue> {
        let key = crmguard_core::AuditSigningKey::from_seed(
            &key32(signing_seed, "signingSeed")?,
            key32(pseudonym_key, "pseudonymKey")?,
        );
        if !(time >= 0.0 && time.fract() == 0.0) {
            return Err(type_error("time must be a non-negative integer"));
        }
        // Checked above: a non-negative integer; the core caps it at 2^53-1.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let time = time as u64;
        Ok(self.0.checkpoint(&key, time).map(|c| c.to_line()))
    }

    /// The number of records so far.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> f64 {
        // Record counts stay far below 2^53.
        #[allow(clippy::cast_precision_loss)]
        let n = self.0.size() as f64;
        n
    }

    /// The last record's hash (hex), or the genesis value for an empty log.
    #[wasm_bindgen(getter, js_name = headHash)]
    pub fn head_hash(&self) -> String {
        self.0.head().to_hex()
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VerifyOptionsArg {
    #[serde(default)]
    verifying_keys: Vec<serde_bytes_opt::serde_bytes_buf::Buf>,
    log_id: Option<String>,
}

/// Verifies a whole log (JSON lines: records and checkpoints): every hash, sequence number
/// and checkpoint signature (by one of `verifyingKeys`, 32-byte Ed25519 public keys).
/// Returns `{ logId, size, headHash, checkpoints, uncovered }`; throws `ERR_AUDIT_*` with the
/// first bad sequence number in the message.
#[wasm_bindgen(js_name = verifyAuditLog)]
pub fn verify_audit_log(text: &str, options: JsValue) -> Result<JsValue, JsValue> {
    let o: VerifyOptionsArg = if options.is_undefined() || options.is_null() {
        VerifyOptionsArg::default()
    } else {
        from_js_with_bytes(options, "options")?
    };
    let keys = o
        .verifying_keys
        .iter()
        .map(|k| {
            crmguard_core::AuditVerifyingKey::from_bytes(&key32(&k.0, "verifying key")?).or_throw()
        })
        .collect::<Result<Vec<_>, JsValue>>()?;
    let mut v = crmguard_core::ChainVerifier::new(keys);
    if let Some(id) = &o.log_id {
        v = v.expect_log_id(id);
    }
    v.push_log(text).or_throw()?;
    let log = v.finish(&crmguard_core::Anchor::default()).or_throw()?;
    to_js(&serde_json::json!({
        "logId": log.log_id,
        "size": log.size,
        "headHash": log.head_hash.to_hex(),
        "checkpoints": log.checkpoints,
        "uncovered": log.uncovered,
    }))
}
