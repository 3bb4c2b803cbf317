// The one error class of every entry point (fields and audit), so `instanceof` works across them.

/** Thrown for every failure the Rust core reports; `code` is its stable code. */
export class CrmGuardError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'CrmGuardError';
    this.code = code;
  }
}
