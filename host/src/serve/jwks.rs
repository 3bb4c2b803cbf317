//! The identity provider's key set: a file in the data folder, or an HTTPS URL fetched with
//! jose's remote-set semantics (`createRemoteJWKSet`):
//!
//! - **cache max age** (default 10 min): a set older than this is fetched again on next use;
//! - **cooldown** (default 30 s): after a fetch, a token whose `kid` the set lacks does not
//!   cause another fetch until the cooldown has passed; once it has, such a token causes
//!   exactly one refetch, and is verified against the new set;
//! - **single flight**: concurrent requests that need a fetch share one;
//! - **timeout** (default 5 s) per fetch (connect, TLS, response, body);
//! - the body is at most 256 KiB and must be a key set core accepts.
//!
//! One deliberate difference: when a refresh fails (the IdP is down, answers 500 or an
//! invalid set), the last good set keeps being used and the failure is counted in
//! `/metrics`, instead of failing every request until the IdP is back; a key the IdP has
//! removed stays trusted no longer than the outage. With no set fetched yet, token paths
//! answer 503 `ERR_JWKS_UNAVAILABLE` (or `ERR_JWKS_TIMEOUT`) and `/readyz` is not ready.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{Request, StatusCode, Uri, header};
use crmguard_core::KeySet;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::metrics::Metrics;
use crate::failure::Failure;

/// The largest key set accepted (core's own bound on a JWKS document).
const MAX_JWKS_BYTES: usize = 256 << 10;

/// Where the key set comes from.
pub(crate) enum KeySource {
    /// Read once at start.
    Local(Arc<KeySet>),
    /// Fetched and refreshed.
    Remote(Box<RemoteKeySet>),
}

/// Why no key set could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unavailable {
    /// `ERR_JWKS_TIMEOUT` or `ERR_JWKS_UNAVAILABLE`.
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

/// A fetch's timing options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RemoteOptions {
    pub(crate) cache_max_age: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) timeout: Duration,
}

#[derive(Default)]
struct Cached {
    keys: Option<Arc<KeySet>>,
    /// When `keys` was fetched.
    fetched: Option<Instant>,
    /// When the last fetch (good or failed) started.
    attempted: Option<Instant>,
}

/// A key set at an HTTPS URL.
pub(crate) struct RemoteKeySet {
    url: Uri,
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
    options: RemoteOptions,
    cached: Mutex<Cached>,
    flight: tokio::sync::Mutex<()>,
    metrics: Arc<Metrics>,
}

fn unavailable(message: impl Into<String>) -> Unavailable {
    Unavailable {
        code: super::api::serve_codes::JWKS_UNAVAILABLE,
        message: message.into(),
    }
}

