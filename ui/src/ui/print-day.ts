// The day list on paper: per vet, each appointment's time, pet, owner, phone,
// type and status. It is built into the page (hidden on screen) and only the
// print stylesheet shows it, without the app's buttons. The calendar has no
// phone numbers, so each appointment's owner is looked up once.

import type { Calendar, CalendarAppointment } from '../transport/types';
import type { Ctx } from './context';
import { h, replace } from './dom';
import { STATUS_LABEL } from './roles';
import { hhmm, longDay } from './time';

const ON_PAPER = new Set(['scheduled', 'confirmed', 'checked_in', 'in_progress', 'completed']);

async function phones(ctx: Ctx, appts: CalendarAppointment[]): Promise<Map<string, string>> {
  const byAppt = new Map<string, string>();
  const clients = new Map<string, Promise<string>>();
  await Promise.all(
    appts.map(async (a) => {
      const details = await ctx.transport.invoke('get', { id: a.id });
      let phone = clients.get(details.client_id);
      if (!phone) {
        phone = ctx.transport.invoke('get_client', { id: details.client_id }).then((c) => c.phone ?? '');
        clients.set(details.client_id, phone);
      }
      byAppt.set(a.id, await phone);
    }),
  );
  return byAppt;
}

/** The print view of `date` (one vet when `vetId` is set) from the loaded calendar. */
export async function buildDayList(ctx: Ctx, cal: Calendar, date: string, vetId: string): Promise<HTMLElement> {
  const day = cal.days.find((d) => d.date === date);
  const appts = (day?.appointments ?? [])
    .filter((a) => ON_PAPER.has(a.status) && (!vetId || a.vet_id === vetId))
    .sort((a, b) => a.local_start.localeCompare(b.local_start));
  const phone = await phones(ctx, appts);
  const vets = cal.vets.filter((v) => (!vetId || v.id === vetId) && appts.some((a) => a.vet_id === v.id));
  return h(
    'section',
    { class: 'print-day', 'aria-label': 'Day list for printing', 'data-date': date },
    h('h1', {}, `${ctx.clinic().name} · ${longDay(date)}`),
    vets.length === 0 ? h('p', {}, 'No appointments.') : null,
    vets.map((v) =>
      h(
        'section',
        { class: 'print-vet' },
        h('h2', {}, v.name),
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ['Time', 'Pet', 'Owner', 'Phone', 'Type', 'Status', 'Reason'].map((t) => h('th', {}, t)))),
          h(
            'tbody',
            {},
            appts
              .filter((a) => a.vet_id === v.id)
              .map((a) =>
                h(
                  'tr',
                  { 'data-appt-id': a.id },
                  h('td', {}, `${hhmm(a.local_start)}–${hhmm(a.local_end)}`),
                  h('td', {}, a.pet_name),
                  h('td', {}, a.client_name),
                  h('td', {}, phone.get(a.id) ?? ''),
                  h('td', {}, a.type_name),
                  h('td', {}, STATUS_LABEL[a.status]),
                  h('td', {}, a.reason ?? ''),
                ),
              ),
          ),
        ),
      ),
    ),
  );
}

/** Put the day list in the page (replacing the last one) and open the browser's print dialog. */
export async function printDay(ctx: Ctx, cal: Calendar, date: string, vetId: string): Promise<void> {
  const list = await buildDayList(ctx, cal, date, vetId);
  let holder = document.getElementById('print-holder');
  if (!holder) {
    holder = h('div', { id: 'print-holder' });
    document.body.append(holder);
  }
  replace(holder, list);
  window.print();
}
