// What the clinic manager (and, for owners and pets, the front desk) edits:
// vets' working hours and time off, appointment types, owners and their pets.
// Simplest useful form: a list and an add form per record; every error a sentence.

import { sentence } from '../transport';
import type { AppointmentType, Client, Pet, TimeOff, Vet, WorkingHours } from '../transport/types';
import type { Ctx } from './context';
import { h, replace } from './dom';
import { messagesTab, templatesTab, usersTab } from './manage-notify';
import { canManageOwners, canManageSchedule } from './roles';
import { dayTime, longDay, offsetMinutes, todayIn, wallAt } from './time';
import { whenField } from './when';

export type ManageTab = 'hours' | 'time-off' | 'types' | 'clients' | 'messages' | 'templates' | 'users';

export const MANAGE_TABS: readonly ManageTab[] = ['hours', 'time-off', 'types', 'clients', 'messages', 'templates', 'users'];

const TABS: { tab: ManageTab; label: string; admin: boolean }[] = [
  { tab: 'hours', label: 'Working hours', admin: true },
  { tab: 'time-off', label: 'Time off', admin: true },
  { tab: 'types', label: 'Appointment types', admin: true },
  { tab: 'clients', label: 'Owners and pets', admin: false },
  // The front desk retries what failed (they phone the owner first).
  { tab: 'messages', label: 'Failed messages', admin: false },
  { tab: 'templates', label: 'Message templates', admin: true },
  { tab: 'users', label: 'Users', admin: true },
];

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WEEKDAY_LABEL: Record<string, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

function field(label: string, input: HTMLElement): HTMLElement {
  return h('label', {}, label, input);
}

/** A form whose submit runs `save`, shows the error as a sentence, and re-renders on success. */
function form(title: string, fields: HTMLElement[], save: () => Promise<void>, button = 'Add'): HTMLElement {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, button);
  const f = h('form', { class: 'inline-form', 'aria-label': title }, fields, submit);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      await save();
    } catch (e) {
      error.textContent = sentence(e);
    } finally {
      submit.disabled = false;
    }
  });
  return h('div', {}, h('h3', {}, title), f, error);
}

function vetPicker(ctx: Ctx, selected: string, onChange: (id: string) => void): HTMLSelectElement {
  const clinic = ctx.clinic();
  const vets = ctx.vets.filter((v: Vet) => v.clinics.includes(clinic.id));
  const select = h(
    'select',
    { 'aria-label': 'Vet' },
    vets.map((v) => h('option', { value: v.id, selected: v.id === selected }, v.name)),
  );
  select.addEventListener('change', () => onChange(select.value));
  return select;
}

export function manageScreen(ctx: Ctx, tab: ManageTab, go: (tab: ManageTab) => void): HTMLElement {
  const admin = canManageSchedule(ctx.who);
  const tabs = TABS.filter((t) => (t.admin ? admin : canManageOwners(ctx.who)));
  const current = tabs.some((t) => t.tab === tab) ? tab : (tabs[0]?.tab ?? 'clients');
  const body = h('div', { class: 'manage-body' });
  const screen = h(
    'section',
    { class: 'manage', 'aria-label': 'Manage' },
    h(
      'nav',
      { class: 'tabs', 'aria-label': 'Records' },
      tabs.map((t) =>
        h(
          'button',
          {
            type: 'button',
            class: t.tab === current ? 'active' : '',
            'aria-current': t.tab === current ? 'page' : null,
            onclick: () => go(t.tab),
          },
          t.label,
        ),
      ),
    ),
    body,
  );
  const show = {
    hours: () => hoursTab(ctx, body),
    'time-off': () => timeOffTab(ctx, body),
    types: () => typesTab(ctx, body),
    clients: () => clientsTab(ctx, body),
    messages: () => messagesTab(ctx, body),
    templates: () => templatesTab(ctx, body),
    users: () => usersTab(ctx, body),
  }[current];
  void show();
  return screen;
}

// ---------- working hours ----------