impl RemoteKeySet {
    /// `url` (https only), trusting `roots` (PEM file; none: the Mozilla roots of
    /// webpki-roots).
    pub(crate) fn new(
        url: &str,
        roots: Option<&std::path::Path>,
        options: RemoteOptions,
        metrics: Arc<Metrics>,
    ) -> Result<Self, Failure> {
        let config_error = |m: String| Failure::new(super::api::serve_codes::CONFIG, m);
        let uri: Uri = url
            .parse()
            .map_err(|_| config_error(format!("jwks_url {url:?} is not a URL")))?;
        if uri.scheme_str() != Some("https") || uri.host().is_none() {
            return Err(config_error(format!(
                "jwks_url {url:?} must be an https:// URL"
            )));
        }
        let mut store = rustls::RootCertStore::empty();
        match roots {
            Some(path) => {
                for c in super::tls::certificates(path, "jwks_ca")? {
                    store
                        .add(c)
                        .map_err(|e| config_error(format!("jwks_ca {}: {e}", path.display())))?;
                }
            }
            None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let tls = rustls::ClientConfig::builder_with_provider(super::tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error(format!("TLS: {e}")))?
            .with_root_certificates(store)
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        Ok(Self {
            url: uri,
            client: Client::builder(TokioExecutor::new()).build(https),
            options,
            cached: Mutex::new(Cached::default()),
            flight: tokio::sync::Mutex::new(()),
            metrics,
        })
    }

    fn cached(&self) -> std::sync::MutexGuard<'_, Cached> {
        // A panic while holding this lock cannot leave it inconsistent (plain assignments).
        self.cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a key set has been fetched.
    pub(crate) fn is_ready(&self) -> bool {
        self.cached().keys.is_some()
    }

    /// The set to verify with now: the cached one while younger than the cache max age,
    /// else a fresh one (one fetch for all concurrent callers). A failed refresh keeps the
    /// cached set; without one it is [`Unavailable`].
    pub(crate) async fn current(&self) -> Result<Arc<KeySet>, Unavailable> {
        let now = Instant::now();
        {
            let c = self.cached();
            if let (Some(keys), Some(at)) = (&c.keys, c.fetched)
                && now.duration_since(at) < self.options.cache_max_age
            {
                return Ok(keys.clone());
            }
        }
        self.refresh(|c| {
            c.fetched
                .is_some_and(|at| Instant::now().duration_since(at) < self.options.cache_max_age)
        })
        .await
    }

    /// After a token named a `kid` the set lacks: one refetch, unless the last fetch began
    /// within the cooldown. `None`: no new set (cooling down, or the fetch failed).
    pub(crate) async fn refetch_for_unknown_kid(&self) -> Option<Arc<KeySet>> {
        let asked = Instant::now();
        let cooling = |c: &Cached| {
            c.attempted
                .is_some_and(|at| asked.saturating_duration_since(at) < self.options.cooldown)
        };
        if cooling(&self.cached()) {
            return None;
        }
        // Another caller's fetch that started after we asked counts as ours.
        let before = self.cached().fetched;
        let keys = self
            .refresh(|c| c.attempted.is_some_and(|at| at >= asked) || cooling(c))
            .await
            .ok()?;
        (self.cached().fetched != before).then_some(keys)
    }

    /// Fetches under the single-flight lock, unless `satisfied` says a fetch that happened
    /// while waiting for the lock already did the job.
    async fn refresh(
        &self,
        satisfied: impl Fn(&Cached) -> bool,
    ) -> Result<Arc<KeySet>, Unavailable> {
        let _flight = self.flight.lock().await;
        {
            let c = self.cached();
            if satisfied(&c)
                && let Some(keys) = &c.keys
            {
                return Ok(keys.clone());
            }
        }
        self.cached().attempted = Some(Instant::now());
        let fetched = self.fetch().await;
        self.metrics
            .jwks_fetch(if fetched.is_ok() { "ok" } else { "error" });
        let mut c = self.cached();
        match fetched {
            Ok(keys) => {
                let keys = Arc::new(keys);
                c.keys = Some(keys.clone());
                c.fetched = Some(Instant::now());
                Ok(keys)
            }
            Err(e) => match &c.keys {
                Some(stale) => {
                    eprintln!(
                        "warning: the key set could not be refreshed ({}: {}); the last good set stays in use",
                        e.code, e.message
                    );
                    Ok(stale.clone())
                }
                None => Err(e),
            },
        }
    }

    async fn fetch(&self) -> Result<KeySet, Unavailable> {
        let request = Request::get(self.url.clone())
            .header(header::ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| unavailable(format!("the key set request: {e}")))?;
        let fetch = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| unavailable(format!("{}: {e}", self.url)))?;
            if response.status() != StatusCode::OK {
                return Err(unavailable(format!(
                    "{} answered {}",
                    self.url,
                    response.status()
                )));
            }
            let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
                .collect()
                .await
                .map_err(|e| unavailable(format!("{}: the body: {e}", self.url)))?
                .to_bytes();
            let text = std::str::from_utf8(&body)
                .map_err(|_| unavailable(format!("{}: the key set is not UTF-8", self.url)))?;
            KeySet::from_json(text).map_err(|e| {
                unavailable(format!(
                    "{}: not a key set we accept: {e} ({})",
                    self.url,
                    e.code()
                ))
            })
        };
        match tokio::time::timeout(self.options.timeout, fetch).await {
            Ok(r) => r,
            Err(_) => Err(Unavailable {
                code: super::api::serve_codes::JWKS_TIMEOUT,
                message: format!(
                    "{} did not answer within {} ms",
                    self.url,
                    self.options.timeout.as_millis()
                ),
            }),
        }
    }
}

impl KeySource {
    /// The set to verify with now.
    pub(crate) async fn current(&self) -> Result<Arc<KeySet>, Unavailable> {
        match self {
            KeySource::Local(k) => Ok(k.clone()),
            KeySource::Remote(r) => r.current().await,
        }
    }

    /// A new set after an unknown `kid`, if one may and could be fetched.
    pub(crate) async fn refetch_for_unknown_kid(&self) -> Option<Arc<KeySet>> {
        match self {
            KeySource::Local(_) => None,
            KeySource::Remote(r) => r.refetch_for_unknown_kid().await,
        }
    }

    /// Whether token paths can answer.
    pub(crate) fn is_ready(&self) -> bool {
        match self {
            KeySource::Local(_) => true,
            KeySource::Remote(r) => r.is_ready(),
        }
    }
}
