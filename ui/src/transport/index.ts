// Picks the transport for where the UI runs. The desktop shell (src-tauri/,
// later) exposes Tauri's IPC on `window.__TAURI_INTERNALS__`; there the UI will
// use a `TauriTransport` that invokes commands named like the operations below,
// with the same arguments, and maps their `{ code, message, details }` errors to
// `TransportError`. Everywhere else it is HTTP to the server that served the page.

import { HttpTransport } from './http';
import type { Transport } from './transport';

export type { Transport, ChangeListener, LinkState } from './transport';
export type { Operations, OperationName, Args, Result } from './operations';
export { TransportError, sentence } from './errors';

export function selectTransport(): Transport {
  const w = window as unknown as { __TAURI_INTERNALS__?: unknown };
  if (w.__TAURI_INTERNALS__) {
    // Until the desktop shell lands, say so rather than fail obscurely.
    console.warn('running inside Tauri, but the IPC transport is not built yet; using HTTP');
  }
  return new HttpTransport('');
}
