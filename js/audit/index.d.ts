// Declarations for `crmguard/audit` (checked with `tsc --noEmit`).
export { CrmGuardError } from '../index.js';
export type { CrmGuardErrorCode } from '../index.js';

/** Loads the audit wasm module (browsers and workers; a no-op in Node). */
export function init(input?: URL | string | Response | BufferSource | WebAssembly.Module): Promise<void>;
export default init;

/** A tamper-evident audit log being written (docs/AUDIT.md). Call `free()` when done. */
export class AuditChain {
  constructor(logId: string, options: { productVersion: string; pseudonymKey?: Uint8Array; pseudonymizeActors?: boolean; pseudonymizeSubjects?: boolean });
  /** Builds the record line for `event` at `time` (ms since the epoch); see buildAuditRecord. */
  buildAuditRecord(event: AuditEvent, time: number): string;
  /** A signed checkpoint line over all records so far, or undefined for an empty log. */
  checkpoint(signingSeed: Uint8Array, pseudonymKey: Uint8Array, time: number): string | undefined;
  readonly size: number;
  readonly headHash: string;
  free(): void;
}

/** One auditable event, as docs/AUDIT.md describes it (snake_case members, as in the log). */
export interface AuditEvent {
  class: 'api_activity' | 'authentication' | 'authorization' | 'key_event' | 'subject_erasure';
  activity: string;
  actor: { uid: string; tenant: string; roles?: string[] };
  source?: { ip?: string; port?: number };
  operation?: string;
  request_id?: string;
  resources?: { type: string; uid: string; fields?: { name: string; action: string }[] }[];
  outcome: { decision: 'allow' | 'deny'; reason?: string };
}

/** Appends `event` to `chain` and returns the record's line (write it and a newline to the log). */
export function buildAuditRecord(chain: AuditChain, event: AuditEvent, time: number): string;

/** Verifies a whole log (JSON lines); throws CrmGuardError `ERR_AUDIT_*` at the first bad line. */
export function verifyAuditLog(
  text: string,
  options?: { verifyingKeys?: Uint8Array[]; logId?: string },
): { logId: string; size: number; headHash: string; checkpoints: number; uncovered: number };
