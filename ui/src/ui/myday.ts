// "My day" beside a vet's own calendar: who is in with them, who has arrived,
// and what comes next, each a click from its details.

import type { Calendar, CalendarAppointment } from '../transport/types';
import type { Ctx } from './context';
import { openDetails } from './details';
import { h } from './dom';
import { STATUS_LABEL } from './roles';
import { hhmm, offsetMinutes, wallAt } from './time';

function row(ctx: Ctx, a: CalendarAppointment): HTMLElement {
  return h(
    'li',
    {},
    h(
      'button',
      { type: 'button', class: 'row', onclick: () => void openDetails(ctx, a.id) },
      h('span', { class: 'ev-time' }, hhmm(a.local_start)),
      h('span', { class: 'row-main' }, h('strong', {}, a.pet_name), ` ${a.client_name}`),
      h('span', { class: `pill st-${a.status}` }, STATUS_LABEL[a.status]),
    ),
  );
}

export function myDayPanel(ctx: Ctx, cal: Calendar): HTMLElement {
  const now = wallAt(new Date(), offsetMinutes(cal.clinic.time_zone));
  const all = cal.days.flatMap((d) => d.appointments).sort((a, b) => a.local_start.localeCompare(b.local_start));
  const inProgress = all.filter((a) => a.status === 'in_progress');
  const arrived = all.filter((a) => a.status === 'checked_in');
  const next = all.filter(
    (a) => (a.status === 'scheduled' || a.status === 'confirmed') && a.local_end > now,
  );
  const section = (title: string, list: CalendarAppointment[], empty: string, id: string) =>
    h(
      'section',
      { class: 'panel', id },
      h('h2', {}, title, list.length ? h('span', { class: 'count' }, String(list.length)) : null),
      list.length ? h('ul', { class: 'rows' }, list.map((a) => row(ctx, a))) : h('p', { class: 'muted' }, empty),
    );
  const done = all.filter((a) => a.status === 'completed').length;
  // Said of the day shown: "today" only when it is today at the clinic.
  const today = cal.first === now.slice(0, 10);
  const when = today ? 'today' : 'that day';
  return h(
    'div',
    { class: 'myday' },
    section('With you now', inProgress, 'Nobody.', 'myday-now'),
    section('Arrived', arrived, 'Nobody is waiting.', 'myday-arrived'),
    section('Next', next.slice(0, 6), `Nothing more booked ${when}.`, 'myday-next'),
    h('p', { class: 'muted small', id: 'myday-done' }, `${done} of ${all.length} completed ${when}.`),
  );
}