async function hoursTab(ctx: Ctx, body: HTMLElement, vetId = ''): Promise<void> {
  const clinic = ctx.clinic();
  const vet = vetId || ctx.vets.find((v) => v.clinics.includes(clinic.id))?.id || '';
  const rules = await ctx.transport
    .invoke('list_hours', { vet_id: vet, clinic_id: clinic.id })
    .catch((e) => (ctx.toasts.show(sentence(e), 'error'), [] as WorkingHours[]));
  const rerender = () => void hoursTab(ctx, body, vet);
  body.dataset.vet = vet;
  const sorted = [...rules].sort(
    (a, b) => WEEKDAYS.indexOf(a.weekday.slice(0, 3).toLowerCase()) - WEEKDAYS.indexOf(b.weekday.slice(0, 3).toLowerCase()) || a.span.localeCompare(b.span),
  );
  const weekday = h('select', { name: 'weekday' }, WEEKDAYS.map((d) => h('option', { value: d }, WEEKDAY_LABEL[d])));
  const span = h('input', { name: 'span', placeholder: '09:00-12:30', required: true, size: 12 });
  const from = h('input', { name: 'valid_from', value: todayIn(clinic.time_zone), required: true });
  const to = h('input', { name: 'valid_to' });
  replace(
    body,
    h('div', { class: 'manage-head' }, h('span', {}, `Weekly hours at ${clinic.name} for `), vetPicker(ctx, vet, (id) => void hoursTab(ctx, body, id))),
    h(
      'table',
      { class: 'list' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Day'), h('th', {}, 'Hours'), h('th', {}, 'From'), h('th', {}, 'Until'), h('th', {}))),
      h(
        'tbody',
        {},
        sorted.map((r) =>
          h(
            'tr',
            {},
            h('td', {}, WEEKDAY_LABEL[r.weekday.slice(0, 3).toLowerCase()] ?? r.weekday),
            h('td', {}, r.span),
            h('td', {}, longDay(r.valid_from, true)),
            h('td', {}, r.valid_to ? longDay(r.valid_to, true) : '—'),
            h(
              'td',
              {},
              h(
                'button',
                {
                  type: 'button',
                  onclick: async () => {
                    try {
                      await ctx.transport.invoke('delete_hours', { id: r.id, version: r.meta.version });
                      ctx.toasts.show(`${WEEKDAY_LABEL[r.weekday.slice(0, 3).toLowerCase()] ?? r.weekday} ${r.span} removed.`, 'ok');
                      rerender();
                    } catch (e) {
                      ctx.toasts.show(sentence(e), 'error');
                    }
                  },
                },
                'Remove',
              ),
            ),
          ),
        ),
      ),
    ),
    sorted.length ? null : h('p', { class: 'muted' }, 'No working hours here yet: this vet is never free at this clinic.'),
    form('Add working hours', [field('Day', weekday), field('Hours', span), field('From', whenField(from, { time: false })), field('Until (optional)', whenField(to, { time: false }))], async () => {
      await ctx.transport.invoke('create_hours', {
        vet_id: vet,
        clinic_id: clinic.id,
        weekday: weekday.value,
        span: span.value.trim(),
        valid_from: from.value,
        valid_to: to.value || undefined,
      });
      ctx.toasts.show(`${WEEKDAY_LABEL[weekday.value]} ${span.value.trim()} added.`, 'ok');
      rerender();
    }),
  );
}

// ---------- time off ----------

async function timeOffTab(ctx: Ctx, body: HTMLElement, vetId = ''): Promise<void> {
  const clinic = ctx.clinic();
  const vet = vetId || ctx.vets.find((v) => v.clinics.includes(clinic.id))?.id || '';
  const list = await ctx.transport
    .invoke('list_time_off', { vet_id: vet })
    .catch((e) => (ctx.toasts.show(sentence(e), 'error'), [] as TimeOff[]));
  const local = (instant: string) => dayTime(wallAt(new Date(instant), offsetMinutes(clinic.time_zone, new Date(instant))));
  const rerender = () => void timeOffTab(ctx, body, vet);
  body.dataset.vet = vet;
  const start = h('input', { name: 'start', required: true });
  const end = h('input', { name: 'end', required: true });
  const reason = h('input', { name: 'reason', placeholder: 'Holiday, course…' });
  replace(
    body,
    h('div', { class: 'manage-head' }, h('span', {}, 'Time off for '), vetPicker(ctx, vet, (id) => void timeOffTab(ctx, body, id)), h('span', { class: 'muted' }, ` (times in ${clinic.time_zone})`)),
    h(
      'table',
      { class: 'list' },
      h('thead', {}, h('tr', {}, h('th', {}, 'From'), h('th', {}, 'Until'), h('th', {}, 'Reason'), h('th', {}))),
      h(
        'tbody',
        {},
        [...list]
          .sort((a, b) => a.period.start.localeCompare(b.period.start))
          .map((t) =>
            h(
              'tr',
              {},
              h('td', {}, local(t.period.start)),
              h('td', {}, local(t.period.end)),
              h('td', {}, t.reason ?? ''),
              h(
                'td',
                {},
                h(
                  'button',
                  {
                    type: 'button',
                    onclick: async () => {
                      try {
                        await ctx.transport.invoke('delete_time_off', { id: t.id, version: t.meta.version });
                        ctx.toasts.show('Time off removed.', 'ok');
                        rerender();
                        ctx.refresh();
                      } catch (e) {
                        ctx.toasts.show(sentence(e), 'error');
                      }
                    },
                  },
                  'Remove',
                ),
              ),
            ),
          ),
      ),
    ),
    list.length ? null : h('p', { class: 'muted' }, 'No time off booked.'),
    form('Add time off', [field('From', whenField(start, { time: true })), field('Until', whenField(end, { time: true })), field('Reason', reason)], async () => {
      await ctx.transport.invoke('create_time_off', {
        vet_id: vet,
        clinic_id: clinic.id,
        start: start.value,
        end: end.value,
        reason: reason.value.trim() || undefined,
      });
      ctx.toasts.show('Time off added.', 'ok');
      rerender();
    }),
  );
}

// ---------- appointment types ----------

async function typesTab(ctx: Ctx, body: HTMLElement, editing: AppointmentType | null = null): Promise<void> {
  const types = await ctx.transport
    .invoke('list_types', {})
    .catch((e) => (ctx.toasts.show(sentence(e), 'error'), ctx.types));
  ctx.types = types;
  const name = h('input', { name: 'name', required: true, value: editing?.name ?? '' });
  const minutes = h('input', { name: 'minutes', type: 'number', min: 5, max: 480, step: 5, required: true, value: editing?.duration_min ?? 20 });
  const colour = h('input', { name: 'colour', type: 'color', value: editing?.colour ?? '#4f86f7' });
  const before = h('input', { name: 'before', type: 'number', min: 0, max: 120, step: 5, value: editing?.buffer_before_min ?? 0 });
  const after = h('input', { name: 'after', type: 'number', min: 0, max: 120, step: 5, value: editing?.buffer_after_min ?? 0 });
  const swatch = (c: string) => {
    const s = h('span', { class: 'swatch' });
    s.style.background = c;
    return s;
  };
  replace(
    body,
    h(
      'table',
      { class: 'list' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Type'), h('th', {}, 'Minutes'), h('th', {}, 'Buffer before'), h('th', {}, 'Buffer after'), h('th', {}))),
      h(
        'tbody',
        {},
        types.map((t) =>
          h(
            'tr',
            {},
            h('td', {}, swatch(t.colour), t.name),
            h('td', {}, String(t.duration_min)),
            h('td', {}, `${t.buffer_before_min} min`),
            h('td', {}, `${t.buffer_after_min} min`),
            h('td', {}, h('button', { type: 'button', onclick: () => void typesTab(ctx, body, t) }, 'Edit')),
          ),
        ),
      ),
    ),
    form(
      editing ? `Edit ${editing.name}` : 'Add a type',
      [field('Name', name), field('Minutes', minutes), field('Colour', colour), field('Buffer before', before), field('Buffer after', after)],
      async () => {
        const args = {
          name: name.value.trim(),
          duration_minutes: Number(minutes.value),
          colour: colour.value,
          buffer_before_minutes: Number(before.value),
          buffer_after_minutes: Number(after.value),
        };
        if (editing) await ctx.transport.invoke('update_type', { ...args, id: editing.id, version: editing.meta.version });
        else await ctx.transport.invoke('create_type', args);
        ctx.toasts.show(`${args.name} saved.`, 'ok');
        void typesTab(ctx, body);
      },
      editing ? 'Save' : 'Add',
    ),
  );
}

// ---------- owners and pets ----------

async function clientsTab(ctx: Ctx, body: HTMLElement, query = '', selected: Client | null = null): Promise<void> {
  const search = h('input', { type: 'search', placeholder: 'Search owners by name', value: query, 'aria-label': 'Search owners' });
  const results = h('tbody', {});
  const petsBox = h('div', { class: 'pets' });
  const load = async () => {
    const clients = await ctx.transport
      .invoke('list_clients', { q: search.value.trim() || undefined, limit: 25 })
      .catch((e) => (ctx.toasts.show(sentence(e), 'error'), [] as Client[]));
    replace(
      results,
      clients.map((c) =>
        h(
          'tr',
          { class: selected?.id === c.id ? 'selected' : '' },
          h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => void clientsTab(ctx, body, search.value, c) }, c.name)),
          h('td', {}, c.phone ?? ''),
          h('td', {}, c.email ?? ''),
        ),
      ),
    );
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void load(), 150);
  });
  const name = h('input', { name: 'name', required: true });
  const phone = h('input', { name: 'phone', placeholder: '+44 20 7946 0000' });
  const email = h('input', { name: 'email', type: 'email' });
  replace(
    body,
    h(
      'div',
      { class: 'split' },
      h(
        'div',
        {},
        search,
        h('table', { class: 'list' }, h('thead', {}, h('tr', {}, h('th', {}, 'Owner'), h('th', {}, 'Phone'), h('th', {}, 'Email'))), results),
        form('Add an owner', [field('Name', name), field('Phone', phone), field('Email', email)], async () => {
          const c = await ctx.transport.invoke('create_client', {
            name: name.value.trim(),
            phone: phone.value.trim() || undefined,
            email: email.value.trim() || undefined,
          });
          ctx.toasts.show(`${c.name} added.`, 'ok');
          void clientsTab(ctx, body, c.name, c);
        }),
      ),
      petsBox,
    ),
  );
  await load();
  if (!selected) {
    petsBox.appendChild(h('p', { class: 'muted' }, 'Choose an owner to see their pets.'));
    return;
  }
  const owner = selected;
  const pets = await ctx.transport
    .invoke('list_pets', { owner_id: owner.id, limit: 50 })
    .catch((e) => (ctx.toasts.show(sentence(e), 'error'), [] as Pet[]));
  const petName = h('input', { name: 'pet', required: true });
  const species = h('input', { name: 'species', required: true, placeholder: 'dog, cat…' });
  const breed = h('input', { name: 'breed' });
  replace(
    petsBox,
    h('h3', {}, `${owner.name}’s pets`),
    pets.length
      ? h('ul', { class: 'plain' }, pets.map((p) => h('li', {}, h('strong', {}, p.name), ` ${p.species}${p.breed ? `, ${p.breed}` : ''}`)))
      : h('p', { class: 'muted' }, 'No pets yet.'),
    form('Add a pet', [field('Name', petName), field('Species', species), field('Breed', breed)], async () => {
      const p = await ctx.transport.invoke('create_pet', {
        owner_id: owner.id,
        name: petName.value.trim(),
        species: species.value.trim(),
        breed: breed.value.trim() || undefined,
      });
      ctx.toasts.show(`${p.name} added for ${owner.name}.`, 'ok');
      void clientsTab(ctx, body, search.value, owner);
    }),
  );
}
