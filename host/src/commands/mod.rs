//! One module per command group; each only translates between the command line and
//! crmguard-core.

pub(crate) mod audit;
pub(crate) mod authorize;
pub(crate) mod fields;
pub(crate) mod keys;
pub(crate) mod plugins;
pub(crate) mod records;
pub(crate) mod tenant;
pub(crate) mod token;
