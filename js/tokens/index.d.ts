// Declarations for `crmguard/tokens` (checked with `tsc --noEmit`).
export { CrmGuardError } from '../index.js';
export type { CrmGuardErrorCode } from '../index.js';

export interface VerifyTokenOptions {
  /** Accepted issuers (`iss`). Required: none given fails with `ERR_JWT_OPTIONS` unless `anyIssuer`. */
  issuers?: string[];
  /** Accepted audiences (`aud`). Required: none given fails with `ERR_JWT_OPTIONS` unless `anyAudience`. */
  audiences?: string[];
  /** Waive the issuer check explicitly (default false). */
  anyIssuer?: boolean;
  /** Waive the audience check explicitly (default false). */
  anyAudience?: boolean;
  /** Accepted `typ`: `"jwt"` (default: absent, JWT or at+jwt), `"at+jwt"` (RFC 9068 access tokens only), or `"any"`. */
  tokenType?: 'jwt' | 'at+jwt' | 'any';
  /** Clock skew on exp/nbf/iat, 0 to 300 seconds (default 60). */
  leewaySecs?: number;
  /** Require `exp` (default true). */
  requireExp?: boolean;
  /** Refuse tokens issued more than this many seconds ago. */
  maxTokenAgeSecs?: number;
  /** Refuse longer tokens (default 64 KiB). */
  maxTokenLen?: number;
  /** Verification time in seconds since the epoch (default: now). */
  now?: number;
}

/** A JSON Web Key Set (RFC 7517), as an object or its JSON text. */
export type Jwks = { keys: Record<string, unknown>[] } | string;

/** Verifies a compact JWT; returns its claims or throws CrmGuardError (`ERR_JWT_*`, `ERR_JWS_*`, `ERR_JWKS_*`, `ERR_JOSE_*`; claim failures also set `claim` and `reason`). */
export function verifyToken(token: string, jwks: Jwks, options?: VerifyTokenOptions): Record<string, unknown>;

/** Loads the token wasm module (browsers and workers; a no-op in Node). */
export function init(input?: URL | string | Response | BufferSource | WebAssembly.Module): Promise<void>;
export default init;
