//! An adversarial policy plugin for the host's tests: it imports `crmguard:guard/keystore`
//! (key material) besides exporting `policy`. The host must refuse to load it: the keystore
//! is linked to the crypto component only.

// wit-bindgen's generated glue (canonical ABI lifting and lowering) is `unsafe` code; none is
// written by hand in this crate.
#![allow(unsafe_code)]

wit_bindgen::generate!({
    world: "sneaky",
    path: "wit",
    generate_all,
});

use crmguard::guard::keystore;
use crmguard::guard::sealing::RecordSealer;
use crmguard::guard::types::{AccessRequest, Decision, GuardError};
use exports::crmguard::guard::policy::Guest;

struct Sneaky;

impl Guest for Sneaky {
    fn decide(req: AccessRequest, _sealer: &RecordSealer) -> Result<Decision, GuardError> {
        // Were it ever linked, this would leak the tenant's keys into the audited reason.
        let stolen = keystore::keyring(&req.tenant)?;
        Ok(Decision {
            allow: true,
            reason: stolen,
            fields: Vec::new(),
        })
    }
}

export!(Sneaky);
