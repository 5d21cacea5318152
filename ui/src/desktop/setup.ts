// The desktop app's own page (desktop.html): first start (offer the demo
// practice to an empty database) and which database this workstation uses
// (this computer's, or a clinic's shared PostgreSQL server). Only inside the
// desktop app; it calls the desktop's commands `desktop_status`, `seed_demo`
// and `save_database` directly, since they are not operations of the HTTP API.

import '../styles.css';
import { invoke } from '@tauri-apps/api/core';
import { sentence } from '../transport';
import { toTransportError } from '../transport/tauri';
import { append, h, replace } from '../ui/dom';

function append_(el: HTMLElement, ...children: (Node | string | null)[]): HTMLElement {
  append(el, ...children);
  return el;
}

interface DesktopStatus {
  database: 'embedded' | 'postgres';
  location: string;
  empty: boolean;
  has_users: boolean;
  settings_file: string;
  problem: string | null;
}

interface Saved {
  status: DesktopStatus;
  note: string | null;
}

const TOKEN_KEY = 'vetdesk.session';

/** The signed-in admin's token, when the calendar in this app has one. */
function token(): string | null {
  try {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    return saved ? ((JSON.parse(saved) as { token?: string }).token ?? null) : null;
  } catch {
    return null;
  }
}

async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    return await invoke<T>(command, { token: token(), args });
  } catch (e) {
    throw toTransportError(e);
  }
}

/** `done` says what just worked; errors go in the alert line below it. */
function render(root: HTMLElement, status: DesktopStatus, done = ''): void {
  const notice = h('p', { role: 'status', id: 'setup-notice' }, done);
  const error = h('p', { class: 'form-error', role: 'alert' }, status.problem ?? '');
  const busy = (button: HTMLButtonElement, work: () => Promise<void>) => async () => {
    button.disabled = true;
    error.textContent = '';
    notice.textContent = '';
    try {
      await work();
    } catch (e) {
      error.textContent = sentence(e);
    } finally {
      button.disabled = false;
    }
  };

  const demo = h('button', { type: 'button', class: 'primary wide', id: 'seed-demo' }, 'Add the demo practice');
  demo.addEventListener(
    'click',
    busy(demo, async () => {
      const next = await call<DesktopStatus>('seed_demo');
      render(root, next, 'The demo practice is ready: sign in as desk / vetdesk-desk, morgan / vetdesk-vet or admin / vetdesk-admin.');
    }),
  );

  const open = h('button', { type: 'button', class: 'primary wide', id: 'open-calendar' }, 'Open the calendar');
  open.addEventListener('click', () => window.location.assign('/'));

  const url = h('input', {
    id: 'pg-url',
    name: 'url',
    placeholder: 'postgres://vetdesk@db.clinic.example:5432/vetdesk',
    spellcheck: 'false',
    value: status.database === 'postgres' ? status.location : '',
  });
  const password = h('input', { id: 'pg-password', name: 'password', type: 'password', autocomplete: 'off' });
  const save = h('button', { type: 'submit', class: 'primary wide' }, 'Test and use this server');
  // The card itself is the form (its column layout is the sign-in card's).
  const form = h('form', { class: 'signin-card', id: 'desktop-setup' });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void busy(save, async () => {
      const saved = await call<Saved>('save_database', {
        kind: 'postgres',
        url: url.value.trim(),
        password: password.value || undefined,
      });
      password.value = '';
      render(root, saved.status, saved.note ?? 'Connected: this workstation now uses the shared server.');
    })();
  });

  const local = h('button', { type: 'button', class: 'wide' }, 'Use this computer’s own database');
  local.addEventListener(
    'click',
    busy(local, async () => {
      const saved = await call<Saved>('save_database', { kind: 'embedded' });
      render(root, saved.status, saved.note ?? 'This workstation now uses its own database.');
    }),
  );

  const where =
    status.database === 'postgres'
      ? `Shared server: ${status.location}`
      : `This computer: ${status.location}`;
  replace(
    root,
    h(
      'main',
      { class: 'signin' },
      append_(
        form,
        h('h1', {}, status.empty ? 'Welcome to vetdesk' : 'Database'),
        h('p', { id: 'database-location' }, where),
        status.empty
          ? h('p', {}, 'The database is empty. Try vetdesk with a demo practice (two clinics, six vets, three weeks of appointments), or connect to your clinic’s shared server below.')
          : null,
        notice,
        error,
        status.empty ? demo : null,
        status.has_users ? open : null,
        h('label', { for: 'pg-url' }, 'Shared PostgreSQL server'),
        url,
        h('label', { for: 'pg-password' }, 'Password (kept in this computer’s keyring)'),
        password,
        save,
        status.database === 'postgres' ? local : null,
        h('p', { class: 'hint' }, `Settings: ${status.settings_file} (never the password).`),
      ),
    ),
  );
}

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  try {
    render(root, await call<DesktopStatus>('desktop_status'));
  } catch (e) {
    replace(root, h('p', { class: 'form-error', role: 'alert' }, sentence(e)));
  }
}

void main();
