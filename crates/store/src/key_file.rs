//! Key files: 32 key bytes as unpadded base64url and a newline (tenant HPKE keys, written by
//! `crmguard tenant-key new`; the private one with mode 0600).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

use crate::StoreError;

/// The key bytes of the file at `path` (`ERR_TENANT_KEY_INVALID` if it is not base64url).
/// Whether they are a usable key is the key type's check.
pub fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| StoreError::io(&path.display().to_string(), &e))?,
    );
    URL_SAFE_NO_PAD
        .decode(text.trim())
        .map(Zeroizing::new)
        .map_err(|_| {
            StoreError::new(
                crmguard_core::codes::TENANT_KEY_INVALID,
                format!("{}: not base64url key bytes", path.display()),
            )
        })
}
