// The management screens for notifications and users: failed messages (the
// front desk retries them after phoning the owner), reminder templates (an
// admin edits, previews and resets them) and users (an admin adds, disables and
// changes roles and clinics). The server checks every permission; these screens are only
// offered to the roles that may use them (manage.ts).

import { sentence } from '../transport';
import type { ManagedUser, MessageChannel, MessageKind, MessageTemplate, OutboxMessage } from '../transport/types';
import type { Ctx } from './context';
import { confirmDialog } from './ask';
import { h, replace } from './dom';
import { NOTIFICATIONS_OFF, overdueMessages, ownersReached, type Overdue } from './notify-status';
import { ROLE_LABEL } from './roles';
import { clinicPicker, type ClinicChoice } from './user-clinics';
import { dayTime, offsetMinutes, wallAt } from './time';

const KIND_LABEL: Record<MessageKind, string> = {
  confirmation: 'Confirmation',
  reminder: 'Reminder',
  reschedule: 'Moved appointment',
  cancellation: 'Cancellation',
  checked_in: 'Patient arrived (vet)',
  starting_soon: 'Starting soon (vet)',
};

const CHANNEL_LABEL: Record<MessageChannel, string> = {
  email: 'Email',
  sms: 'SMS',
  desktop: 'Desktop',
};

function clinicTime(ctx: Ctx, instant: string): string {
  const zone = ctx.clinic().time_zone;
  return dayTime(wallAt(new Date(instant), offsetMinutes(zone, new Date(instant))));
}

function errorLine(): HTMLParagraphElement {
  return h('p', { class: 'form-error', role: 'alert' });
}

// ---------- failed messages ----------

export async function messagesTab(ctx: Ctx, body: HTMLElement): Promise<void> {
  const [page, health, overdue] = await Promise.all([
    ctx.transport
      .invoke('list_outbox', { status: 'failed', limit: 100 })
      .catch((e) => (ctx.toasts.show(sentence(e), 'error'), null)),
    ctx.transport.invoke('health', {}).catch(() => null),
    overdueMessages(ctx).catch(() => null),
  ]);
  const items = page?.items ?? [];
  const reached = ownersReached(health);
  const late = overdue?.count ?? 0;
  const lateLine = (o: Overdue) =>
    `${o.count.toLocaleString('en-GB')} ${o.count === 1 ? 'message is' : 'messages are'} overdue` +
    (o.oldest ? `, the oldest since ${clinicTime(ctx, o.oldest.due_at)}.` : '.');
  // Nothing failed is not the same as everything sent: say which it is.
  const state =
    reached === false
      ? h(
          'div',
          { class: 'banner banner-error', role: 'alert' },
          h('strong', {}, 'Notifications are off. '),
          NOTIFICATIONS_OFF,
          overdue && late ? h('p', {}, lateLine(overdue)) : null,
        )
      : overdue && late
        ? h(
            'div',
            { class: 'banner banner-error', role: 'alert' },
            h('strong', {}, 'Messages are not going out. '),
            lateLine(overdue),
            ' Check that the notification worker is running (vetdesk serve, vetdesk worker or the desktop app).',
          )
        : null;
  const preview = h('section', { class: 'message-preview', 'aria-label': 'Message preview', 'aria-live': 'polite' });
  const rerender = () => void messagesTab(ctx, body);
  const row = (m: OutboxMessage) =>
    h(
      'tr',
      { 'data-message-id': m.id },
      h('td', {}, KIND_LABEL[m.kind] ?? m.kind),
      h('td', {}, CHANNEL_LABEL[m.channel] ?? m.channel),
      h('td', {}, clinicTime(ctx, m.appointment_start)),
      h('td', {}, String(m.attempts)),
      h('td', { class: 'error-text' }, m.last_error ?? '—'),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              try {
                const p = await ctx.transport.invoke('preview_outbox_message', { id: m.id });
                const prepared = p.prepared;
                replace(
                  preview,
                  h('h3', {}, `${KIND_LABEL[m.kind] ?? m.kind} by ${CHANNEL_LABEL[m.channel] ?? m.channel}`),
                  prepared.action === 'send'
                    ? [
                        h('p', {}, `To ${prepared.to.name} <${prepared.to.address}>`),
                        prepared.rendered.subject ? h('p', { class: 'subject' }, prepared.rendered.subject) : null,
                        h('pre', { class: 'message-text' }, prepared.rendered.text),
                      ]
                    : h('p', {}, prepared.action === 'skip' ? `It would not be sent: ${prepared.reason}` : `Not yet: ${prepared.why}`),
                );
              } catch (e) {
                ctx.toasts.show(sentence(e), 'error');
              }
            },
          },
          'Preview',
        ),
        ' ',
        h(
          'button',
          {
            type: 'button',
            class: 'primary',
            onclick: async () => {
              try {
                await ctx.transport.invoke('retry_outbox_message', { id: m.id });
                ctx.toasts.show('Queued again: it will be sent in a moment.', 'ok');
                rerender();
              } catch (e) {
                ctx.toasts.show(sentence(e), 'error');
              }
            },
          },
          'Retry',
        ),
      ),
    );
  replace(
    body,
    h('div', { class: 'manage-head' }, h('span', {}, 'Messages that could not be sent')),
    state,
    items.length
      ? h(
          'table',
          { class: 'list', 'aria-label': 'Failed messages' },
          h(
            'thead',
            {},
            h('tr', {}, h('th', {}, 'Message'), h('th', {}, 'By'), h('th', {}, 'Appointment'), h('th', {}, 'Tries'), h('th', {}, 'Why'), h('th', {})),
          ),
          h('tbody', {}, items.map(row)),
        )
      : h(
          'p',
          { class: 'muted' },
          !overdue ? 'No failed messages.' : late || reached === false ? 'No failed messages yet.' : 'No failed messages: everything due has gone out.',
        ),
    page && page.total > items.length ? h('p', { class: 'muted' }, `Showing ${items.length} of ${page.total}.`) : null,
    preview,
  );
}

