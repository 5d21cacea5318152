// The HTTP transport: each operation is one request to /api/v1, with the
// session's bearer token; problem+json answers become `TransportError`s.

import type { Args, OperationName, Operations, Result } from './operations';
import { TransportError, type ErrorDetails } from './errors';
import type { ChangeListener, Transport } from './transport';
import type { Change } from './types';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface Route<K extends OperationName> {
  method: Method;
  path: (args: Args<K>) => string;
  /** Sent as the JSON body (POST/PUT/PATCH) or the query string (GET/DELETE). */
  params?: (args: Args<K>) => Record<string, unknown> | undefined;
}

const id = (v: string) => encodeURIComponent(v);
const without = <T extends object>(args: T, ...keys: string[]) => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) if (!keys.includes(k)) out[k] = v;
  return out;
};
const all = <T extends object>(args: T) => ({ ...args }) as Record<string, unknown>;
type StepOp = 'confirm' | 'check_in' | 'start' | 'complete' | 'no_show';
const step = <K extends StepOp>(name: string): Route<K> => ({
  method: 'POST',
  path: (a) => `/appointments/${id(a.id)}/${name}`,
  params: (a) => without(a, 'id'),
});

/** Where each operation lives in /api/v1 (the OpenAPI document names them the same). */
const routes: { [K in OperationName]: Route<K> } = {
  login: { method: 'POST', path: () => '/auth/login', params: all },
  logout: { method: 'POST', path: () => '/auth/logout' },
  me: { method: 'GET', path: () => '/auth/me' },
  health: { method: 'GET', path: () => '/health' },

  calendar: { method: 'GET', path: () => '/appointments/calendar', params: all },
  availability: { method: 'GET', path: () => '/appointments/availability', params: all },
  availability_runs: { method: 'GET', path: () => '/appointments/availability/runs', params: all },
  check_conflicts: { method: 'POST', path: () => '/appointments/check-conflicts', params: all },
  book: { method: 'POST', path: () => '/appointments', params: all },
  get: { method: 'GET', path: (a) => `/appointments/${id(a.id)}` },
  confirm: step('confirm'),
  check_in: step('check-in'),
  start: step('start'),
  complete: step('complete'),
  no_show: step('no-show'),
  cancel: {
    method: 'POST',
    path: (a) => `/appointments/${id(a.id)}/cancel`,
    params: (a) => without(a, 'id'),
  },
  reschedule: {
    method: 'POST',
    path: (a) => `/appointments/${id(a.id)}/reschedule`,
    params: (a) => without(a, 'id'),
  },

  list_clinics: { method: 'GET', path: () => '/clinics' },
  list_vets: { method: 'GET', path: () => '/vets', params: all },
  list_clients: { method: 'GET', path: () => '/clients', params: all },
  get_client: { method: 'GET', path: (a) => `/clients/${id(a.id)}` },
  create_client: { method: 'POST', path: () => '/clients', params: (a) => without(a, 'id') },
  update_client: {
    method: 'PUT',
    path: (a) => `/clients/${id(a.id ?? '')}`,
    params: (a) => without(a, 'id'),
  },
  list_pets: { method: 'GET', path: () => '/pets', params: all },
  create_pet: { method: 'POST', path: () => '/pets', params: (a) => without(a, 'id') },
  update_pet: {
    method: 'PUT',
    path: (a) => `/pets/${id(a.id ?? '')}`,
    params: (a) => without(a, 'id'),
  },
  list_types: { method: 'GET', path: () => '/appointment-types' },
  create_type: {
    method: 'POST',
    path: () => '/appointment-types',
    params: (a) => without(a, 'id'),
  },
  update_type: {
    method: 'PUT',
    path: (a) => `/appointment-types/${id(a.id ?? '')}`,
    params: (a) => without(a, 'id'),
  },
  list_hours: { method: 'GET', path: () => '/working-hours', params: all },
  create_hours: { method: 'POST', path: () => '/working-hours', params: all },
  delete_hours: {
    method: 'DELETE',
    path: (a) => `/working-hours/${id(a.id)}`,
    params: (a) => without(a, 'id'),
  },
  list_time_off: { method: 'GET', path: () => '/time-off', params: all },
  create_time_off: { method: 'POST', path: () => '/time-off', params: all },
  delete_time_off: {
    method: 'DELETE',
    path: (a) => `/time-off/${id(a.id)}`,
    params: (a) => without(a, 'id'),
  },

  list_outbox: { method: 'GET', path: () => '/outbox', params: all },
  preview_outbox_message: { method: 'GET', path: (a) => `/outbox/${id(a.id)}/preview` },
  retry_outbox_message: { method: 'POST', path: (a) => `/outbox/${id(a.id)}/retry` },
  list_templates: { method: 'GET', path: () => '/templates' },
  update_template: {
    method: 'PUT',
    path: (a) => `/templates/${id(a.kind)}/${id(a.channel)}`,
    params: (a) => without(a, 'kind', 'channel'),
  },
  reset_template: { method: 'POST', path: (a) => `/templates/${id(a.kind)}/${id(a.channel)}/reset` },
  preview_template: {
    method: 'GET',
    path: (a) => `/templates/${id(a.kind)}/${id(a.channel)}/preview`,
    params: (a) => without(a, 'kind', 'channel'),
  },
  list_users: { method: 'GET', path: () => '/users' },
  create_user: { method: 'POST', path: () => '/users', params: all },
  update_user: { method: 'PATCH', path: (a) => `/users/${id(a.id)}`, params: (a) => without(a, 'id') },
};

/** Operations answered outside /api/v1. */
const ROOT_PATHS: ReadonlySet<OperationName> = new Set(['health']);

