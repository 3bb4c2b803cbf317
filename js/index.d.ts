// Hand-written declarations for every entry point of `crmguard` (node, browser, worker).
// Checked with `tsc --noEmit` (see tsconfig.json and test/types-check.ts).

import type { CrmGuardErrorCode } from './codes.js';
/** Every stable error code (generated from the Rust core's table: `cargo xtask codes`). */
export type { CrmGuardErrorCode } from './codes.js';
/** What kind of failure a code is, and the kind of each code (the same table). */
export type { ErrorKind, CrmGuardErrorKinds } from './codes.js';

/** A JSON value, as sealed with content type `json` (strings are sealed as UTF-8 bytes). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Where a value lives; bound into every sealed value, so it opens only here. */
export interface FieldContext {
  tenant: string;
  /** Object type, e.g. "contact". */
  object: string;
  /** Record id. */
  record: string;
  /** Field name or schema path ("email", "address.city", "phones[].number"). */
  field: string;
  /** Data subject: seal/open with this subject's key (keyring only). */
  subject?: string;
}

export type Normalizer = 'trim' | 'lowercase' | 'email' | 'phone';

export interface BlindIndexOptions {
  tenant: string;
  object: string;
  field: string;
  /** Applied in order before hashing. */
  normalize?: Normalizer[];
  /** 8 to 256; default 32. */
  bits?: number;
  /**
   * For a field sealed under a data subject's key: the subject, whose key the index is then
   * derived from (fails with `ERR_SUBJECT_FORGOTTEN` once the subject is forgotten).
   */
  subject?: string;
}

export interface RecordOptions {
  tenant: string;
  /** Record id, overriding the schema's `record_id` path. */
  record?: string;
  /** Data subject, overriding the schema's `subject` path. */
  subject?: string;
  /** openRecord only: null instead of ERR_SUBJECT_FORGOTTEN for erased subjects. */
  forgottenAsNull?: boolean;
}

/** The record schema document of docs/FORMAT.md §5. */
export interface RecordSchemaDocument {
  object: string;
  record_id?: string;
  subject?: string;
  index_member?: string;
  unknown_fields?: 'reject' | 'encrypt' | 'clear';
  fields: Record<
    string,
    {
      action: 'clear' | 'encrypt' | 'blind-index';
      key?: 'keyring' | 'subject';
      blind_index?: { normalize?: Normalizer[]; bits?: number };
    }
  >;
}

/** jose's `reason` for a refused claim. */
export type CrmGuardClaimReason = 'missing' | 'invalid' | 'check_failed';

/** Every failure reported by the Rust core. `code` is its stable code (docs/ERRORS.md, `errorCodes()`). */
export class CrmGuardError extends Error {
  constructor(code: CrmGuardErrorCode, message: string, details?: { claim?: string; reason?: CrmGuardClaimReason });
  readonly name: 'CrmGuardError';
  readonly code: CrmGuardErrorCode;
  /** The claim that failed (`exp`, `nbf`, `iat`, `iss`, `aud`, `typ`), as jose's `claim`: set for `ERR_JWT_CLAIM_VALIDATION_FAILED` and `ERR_JWT_EXPIRED`. */
  readonly claim?: string;
  /** Why (as jose's `reason`): set with `claim`. */
  readonly reason?: CrmGuardClaimReason;
}

/** A validated record schema. */
export class RecordSchema {
  constructor(schema: RecordSchemaDocument | string);
  free(): void;
}

