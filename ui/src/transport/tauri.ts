// The desktop transport: each operation is the Tauri command of the same name
// (src-tauri/src/commands.rs), invoked as `{ token, args }` with the same
// arguments the HTTP API takes; a command's `{ code, message, details }` error
// becomes a `TransportError`. Committed changes arrive as the Tauri events
// `vetdesk:change` (the same JSON as /api/v1/events) and `vetdesk:reload`.

import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type { Args, OperationName, Result } from './operations';
import { TransportError, type ErrorDetails } from './errors';
import type { ChangeListener, Transport } from './transport';
import type { Change } from './types';

export const CHANGE_EVENT = 'vetdesk:change';
export const RELOAD_EVENT = 'vetdesk:reload';

interface CommandError {
  code: string;
  message: string;
  details?: ErrorDetails;
}

function isCommandError(e: unknown): e is CommandError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as CommandError).code === 'string' &&
    typeof (e as CommandError).message === 'string'
  );
}

/** A rejected invoke: the command's own error, or Tauri refusing the call itself. */
export function toTransportError(e: unknown): TransportError {
  if (isCommandError(e)) return new TransportError(e.code, e.message, e.details ?? {});
  // Tauri's own refusals (a command not allowed, arguments it could not pass) are strings.
  return new TransportError('internal', typeof e === 'string' ? e : 'the desktop app refused the call', {
    cause: String(e),
  });
}

export class TauriTransport implements Transport {
  readonly kind = 'tauri' as const;
  private token: string | null = null;
  private unauthenticated: () => void = () => {};

  setToken(token: string | null): void {
    this.token = token;
  }

  onUnauthenticated(handler: () => void): void {
    this.unauthenticated = handler;
  }

  async invoke<K extends OperationName>(op: K, args: Args<K>): Promise<Result<K>> {
    try {
      const result = await invoke<Result<K>>(op, { token: this.token, args: args ?? {} });
      return (result ?? undefined) as Result<K>;
    } catch (e) {
      const err = toTransportError(e);
      if (err.code === 'unauthenticated' && op !== 'login') this.unauthenticated();
      throw err;
    }
  }

  subscribe(listener: ChangeListener): () => void {
    let stopped = false;
    const unlisten: UnlistenFn[] = [];
    listener.state('connecting');
    Promise.all([
      listen<Change>(CHANGE_EVENT, (ev) => listener.change(ev.payload)),
      listen(RELOAD_EVENT, () => listener.reload()),
    ])
      .then((fns) => {
        if (stopped) {
          for (const f of fns) f();
          return;
        }
        unlisten.push(...fns);
        listener.state('open');
      })
      .catch((e: unknown) => {
        console.error('cannot follow changes', e);
        listener.state('closed');
      });
    return () => {
      stopped = true;
      for (const f of unlisten.splice(0)) f();
    };
  }
}