// ---------- templates ----------

export async function templatesTab(ctx: Ctx, body: HTMLElement, selected?: { kind: MessageKind; channel: MessageChannel }): Promise<void> {
  const all = await ctx.transport
    .invoke('list_templates', {})
    .catch((e) => (ctx.toasts.show(sentence(e), 'error'), [] as MessageTemplate[]));
  const current = all.find((t) => t.kind === selected?.kind && t.channel === selected?.channel) ?? all[0];
  const rerender = (t?: MessageTemplate) => void templatesTab(ctx, body, t ?? current);
  const list = h(
    'table',
    { class: 'list', 'aria-label': 'Templates' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Message'), h('th', {}, 'By'), h('th', {}, 'Wording'))),
    h(
      'tbody',
      {},
      all.map((t) =>
        h(
          'tr',
          { class: t === current ? 'selected' : '' },
          h(
            'td',
            {},
            h('button', { type: 'button', class: 'link', onclick: () => rerender(t) }, KIND_LABEL[t.kind] ?? t.kind),
          ),
          h('td', {}, CHANNEL_LABEL[t.channel] ?? t.channel),
          h('td', {}, t.custom ? `Custom (by ${t.updated_by ?? '?'})` : 'Built-in'),
        ),
      ),
    ),
  );
  if (!current) {
    replace(body, list);
    return;
  }
  const hasSubject = current.channel !== 'sms';
  const subject = h('input', { name: 'subject', value: current.subject ?? '', size: 60, 'aria-label': 'Subject' });
  const text = h('textarea', { name: 'body', rows: 8, cols: 70, 'aria-label': 'Wording' });
  text.value = current.body;
  const error = errorLine();
  const preview = h('section', { class: 'message-preview', 'aria-label': 'Template preview', 'aria-live': 'polite' });
  const key = { kind: current.kind, channel: current.channel };
  const run = (label: string, action: () => Promise<void>, primary = false) =>
    h(
      'button',
      {
        type: 'button',
        class: primary ? 'primary' : '',
        onclick: async () => {
          error.textContent = '';
          try {
            await action();
          } catch (e) {
            error.textContent = sentence(e);
          }
        },
      },
      label,
    );
  const editor = h(
    'div',
    { class: 'template-editor', 'aria-label': 'Template editor' },
    h('h3', {}, `${KIND_LABEL[current.kind] ?? current.kind} by ${CHANNEL_LABEL[current.channel] ?? current.channel}`),
    h('p', { class: 'muted' }, 'Placeholders: {pet} {owner} {vet} {clinic} {type} {date} {time} {when} {zone}'),
    hasSubject ? h('label', {}, 'Subject', subject) : null,
    h('label', {}, 'Wording', text),
    h(
      'div',
      { class: 'actions' },
      run(
        'Save',
        async () => {
          const saved = await ctx.transport.invoke('update_template', {
            ...key,
            subject: hasSubject ? subject.value : undefined,
            body: text.value,
            version: current.version ?? undefined,
          });
          ctx.toasts.show('Template saved.', 'ok');
          rerender(saved);
        },
        true,
      ),
      ' ',
      run('Preview', async () => {
        const r = await ctx.transport.invoke('preview_template', key);
        replace(
          preview,
          h('h4', {}, 'As an owner would read it (a sample appointment, saved wording)'),
          r.subject ? h('p', { class: 'subject' }, r.subject) : null,
          h('pre', { class: 'message-text' }, r.text),
        );
      }),
      ' ',
      current.custom
        ? run('Reset to default', async () => {
            const t = await ctx.transport.invoke('reset_template', key);
            ctx.toasts.show('Back to the built-in wording.', 'ok');
            rerender(t);
          })
        : null,
    ),
    error,
    preview,
  );
  replace(body, h('div', { class: 'manage-split' }, list, editor));
}

// ---------- users ----------

export async function usersTab(ctx: Ctx, body: HTMLElement): Promise<void> {
  const users = await ctx.transport
    .invoke('list_users', {})
    .catch((e) => (ctx.toasts.show(sentence(e), 'error'), [] as ManagedUser[]));
  const rerender = () => usersTab(ctx, body);
  const roles = Object.keys(ROLE_LABEL) as ManagedUser['role'][];
  type Patch = { role?: ManagedUser['role']; disabled?: boolean; vet_id?: string } & Partial<ClinicChoice>;
  const change = async (u: ManagedUser, patch: Patch, done: string) => {
    let said: [string, 'ok' | 'error'] = [done, 'ok'];
    try {
      await ctx.transport.invoke('update_user', { id: u.id, version: u.meta.version, ...patch });
    } catch (e) {
      said = [sentence(e), 'error'];
    }
    // Say it once the rows hold the new version: a click on the old row would be stale.
    await rerender();
    ctx.toasts.show(...said);
  };
  const row = (u: ManagedUser) => {
    const role = h(
      'select',
      { 'aria-label': `Role of ${u.username}` },
      roles.map((r) => h('option', { value: r, selected: r === u.role, disabled: r === 'vet' && !u.vet_id }, ROLE_LABEL[r])),
    );
    role.addEventListener('change', async () => {
      const next = role.value as ManagedUser['role'];
      // A role decides what someone may do: one slip of a select must not make an administrator.
      const sure = await confirmDialog({
        title: 'Change role',
        text: `Make ${u.username} ${ROLE_LABEL[next]}? Their sessions end, and they sign in again with the new role’s rights.`,
        yes: `Make ${ROLE_LABEL[next]}`,
        no: `Keep ${ROLE_LABEL[u.role]}`,
      });
      if (!sure) {
        role.value = u.role;
        return;
      }
      await change(u, { role: next }, `${u.username} is now ${ROLE_LABEL[next]}.`);
    });
    // An administrator sees every clinic; the others may be limited to some.
    const clinics = clinicPicker(
      ctx.clinics,
      u.username,
      { clinics: u.clinics, home_clinic_id: u.home_clinic_id ?? null },
      (choice, what) => {
        const name = (id: string) => ctx.clinics.find((c) => c.id === id)?.name ?? id;
        const names = choice.clinics.map(name);
        const said =
          what === 'home'
            ? choice.home_clinic_id
              ? `${u.username}'s calendar opens at ${name(choice.home_clinic_id)}.`
              : `${u.username}'s calendar opens at the first clinic.`
            : `${u.username} ${names.length ? `works at ${names.join(', ')}` : 'sees every clinic'}.`;
        void change(u, choice, said);
      },
      u.role === 'admin',
    );
    return h(
      'tr',
      { 'data-username': u.username },
      h('td', {}, u.username),
      h('td', {}, u.display_name),
      h('td', {}, role),
      h('td', {}, clinics.el),
      h('td', {}, u.vet_id ? ctx.vetName(u.vet_id) : '—'),
      h('td', {}, u.disabled ? 'Disabled' : 'Active'),
      h(
        'td',
        {},
        h(
          'button',
          {
            type: 'button',
            onclick: () => void change(u, { disabled: !u.disabled }, `${u.username} ${u.disabled ? 'can sign in again' : 'can no longer sign in'}.`),
          },
          u.disabled ? 'Enable' : 'Disable',
        ),
      ),
    );
  };
  const username = h('input', { name: 'username', required: true, size: 16, autocomplete: 'off' });
  const name = h('input', { name: 'display_name', required: true, size: 24 });
  // Most people added are front desk; an administrator is the exception, chosen on purpose.
  const role = h('select', { name: 'role' }, roles.map((r) => h('option', { value: r, selected: r === 'front_desk' }, ROLE_LABEL[r])));
  const vet = h('select', { name: 'vet_id' }, h('option', { value: '' }, '—'), ctx.vets.map((v) => h('option', { value: v.id }, v.name)));
  const password = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' });
  const clinics = clinicPicker(ctx.clinics, '', { clinics: [], home_clinic_id: null });
  const error = errorLine();
  const add = h(
    'form',
    { class: 'inline-form', 'aria-label': 'Add a user' },
    h('label', {}, 'User name', username),
    h('label', {}, 'Name', name),
    h('label', {}, 'Role', role),
    h('label', {}, 'Vet (for a vet)', vet),
    h('label', {}, 'Password', password),
    clinics.el,
    h('button', { type: 'submit', class: 'primary' }, 'Add'),
  );
  add.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      await ctx.transport.invoke('create_user', {
        username: username.value.trim(),
        display_name: name.value.trim(),
        role: role.value as ManagedUser['role'],
        vet_id: vet.value || undefined,
        password: password.value,
        ...clinics.value(),
      });
      ctx.toasts.show(`${username.value.trim()} added.`, 'ok');
      void rerender();
    } catch (e) {
      error.textContent = sentence(e);
    }
  });
  replace(
    body,
    h('div', { class: 'manage-head' }, h('span', {}, 'Who may sign in, and what they may do')),
    h(
      'table',
      { class: 'list', 'aria-label': 'Users' },
      h('thead', {}, h('tr', {}, h('th', {}, 'User name'), h('th', {}, 'Name'), h('th', {}, 'Role'), h('th', {}, 'Clinics'), h('th', {}, 'Vet'), h('th', {}, 'Status'), h('th', {}))),
      h('tbody', {}, users.map(row)),
    ),
    h('h3', {}, 'Add a user'),
    add,
    error,
  );
}
