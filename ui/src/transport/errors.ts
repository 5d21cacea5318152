// Errors reach the UI as `{ code, message, details }`, whichever transport
// carried them (GitButler's shape). The UI matches on `code`, never on words.

export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'stale_version'
  | 'invalid_transition'
  | 'duplicate'
  | 'busy'
  | 'store_unavailable'
  | 'schema_too_new'
  | 'internal'
  | 'unauthenticated'
  | 'forbidden'
  | 'too_many_attempts'
  | 'corrupt_database'
  // Not from the server: the request never got an answer.
  | 'offline';

export interface ErrorDetails {
  /** HTTP status, when the transport is HTTP. */
  status?: number;
  /** Each conflict in words, in the clinic's time (`conflict`). */
  messages?: string[];
  conflicts?: unknown[];
  /** The record as it is now (`stale_version`). */
  current?: unknown;
  /** Seconds to wait (`too_many_attempts`). */
  retry_after?: number;
  /** The newest good backup of a damaged database (`corrupt_database`). */
  newest_backup?: string;
  [field: string]: unknown;
}

export class TransportError extends Error {
  readonly code: ErrorCode | string;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode | string, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
    this.details = details;
  }
}

function capitalise(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/**
 * The sentence a person reads for an error. Built from the code; the server's
 * own `detail` (already a sentence about this very case) is added where it says more.
 */
export function sentence(err: unknown): string {
  if (!(err instanceof TransportError)) {
    console.error('unexpected error', err);
    return 'Something went wrong. Please try again; if it keeps happening, tell your administrator.';
  }
  const detail = err.message ? capitalise(err.message) : '';
  switch (err.code) {
    case 'conflict': {
      const reasons = err.details.messages ?? [];
      return reasons.length
        ? `That time is not free: ${reasons.map((r) => r.replace(/\.$/, '')).join('; ')}.`
        : 'That time is not free.';
    }
    case 'stale_version':
      return 'Someone else changed this appointment a moment ago. The calendar now shows the latest version; please check it and try again.';
    case 'invalid_transition':
      return `That status change is not possible now. ${detail}`.trim();
    case 'invalid_input':
      return detail || 'Some of the details are not valid.';
    case 'not_found':
      return 'That record no longer exists; it may have been removed by someone else.';
    case 'duplicate':
      return `That already exists. ${detail}`.trim();
    case 'busy':
      return 'The database is busy. Please try again in a moment.';
    case 'store_unavailable':
      return 'The database cannot be reached. Your change was not saved; please try again shortly.';
    case 'schema_too_new':
      return 'This server is older than its database. Ask your administrator to update vetdesk.';
    case 'unauthenticated':
      return 'Your sign-in is not valid (wrong name or password, or the session ended). Please sign in.';
    case 'forbidden':
      return 'Your role does not allow that. Ask a colleague with the right role, or your administrator.';
    case 'too_many_attempts': {
      const wait = err.details.retry_after;
      return wait
        ? `Too many sign-in attempts. Please wait ${wait} seconds and try again.`
        : 'Too many sign-in attempts. Please wait a moment and try again.';
    }
    case 'corrupt_database': {
      const backup = err.details.newest_backup;
      return backup
        ? `The database file is damaged. Nothing was changed. Ask your administrator to restore the newest good backup (${backup}) with vetdesk restore.`
        : 'The database file is damaged and no good backup was found. Nothing was changed; ask your administrator.';
    }
    case 'offline':
      return 'The vetdesk server cannot be reached. Check the connection; nothing was changed.';
    case 'internal':
      return 'Something went wrong on the server. Nothing was changed; the cause has been logged.';
    default:
      return detail || 'Something went wrong. Please try again.';
  }
}
