// The one error class of every entry point (fields and audit), so `instanceof` works across them.

/**
 * Thrown for every failure the Rust core reports; `code` is its stable code (docs/ERRORS.md).
 * Token claim failures (`ERR_JWT_CLAIM_VALIDATION_FAILED`, `ERR_JWT_EXPIRED`) also carry
 * jose's `claim` (e.g. `'aud'`) and `reason` (`'missing'`, `'invalid'` or `'check_failed'`).
 */
export class CrmGuardError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'CrmGuardError';
    this.code = code;
    if (details?.claim !== undefined) this.claim = details.claim;
    if (details?.reason !== undefined) this.reason = details.reason;
  }
}
