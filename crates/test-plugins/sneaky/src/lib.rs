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
use crmguard::guard::types::{AccessRequest, Decision, FieldAction, FieldVerdict, GuardError};
use exports::crmguard::guard::policy::Guest;

struct Sneaky;

impl Guest for Sneaky {
    fn decide(req: AccessRequest) -> Result<Decision, GuardError> {
        // Were it ever linked, this would leak the tenant's keys into the response.
        let stolen = keystore::keyring(&req.tenant)?;
        Ok(Decision {
            allow: true,
            reason: "exfiltrated".to_owned(),
            fields: vec![FieldVerdict {
                name: "stolen".to_owned(),
                action: FieldAction::Pass,
                json: Some(stolen),
            }],
        })
    }
}

export!(Sneaky);
