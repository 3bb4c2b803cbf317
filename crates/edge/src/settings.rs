//! The gateway's settings, read from the host's configuration store (`wasi:config/store`):
//! string keys, string values, JSON where a value is structured. Key names are lower-case
//! letters and underscores only, so the same names work as Spin variables and wasmCloud
//! configuration (docs/EDGE.md). Nothing here is a default that widens access: a missing
//! key set, policy, route table or audit collector is an error, and the gateway answers
//! every request with 503 `ERR_EDGE_CONFIG` until it is set.

use std::collections::BTreeMap;

use crmguard_core::{
    ClaimNames, KeySet, Keyring, KeyringFileOptions, Policy, RecordSchema, TenantId, TenantIssuers,
    VerificationOptions, parse_master_key,
};
use serde::Deserialize;

/// The settings' keys (docs/EDGE.md describes each).
pub mod keys {
    /// The origin's base URL (`http://` or `https://`, with an optional base path).
    pub const ORIGIN_URL: &str = "origin_url";
    /// Where each decision's audit event is POSTed (JSON, one event per request).
    pub const AUDIT_URL: &str = "audit_url";
    /// A bearer token sent to the audit collector (optional).
    pub const AUDIT_TOKEN: &str = "audit_token";
    /// A bearer token sent to the origin in place of the caller's (optional).
    pub const ORIGIN_TOKEN: &str = "origin_token";
    /// The identity provider's key set (JWKS JSON).
    pub const KEY_SET: &str = "key_set";
    /// Token verification options (crmguard-core's `VerificationOptions` as JSON).
    pub const TOKEN_OPTIONS: &str = "token_options";
    /// Which issuers speak for which tenants: `{"tenant": ["issuer", ...]}` (optional).
    pub const TENANT_ISSUERS: &str = "tenant_issuers";
    /// The field policy (the policy document, JSON).
    pub const POLICY: &str = "policy";
    /// The record schemas: `{"object": schema, ...}`.
    pub const SCHEMAS: &str = "schemas";
    /// The routes: which paths are which object's records (JSON array).
    pub const ROUTES: &str = "routes";
    /// The master key the tenant keyrings are sealed under.
    pub const MASTER_KEY: &str = "master_key";
    /// The tenant keyrings: `{"tenant": keyring file (JSON object or its text)}`.
    pub const KEYRINGS: &str = "keyrings";
    /// Browser origins allowed to call the gateway (CORS), JSON array (optional).
    pub const CORS_ORIGINS: &str = "cors_origins";
    /// The largest request or origin response body, in bytes (optional; default 1 MiB).
    pub const MAX_BODY_BYTES: &str = "max_body_bytes";
    /// Timeout for each outgoing request (origin and collector), in ms (optional; 10 000).
    pub const OUTGOING_TIMEOUT_MS: &str = "outgoing_timeout_ms";
    /// `true`: answers carry a `Server-Timing` header (optional; off).
    pub const SERVER_TIMING: &str = "server_timing";
}

/// Default bound on bodies, both ways.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;
/// Default timeout of outgoing requests.
pub const DEFAULT_OUTGOING_TIMEOUT_MS: u64 = 10_000;

/// A settings error: which key and why. Never includes a value (values hold keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// The key at fault.
    pub key: String,
    /// Why (no value, no secret).
    pub reason: String,
}

impl core::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "setting {:?}: {}", self.key, self.reason)
    }
}

/// An absolute `http`/`https` URL split for wasi:http's outgoing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `http` or `https`.
    pub https: bool,
    /// `host[:port]`.
    pub authority: String,
    /// The path (no trailing `/`; empty for the root) and no query.
    pub base_path: String,
}

impl Endpoint {
    /// Parses `url` (`http://host:port/base`): no query, no fragment, no user info.
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: http::Uri = url.parse().map_err(|_| "not a URL".to_owned())?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err("the scheme must be http or https".to_owned()),
        };
        let authority = uri.authority().ok_or("no host")?;
        if authority.as_str().contains('@') {
            return Err("user info is not allowed in the URL".to_owned());
        }
        if uri.query().is_some() {
            return Err("a query is not allowed in the URL".to_owned());
        }
        Ok(Self {
            https,
            authority: authority.as_str().to_owned(),
            base_path: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The URL of `path_and_query` under this endpoint.
    pub fn url(&self, path_and_query: &str) -> String {
        format!(
            "{}://{}{}{}",
            if self.https { "https" } else { "http" },
            self.authority,
            self.base_path,
            path_and_query
        )
    }
}

/// One route: the paths of one object's records.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// The collection's path, segments separated by `/`; `{tenant}` may stand for a segment
    /// naming the record's tenant. A record is the collection's path plus `/{id}`.
    pub path: String,
    /// The object type (its schema and policy entry).
    pub object: String,
    /// The member of a created record that holds its id (default `id`).
    #[serde(default = "default_id_field")]
    pub id_field: String,
    /// The member holding the record's data subject, if its fields are sealed under the
    /// subject's key (crypto-shredding).
    #[serde(default)]
    pub subject_field: Option<String>,
}