/** Data keys, the blind-index root and data-subject keys. Call `free()` when done. */
export class Keyring {
  private constructor();
  /** Imports a keyring file (the `crmguard` CLI's JSON). */
  static fromJson(text: string, options?: { masterKey?: string; allowCleartext?: boolean }): Keyring;
  /** A keyring of one data key (the primary, id `keyId`) and the blind-index root (32 bytes each). */
  static fromKeys(keyId: number, key: Uint8Array, blindIndexRoot: Uint8Array): Keyring;
  readonly primaryKeyId: number;
  /** This keyring's id (32 hex digits); keep it with `generation` to detect a substituted file. */
  readonly keyringId: string;
  /** How many persisted mutations this keyring has had; never decreases. */
  readonly generation: number;
  /** Seals a value: `Uint8Array` and strings as bytes, other JSON values as JSON. Returns `cg1:...`. */
  sealField(context: FieldContext, value: JsonValue | Uint8Array): string;
  /** Opens to a string (bytes content, must be UTF-8) or the JSON value (json content). */
  openField(context: FieldContext, sealed: string): JsonValue;
  /** Opens to the raw plaintext bytes. */
  openFieldBytes(context: FieldContext, sealed: string): Uint8Array;
  /**
   * `sealField`, with the same output format, for large values: from `WEBCRYPTO_MIN_BYTES`
   * of plaintext the AES-256-GCM step runs in WebCrypto (`crypto.subtle`, AES hardware); the
   * key derivation and format stay in wasm. Smaller values, or no `crypto.subtle`: the sync path.
   * Errors reject with the same `CrmGuardError` codes as `sealField`.
   */
  sealFieldAsync(context: FieldContext, value: JsonValue | Uint8Array): Promise<string>;
  /** `openField` with WebCrypto's AES-256-GCM for large values (see `sealFieldAsync`). */
  openFieldAsync(context: FieldContext, sealed: string): Promise<JsonValue>;
  /** `openFieldBytes` with WebCrypto's AES-256-GCM for large values (see `sealFieldAsync`). */
  openFieldBytesAsync(context: FieldContext, sealed: string): Promise<Uint8Array>;
  sealRecord(schema: RecordSchema, record: { [key: string]: JsonValue }, options: RecordOptions): { [key: string]: JsonValue };
  openRecord(schema: RecordSchema, record: { [key: string]: JsonValue }, options: RecordOptions): { [key: string]: JsonValue };
  /** Lower-case hex blind index of `value`. */
  blindIndex(options: BlindIndexOptions, value: string): string;
  /** Opens a `cgh1:` value with the tenant's private key and seals it under this keyring. */
  sealFromTenant(secretKey: Uint8Array, context: FieldContext, sealed: string): string;
  free(): void;
}

export interface TenantKeyPair {
  /** 32 bytes; publish it to the browsers that seal to the tenant. */
  publicKey: Uint8Array;
  /** 32 bytes; keep it on the server. */
  secretKey: Uint8Array;
}

/** A new X25519 key pair for HPKE sealing to a tenant. */
export function generateTenantKeyPair(): TenantKeyPair;
/** The public key of a tenant private key. */
export function tenantPublicKey(secretKey: Uint8Array): Uint8Array;
/** Seals a value to the tenant's public key (HPKE, RFC 9180). Returns `cgh1:...`. */
export function sealToTenant(publicKey: Uint8Array, context: FieldContext, value: JsonValue | Uint8Array): string;
/** Opens a `cgh1:` value with the tenant's private key. */
export function openFromTenant(secretKey: Uint8Array, context: FieldContext, sealed: string): JsonValue;
/** Opens a `cgh1:` value with the tenant's private key to its raw plaintext bytes. */
export function openFromTenantBytes(secretKey: Uint8Array, context: FieldContext, sealed: string): Uint8Array;
/** Every stable error code. */
export function errorCodes(): CrmGuardErrorCode[];
/** Plaintext length (bytes) from which the `*Async` field methods use WebCrypto's AES-GCM. */
export const WEBCRYPTO_MIN_BYTES: number;

/**
 * Loads the wasm module. Browsers and workers must await it once before any other call
 * (`input`: URL, Response, WebAssembly.Module or bytes; default: the package's .wasm).
 * In Node the module is loaded at import and this resolves at once.
 */
export function init(input?: URL | string | Response | BufferSource | WebAssembly.Module): Promise<void>;
export default init;
