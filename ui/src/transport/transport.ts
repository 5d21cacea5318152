// The one seam between the UI and vetdesk: operations by name, in and out as
// plain values. `http.ts` carries them over /api/v1 (browser mode, `vetdesk
// serve`); a `tauri.ts` beside it will carry the same names over Tauri's IPC in
// the desktop app. Nothing else in the UI knows which one it is talking to.

import type { Args, OperationName, Result } from './operations';
import type { Change } from './types';

export type LinkState = 'connecting' | 'open' | 'closed';

export interface ChangeListener {
  /** A committed change (appointment, record …). */
  change(change: Change): void;
  /** The stream fell behind or reconnected: changes may have been missed, refetch everything. */
  reload(): void;
  /** Whether the change stream is live. */
  state(state: LinkState): void;
}

export interface Transport {
  readonly kind: 'http' | 'tauri';
  /** Run one operation. Fails with a `TransportError` `{ code, message, details }`. */
  invoke<K extends OperationName>(op: K, args: Args<K>): Promise<Result<K>>;
  /** The session token sent with every later call (null: signed out). */
  setToken(token: string | null): void;
  /** Follow committed changes until the returned function is called. */
  subscribe(listener: ChangeListener): () => void;
  /** Called when the server says the session is not (or no longer) valid. */
  onUnauthenticated(handler: () => void): void;
}