fn default_id_field() -> String {
    "id".to_owned()
}

/// A parsed route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// What it was parsed from.
    pub spec: RouteSpec,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Tenant,
}

/// What a request path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addressed<'a> {
    /// The route.
    pub route: &'a Route,
    /// The tenant named in the path, if the route has `{tenant}`.
    pub tenant: Option<String>,
    /// The record id, for a record's path (none: the collection).
    pub record_id: Option<String>,
}

impl Route {
    fn parse(spec: RouteSpec) -> Result<Self, String> {
        let path = spec
            .path
            .strip_prefix('/')
            .ok_or("a route's path starts with /")?;
        let mut segments = Vec::new();
        for s in path.split('/') {
            segments.push(match s {
                "" => return Err("a route's path has an empty segment".to_owned()),
                "{tenant}" if segments.contains(&Segment::Tenant) => {
                    return Err("{tenant} appears twice in a route's path".to_owned());
                }
                "{tenant}" => Segment::Tenant,
                s if s.contains('{') || s.contains('}') => {
                    return Err(format!("unknown placeholder in route segment {s:?}"));
                }
                s => Segment::Literal(s.to_owned()),
            });
        }
        Ok(Self { spec, segments })
    }

    /// Matches `path` (no query): the collection, or one of its records.
    pub fn addressed(&self, path: &str) -> Option<Addressed<'_>> {
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = rest.split('/').collect();
        let n = self.segments.len();
        if parts.len() != n && parts.len() != n + 1 {
            return None;
        }
        let mut tenant = None;
        for (seg, part) in self.segments.iter().zip(&parts) {
            match seg {
                Segment::Literal(l) if l == part => {}
                Segment::Tenant if !part.is_empty() => tenant = Some(decode(part)?),
                _ => return None,
            }
        }
        let record_id = match parts.get(n) {
            None => None,
            Some(&"") => return None,
            Some(id) => Some(decode(id)?),
        };
        Some(Addressed {
            route: self,
            tenant,
            record_id,
        })
    }
}

/// A path segment percent-decoded (UTF-8); `None` if it does not decode or decodes to a
/// `/`, so one segment can never address another path.
fn decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    (!s.contains('/')).then_some(s)
}

/// Everything the gateway needs for one request, parsed and checked.
pub struct Settings {
    /// The origin.
    pub origin: Endpoint,
    /// The audit collector.
    pub audit: Endpoint,
    /// Bearer token for the collector.
    pub audit_token: Option<String>,
    /// Bearer token for the origin.
    pub origin_token: Option<String>,
    /// The identity provider's keys.
    pub keys: KeySet,
    /// How tokens are verified.
    pub options: VerificationOptions,
    /// Which issuers speak for which tenants.
    pub issuers: TenantIssuers,
    /// The field policy.
    pub policy: Policy,
    /// Where the policy reads the caller's attributes.
    pub names: ClaimNames,
    /// The record schemas by object.
    pub schemas: BTreeMap<String, RecordSchema>,
    /// The routes, in order.
    pub routes: Vec<Route>,
    /// The tenant keyrings, opened.
    pub keyrings: BTreeMap<TenantId, Keyring>,
    /// Browser origins allowed (CORS).
    pub cors_origins: Vec<String>,
    /// Body bound, both ways.
    pub max_body_bytes: usize,
    /// Outgoing request timeout.
    pub outgoing_timeout_ms: u64,
    /// Whether answers carry `Server-Timing`.
    pub server_timing: bool,
}

