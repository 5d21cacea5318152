// The desktop app's screen for a damaged database (recovery.html): shown
// instead of the calendar when the embedded database file fails its check at
// start. It says where the damaged file is, lists the backups beside it
// (newest first, each checked), restores one, or, when none is good, sets the
// damaged file aside to start empty. The app restarts after either. Only
// inside the desktop app, which then registers just these three commands
// (src-tauri/src/recovery.rs).

import '../styles.css';
import { invoke } from '@tauri-apps/api/core';
import { sentence, TransportError } from '../transport';
import { toTransportError } from '../transport/tauri';
import { confirmDialog } from '../ui/ask';
import { h, replace } from '../ui/dom';
import { dayTime, wallAt } from '../ui/time';

interface BackupEntry {
  path: string;
  taken_at: string;
  bytes: number;
  good: boolean;
  problem: string | null;
}

type Done =
  | { kind: 'restored'; backup: string; damaged_kept_at: string | null }
  | { kind: 'started_empty'; damaged_kept_at: string };

interface RecoveryStatus {
  database: string;
  problem: string;
  backups_folder: string;
  backups: BackupEntry[];
  done: Done | null;
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args ? { args } : {});
  } catch (e) {
    throw toTransportError(e);
  }
}

/** The commands' own sentences say what was refused and why; keep them. */
function explain(e: unknown): string {
  if (e instanceof TransportError && e.code !== 'internal' && e.message) {
    return e.message.charAt(0).toUpperCase() + e.message.slice(1) + (e.message.endsWith('.') ? '' : '.');
  }
  return sentence(e);
}

/** "Mon 7 Dec 2026, 03:00" in this computer's time. */
function when(iso: string): string {
  const at = new Date(iso);
  return dayTime(wallAt(at, -at.getTimezoneOffset()));
}

function size(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

function doneView(done: Done): HTMLElement {
  const kept = done.damaged_kept_at;
  return h(
    'div',
    { class: 'recovery-done', role: 'status', id: 'recovery-done' },
    h(
      'p',
      {},
      done.kind === 'restored'
        ? `The backup ${fileName(done.backup)} is in place.`
        : 'The damaged file was set aside; vetdesk starts with an empty database.',
    ),
    kept ? h('p', {}, 'The damaged file is kept as ', h('code', {}, kept), '.') : null,
    h('p', { class: 'muted' }, 'vetdesk is restarting…'),
  );
}

function render(root: HTMLElement, status: RecoveryStatus): void {
  const error = h('p', { class: 'form-error', role: 'alert', id: 'recovery-error' });
  const buttons: HTMLButtonElement[] = [];
  const act = (button: HTMLButtonElement, work: () => Promise<Done>) => async () => {
    for (const b of buttons) b.disabled = true;
    error.textContent = '';
    const label = button.textContent;
    button.textContent = 'Working…';
    try {
      const done = await work();
      render(root, { ...status, done });
    } catch (e) {
      error.textContent = explain(e);
      button.textContent = label;
      for (const b of buttons) b.disabled = false;
    }
  };

  const good = status.backups.filter((b) => b.good);
  const newestGood = good[0]?.path;
  const items = status.backups.map((b) => {
    let restore: HTMLButtonElement | null = null;
    if (b.good && !status.done) {
      restore = h(
        'button',
        { type: 'button', class: b.path === newestGood ? 'primary' : '', 'data-path': b.path },
        'Restore this backup',
      );
      buttons.push(restore);
      restore.addEventListener(
        'click',
        act(restore, () => call<Done>('restore_backup', { path: b.path })),
      );
    }
    return h(
      'li',
      { class: b.good ? 'backup good' : 'backup bad' },
      h(
        'div',
        { class: 'backup-what' },
        h('strong', {}, when(b.taken_at)),
        h('div', { class: 'muted small' }, `${fileName(b.path)} · ${size(b.bytes)}`),
        h(
          'div',
          { class: b.good ? 'backup-check ok small' : 'backup-check bad small' },
          b.good ? '✓ Passes the integrity check' : `✗ Damaged too: ${b.problem ?? 'fails the integrity check'}`,
        ),
      ),
      restore,
    );
  });

  let empty: HTMLButtonElement | null = null;
  if (!good.length && !status.done) {
    empty = h(
      'button',
      { type: 'button', class: 'danger wide', id: 'start-empty' },
      `Start with an empty database (the damaged file is kept in ${status.backups_folder})`,
    );
    buttons.push(empty);
    const button = empty;
    empty.addEventListener('click', async () => {
      const sure = await confirmDialog({
        title: 'Start with an empty database?',
        text: `vetdesk will start with no clinics, appointments or users. The damaged file is not deleted: it is moved into ${status.backups_folder}.`,
        yes: 'Start empty',
        no: 'Go back',
        danger: true,
      });
      if (sure) await act(button, () => call<Done>('start_empty'))();
    });
  }

  const backupsPart = status.backups.length
    ? [
        h('h2', {}, 'Backups'),
        good.length
          ? h(
              'p',
              {},
              'Restore a backup to carry on. Anything entered after that backup was taken is not in it. The damaged file is kept in the backups folder, not deleted.',
            )
          : h('p', { id: 'no-good-backup' }, 'None of these backups passes the integrity check, so none can be restored.'),
        h('ul', { class: 'backups', id: 'backups' }, items),
      ]
    : [h('p', { id: 'no-good-backup' }, 'No backups were found in ', h('code', {}, status.backups_folder), '.')];

  const noGood = !good.length
    ? [
        h(
          'p',
          {},
          'You can start with an empty database; the damaged file is moved aside, never deleted, so your support contact may still recover data from it. Or close vetdesk now and contact support first: nothing has been changed.',
        ),
        empty,
      ]
    : [];

  replace(
    root,
    h(
      'main',
      { class: 'signin recovery' },
      h(
        'section',
        { class: 'signin-card recovery-card', 'aria-labelledby': 'recovery-title' },
        h(
          'h1',
          { id: 'recovery-title', class: status.done ? 'done' : null },
          !status.done
            ? 'The database file is damaged'
            : status.done.kind === 'restored'
              ? 'The backup is restored'
              : 'Starting with an empty database',
        ),
        status.done
          ? null
          : h('p', {}, 'vetdesk cannot open its database because the file is damaged. Nothing has been changed or deleted.'),
        h('p', { id: 'database-location' }, 'Damaged file: ', h('code', {}, status.database)),
        h('details', {}, h('summary', { class: 'small' }, 'What the check found'), h('p', { class: 'small muted' }, status.problem)),
        status.done ? doneView(status.done) : [...backupsPart, ...noGood],
        error,
      ),
    ),
  );
}

async function main(): Promise<void> {
  const root = document.getElementById('app');
  if (!root) return;
  try {
    render(root, await call<RecoveryStatus>('recovery_status'));
  } catch (e) {
    replace(root, h('p', { class: 'form-error', role: 'alert' }, explain(e)));
  }
}

void main();