function query(params: Record<string, unknown> | undefined): string {
  if (!params) return '';
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

function compact(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!params) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_input',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  422: 'invalid_input',
  429: 'too_many_attempts',
  503: 'store_unavailable',
};

async function problem(res: Response): Promise<TransportError> {
  const details: ErrorDetails = { status: res.status };
  const retry = Number(res.headers.get('Retry-After'));
  if (Number.isFinite(retry) && retry > 0) details.retry_after = retry;
  let body: Record<string, unknown> = {};
  try {
    const text = await res.text();
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = {};
  }
  const code =
    typeof body.code === 'string' ? body.code : (CODE_BY_STATUS[res.status] ?? 'internal');
  for (const [k, v] of Object.entries(body)) {
    if (!['type', 'title', 'status', 'detail', 'code'].includes(k)) details[k] = v;
  }
  const message = typeof body.detail === 'string' ? body.detail : res.statusText;
  return new TransportError(code, message, details);
}

/**
 * When the person at this screen last clicked, typed, scrolled or touched.
 * A request made more than a minute after that (a calendar's refetch after a
 * change made elsewhere, a reconnect) says `X-Vetdesk-Background: 1`, so it
 * does not keep the session from its idle sign-out: an unattended front-desk
 * PC signs out even in a busy clinic.
 */
let lastInput = Date.now();
const UNATTENDED_AFTER_MS = 60_000;
if (typeof window !== 'undefined') {
  for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
    window.addEventListener(type, () => (lastInput = Date.now()), { capture: true, passive: true });
  }
}

function withPresence(headers: Record<string, string>): Record<string, string> {
  if (Date.now() - lastInput > UNATTENDED_AFTER_MS) headers['X-Vetdesk-Background'] = '1';
  return headers;
}

export class HttpTransport implements Transport {
  readonly kind = 'http' as const;
  private token: string | null = null;
  private unauthenticated: () => void = () => {};

  /** `base` is the server's origin ('' for the one that served the page). */
  constructor(private readonly base = '') {}

  setToken(token: string | null): void {
    this.token = token;
  }

  onUnauthenticated(handler: () => void): void {
    this.unauthenticated = handler;
  }

  async invoke<K extends OperationName>(op: K, args: Args<K>): Promise<Result<K>> {
    const route = routes[op] as Route<K>;
    const params = route.params?.(args);
    const prefix = ROOT_PATHS.has(op) ? '' : '/api/v1';
    const withBody = route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH';
    const url = `${this.base}${prefix}${route.path(args)}${withBody ? '' : query(params)}`;
    const headers = withPresence({ Accept: 'application/json' });
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (withBody) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(compact(params) ?? {});
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method: route.method,
        headers,
        body,
        signal: AbortSignal.timeout(20_000),
      });
    } catch (e) {
      throw new TransportError('offline', 'the server did not answer', { cause: String(e) });
    }
    if (!res.ok) {
      const err = await problem(res);
      if (err.code === 'unauthenticated' && op !== 'login') this.unauthenticated();
      throw err;
    }
    if (res.status === 204) return undefined as Result<K>;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as Operations[K]['result'];
  }

  /**
   * A single-use ticket for the event stream (`POST /api/v1/events/ticket`):
   * the bearer token never goes into a URL. `null` when signed out.
   */
  private async streamTicket(): Promise<string | null> {
    if (!this.token) return null;
    const res = await fetch(`${this.base}/api/v1/events/ticket`, {
      method: 'POST',
      headers: withPresence({ Accept: 'application/json', Authorization: `Bearer ${this.token}` }),
      signal: AbortSignal.timeout(20_000),
    });
    if (!res.ok) {
      const err = await problem(res);
      if (err.code === 'unauthenticated') this.unauthenticated();
      throw err;
    }
    const body = (await res.json()) as { ticket: string };
    return body.ticket;
  }

  subscribe(listener: ChangeListener): () => void {
    let source: EventSource | null = null;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let everOpened = false;
    const again = () => {
      listener.state('closed');
      source?.close();
      source = null;
      if (!stopped) retry = setTimeout(() => void open(), 2_000);
    };
    // Each connection, the first and every reconnect, asks for a fresh ticket:
    // a ticket opens one stream only.
    const open = async () => {
      if (stopped) return;
      listener.state('connecting');
      let ticket: string | null;
      try {
        ticket = await this.streamTicket();
      } catch (e) {
        // Signed out (the handler above has said so) or the server is away.
        if (e instanceof TransportError && e.code === 'unauthenticated') {
          listener.state('closed');
          return;
        }
        again();
        return;
      }
      if (stopped || ticket === null) {
        listener.state('closed');
        return;
      }
      source = new EventSource(`${this.base}/api/v1/events?ticket=${encodeURIComponent(ticket)}`);
      source.onopen = () => {
        listener.state('open');
        // After a gap, changes may have been missed while the stream was down.
        if (everOpened) listener.reload();
        everOpened = true;
      };
      source.addEventListener('change', (ev) => {
        try {
          listener.change(JSON.parse((ev as MessageEvent<string>).data) as Change);
        } catch (e) {
          console.error('unreadable change event', e);
        }
      });
      source.addEventListener('reload', () => listener.reload());
      // The session ended (signed out, idle, role changed): asking for a new
      // ticket tells the app it is signed out.
      source.addEventListener('ended', () => {
        source?.close();
        source = null;
        listener.state('closed');
        void open();
      });
      // EventSource would reconnect with the same, used ticket: close it and
      // start again with a new one.
      source.onerror = again;
    };
    void open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      source?.close();
    };
  }
}