impl core::fmt::Debug for Settings {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Settings")
            .field("origin", &self.origin)
            .field("audit", &self.audit)
            .field("routes", &self.routes.len())
            .field("tenants", &self.keyrings.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn err(key: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

/// The prefix of a value given in base64 (RFC 4648, with padding): for hosts whose
/// configuration cannot carry a value as is (`wasmtime serve -Sconfig-var=K=V` splits its
/// options at commas, so a JSON value must be encoded there).
pub const BASE64_PREFIX: &str = "base64:";

/// The pairs with every `base64:` value decoded (it must be UTF-8).
pub fn decoded(
    pairs: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, SettingsError> {
    use base64::Engine as _;
    pairs
        .iter()
        .map(|(k, v)| {
            let Some(encoded) = v.strip_prefix(BASE64_PREFIX) else {
                return Ok((k.clone(), v.clone()));
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| err(k, "not valid base64 after base64:"))?;
            let text = String::from_utf8(bytes).map_err(|_| err(k, "not UTF-8 after base64"))?;
            Ok((k.clone(), text))
        })
        .collect()
}

impl Settings {
    /// Parses the settings from the configuration store's pairs.
    pub fn from_pairs(pairs: &BTreeMap<String, String>) -> Result<Self, SettingsError> {
        let pairs = &decoded(pairs)?;
        let required = |key: &'static str| {
            pairs
                .get(key)
                .map(String::as_str)
                .ok_or_else(|| err(key, "not set"))
        };
        let json = |key: &'static str, text: &str| -> Result<serde_json::Value, SettingsError> {
            crmguard_core::request::parse_json_strict(text.as_bytes())
                .ok_or_else(|| err(key, "not JSON, or a member named twice"))
        };
        let endpoint = |key: &'static str| Endpoint::parse(required(key)?).map_err(|e| err(key, e));
        let origin = endpoint(keys::ORIGIN_URL)?;
        let audit = endpoint(keys::AUDIT_URL)?;
        let keys_json = required(keys::KEY_SET)?;
        let key_set = KeySet::from_json(keys_json).map_err(|e| err(keys::KEY_SET, e.code()))?;
        let options: VerificationOptions =
            serde_json::from_value(json(keys::TOKEN_OPTIONS, required(keys::TOKEN_OPTIONS)?)?)
                .map_err(|e| err(keys::TOKEN_OPTIONS, e.to_string()))?;
        options
            .check()
            .map_err(|e| err(keys::TOKEN_OPTIONS, e.to_string()))?;
        let mut issuers = TenantIssuers::any();
        if let Some(text) = pairs.get(keys::TENANT_ISSUERS) {
            let map: BTreeMap<String, Vec<String>> =
                serde_json::from_value(json(keys::TENANT_ISSUERS, text)?)
                    .map_err(|e| err(keys::TENANT_ISSUERS, e.to_string()))?;
            for (tenant, list) in map {
                let t = TenantId::new(tenant.as_str())
                    .map_err(|e| err(keys::TENANT_ISSUERS, e.to_string()))?;
                for iss in list {
                    issuers = issuers.with(t.clone(), iss);
                }
            }
        }
        let policy = Policy::from_json(required(keys::POLICY)?)
            .map_err(|e| err(keys::POLICY, e.to_string()))?;
        let names = policy.document().claims.clone();
        let mut schemas = BTreeMap::new();
        let schema_docs = json(keys::SCHEMAS, required(keys::SCHEMAS)?)?;
        let serde_json::Value::Object(schema_docs) = schema_docs else {
            return Err(err(keys::SCHEMAS, "not a JSON object"));
        };
        for (object, doc) in schema_docs {
            let schema = RecordSchema::from_json(&doc.to_string())
                .map_err(|e| err(keys::SCHEMAS, format!("{object}: {e}")))?;
            if schema.object().as_str() != object {
                return Err(err(
                    keys::SCHEMAS,
                    format!("the schema under {object:?} is for {:?}", schema.object()),
                ));
            }
            schemas.insert(object, schema);
        }
        let specs: Vec<RouteSpec> =
            serde_json::from_value(json(keys::ROUTES, required(keys::ROUTES)?)?)
                .map_err(|e| err(keys::ROUTES, e.to_string()))?;
        if specs.is_empty() {
            return Err(err(keys::ROUTES, "no route"));
        }
        let mut routes = Vec::with_capacity(specs.len());
        for spec in specs {
            if !schemas.contains_key(&spec.object) {
                return Err(err(
                    keys::ROUTES,
                    format!("object {:?} has no schema", spec.object),
                ));
            }
            routes.push(Route::parse(spec).map_err(|e| err(keys::ROUTES, e))?);
        }
        let master = parse_master_key(required(keys::MASTER_KEY)?)
            .map_err(|e| err(keys::MASTER_KEY, e.code()))?;
        let rings = json(keys::KEYRINGS, required(keys::KEYRINGS)?)?;
        let serde_json::Value::Object(rings) = rings else {
            return Err(err(keys::KEYRINGS, "not a JSON object"));
        };
        let mut keyrings = BTreeMap::new();
        for (tenant, file) in rings {
            let text = match file {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            let ring = Keyring::from_json(&text, &KeyringFileOptions::protected(&master))
                .map_err(|e| err(keys::KEYRINGS, format!("{tenant}: {}", e.code())))?;
            let t =
                TenantId::new(tenant.as_str()).map_err(|e| err(keys::KEYRINGS, e.to_string()))?;
            keyrings.insert(t, ring);
        }
        let cors_origins = match pairs.get(keys::CORS_ORIGINS) {
            None => Vec::new(),
            Some(text) => serde_json::from_value(json(keys::CORS_ORIGINS, text)?)
                .map_err(|e| err(keys::CORS_ORIGINS, e.to_string()))?,
        };
        let number = |key: &'static str, default: u64| -> Result<u64, SettingsError> {
            pairs.get(key).map_or(Ok(default), |v| {
                v.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| err(key, "not a positive integer"))
            })
        };
        let max_body_bytes =
            usize::try_from(number(keys::MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES as u64)?)
                .map_err(|_| err(keys::MAX_BODY_BYTES, "too large"))?;
        Ok(Self {
            origin,
            audit,
            audit_token: pairs.get(keys::AUDIT_TOKEN).cloned(),
            origin_token: pairs.get(keys::ORIGIN_TOKEN).cloned(),
            keys: key_set,
            options,
            issuers,
            policy,
            names,
            schemas,
            routes,
            keyrings,
            cors_origins,
            max_body_bytes,
            outgoing_timeout_ms: number(keys::OUTGOING_TIMEOUT_MS, DEFAULT_OUTGOING_TIMEOUT_MS)?,
            server_timing: match pairs.get(keys::SERVER_TIMING).map(String::as_str) {
                None | Some("false") => false,
                Some("true") => true,
                Some(_) => return Err(err(keys::SERVER_TIMING, "not true or false")),
            },
        })
    }

    /// The route and record a request path addresses (the first route that matches).
    pub fn addressed(&self, path: &str) -> Option<Addressed<'_>> {
        self.routes.iter().find_map(|r| r.addressed(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Route {
        Route::parse(RouteSpec {
            path: path.to_owned(),
            object: "contact".to_owned(),
            id_field: default_id_field(),
            subject_field: None,
        })
        .unwrap()
    }

    #[test]
    fn routes_address_collections_and_records() {
        let r = route("/api/{tenant}/contacts");
        let a = r.addressed("/api/acme/contacts").unwrap();
        assert_eq!((a.tenant.as_deref(), a.record_id), (Some("acme"), None));
        let a = r.addressed("/api/acme/contacts/c%2D1").unwrap();
        assert_eq!(a.record_id.as_deref(), Some("c-1"));
        for miss in [
            "/api/acme/contacts/1/2",
            "/api/acme/leads/1",
            "/api//contacts",
            "/api/acme/contacts/",
            "api/acme/contacts",
            "/api/acme/contacts/a%2Fb",
            "/api/acme/contacts/%ZZ",
            "/api/acme/contacts/%ff",
        ] {
            assert!(r.addressed(miss).is_none(), "{miss}");
        }
        let plain = route("/contacts");
        assert_eq!(
            plain.addressed("/contacts/7").unwrap().record_id.as_deref(),
            Some("7")
        );
        assert_eq!(plain.addressed("/contacts/7").unwrap().tenant, None);
    }

    #[test]
    fn bad_routes_are_refused() {
        for bad in ["contacts", "/a//b", "/{tenant}/{tenant}", "/{id}", "/a/"] {
            let spec = RouteSpec {
                path: bad.to_owned(),
                object: "contact".to_owned(),
                id_field: default_id_field(),
                subject_field: None,
            };
            assert!(Route::parse(spec).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_take_http_urls_only() {
        let e = Endpoint::parse("http://127.0.0.1:8080/crm/").unwrap();
        assert_eq!(
            e.url("/contacts/1?x=1"),
            "http://127.0.0.1:8080/crm/contacts/1?x=1"
        );
        assert!(Endpoint::parse("https://crm.example").unwrap().https);
        for bad in [
            "ftp://x/",
            "//x/",
            "http://u:p@x/",
            "http://x/?q=1",
            "not a url",
            "/path",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn missing_settings_name_their_key() {
        let e = Settings::from_pairs(&BTreeMap::new()).unwrap_err();
        assert_eq!(e.key, keys::ORIGIN_URL);
        assert!(e.to_string().contains("not set"));
    }

    #[test]
    fn base64_values_are_decoded_and_bad_ones_named() {
        let pairs: BTreeMap<String, String> = [
            ("a", "base64:eyJ4IjogWzEsMl19"),
            ("b", "plain, with commas"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let d = decoded(&pairs).unwrap();
        assert_eq!(d["a"], r#"{"x": [1,2]}"#);
        assert_eq!(d["b"], "plain, with commas");
        for bad in ["base64:***", "base64://79"] {
            let pairs = BTreeMap::from([("k".to_owned(), bad.to_owned())]);
            let e = decoded(&pairs).unwrap_err();
            assert_eq!(e.key, "k", "{bad}");
            assert!(!e.to_string().contains(bad), "no value in the error");
        }
    }
}
