//! One time type for the request path. Keyrings count seconds, audit records count
//! milliseconds, tokens count seconds; a [`UnixTime`] is one instant that says which unit it
//! is being read in, so no adapter converts by hand.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::MAX_SAFE_INTEGER;

/// An instant as milliseconds since the Unix epoch (UTC), at most 2^53 − 1 so that it is
/// exact in JavaScript and in JSON numbers. Serialised as milliseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct UnixTime(u64);

impl UnixTime {
    /// The epoch.
    pub const EPOCH: UnixTime = UnixTime(0);

    /// From whole seconds since the epoch; `None` above the JSON-safe range.
    pub fn from_secs(secs: u64) -> Option<Self> {
        secs.checked_mul(1000).and_then(Self::from_millis)
    }

    /// From milliseconds since the epoch; `None` above 2^53 − 1.
    pub fn from_millis(ms: u64) -> Option<Self> {
        (ms <= MAX_SAFE_INTEGER).then_some(Self(ms))
    }

    /// Whole seconds since the epoch (what keyrings and token claims count).
    pub fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// Milliseconds since the epoch (what audit records count).
    pub fn as_millis(self) -> u64 {
        self.0
    }
}

impl fmt::Debug for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnixTime({} ms)", self.0)
    }
}

impl From<UnixTime> for u64 {
    fn from(t: UnixTime) -> u64 {
        t.0
    }
}

impl TryFrom<u64> for UnixTime {
    type Error = &'static str;
    fn try_from(ms: u64) -> Result<Self, Self::Error> {
        Self::from_millis(ms).ok_or("a time above 2^53 - 1 milliseconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_milliseconds_are_one_instant() {
        let t = UnixTime::from_secs(1_764_400_000).unwrap();
        assert_eq!(t.as_millis(), 1_764_400_000_000);
        assert_eq!(t.as_secs(), 1_764_400_000);
        assert_eq!(
            UnixTime::from_millis(1_764_400_000_999).unwrap().as_secs(),
            1_764_400_000
        );
        assert_eq!(serde_json::to_string(&t).unwrap(), "1764400000000");
    }

    #[test]
    fn times_beyond_json_precision_are_refused() {
        assert!(UnixTime::from_millis(MAX_SAFE_INTEGER).is_some());
        assert!(UnixTime::from_millis(MAX_SAFE_INTEGER + 1).is_none());
        assert!(UnixTime::from_secs(u64::MAX).is_none());
        assert!(serde_json::from_str::<UnixTime>("9007199254740992").is_err());
    }
}
