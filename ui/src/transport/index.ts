// Picks the transport for where the UI runs: inside the desktop app
// (src-tauri/), where Tauri exposes `window.__TAURI_INTERNALS__`, the Tauri
// commands of the same names; everywhere else HTTP to the server that served
// the page.

import { HttpTransport } from './http';
import { TauriTransport } from './tauri';
import type { Transport } from './transport';

export type { Transport, ChangeListener, LinkState } from './transport';
export type { Operations, OperationName, Args, Result } from './operations';
export { TransportError, sentence } from './errors';

export function inDesktopApp(): boolean {
  const w = window as unknown as { __TAURI_INTERNALS__?: unknown };
  return Boolean(w.__TAURI_INTERNALS__);
}

export function selectTransport(): Transport {
  return inDesktopApp() ? new TauriTransport() : new HttpTransport('');
}
