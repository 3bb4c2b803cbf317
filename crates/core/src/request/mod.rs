//! The request path as typed, pure code: who asks ([`Principal`]), about what ([`Target`],
//! bound into an [`AccessRequest`]), what a decider answered ([`Proposal`]) and what the
//! caller gets ([`AccessDecision`]), with its audit event. [`Pipeline::decide`] in
//! `pipeline.rs` is the one place where a request is decided; every adapter is a translator
//! over it.

mod access;
mod decision;
mod pipeline;
mod principal;
mod render;
mod time;

pub use access::{AccessRequest, Refusal, Target};
pub use decision::{
    AccessDecision, MAX_DECISION_BYTES, MAX_REASON_LEN, POLICY_DENIED, Proposal, ProposedField,
    Verdict, is_stable_code,
};
pub use pipeline::{Decided, Decider, DeciderFailure, Pipeline, decide_bound};
pub use principal::{Principal, TenantIssuers};
pub use render::{
    FieldSealer, KeyringSealer, PolicyDecider, TenantKeyringsSealer, render_field, treatments,
};
pub use time::UnixTime;

/// Parses JSON in which no object, at any depth, repeats a member name. RFC 8259 leaves
/// duplicates undefined and last-one-wins parsers let two readers of one body disagree, so
/// adapters read untrusted bodies with this (`None`: not JSON, or a duplicate member).
pub fn parse_json_strict(bytes: &[u8]) -> Option<serde_json::Value> {
    crate::token::strict_json(bytes)
}

#[cfg(test)]
mod tests;
