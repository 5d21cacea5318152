// Under the calendar: what each colour (the appointment type) and each status
// mark means, so neither is carried by colour alone.

import type { AppointmentType, Status } from '../transport/types';
import { h } from './dom';
import { STATUS_LABEL, STATUS_MARK } from './roles';

const SHOWN: Status[] = ['scheduled', 'confirmed', 'checked_in', 'in_progress', 'completed', 'no_show'];

/** A status as a letter badge, named for screen readers and on hover. */
export function statusMark(status: Status): HTMLElement {
  return h(
    'span',
    { class: `mark st-${status}`, title: STATUS_LABEL[status], 'aria-label': STATUS_LABEL[status], role: 'img' },
    STATUS_MARK[status],
  );
}

export function legend(types: AppointmentType[]): HTMLElement {
  return h(
    'div',
    { class: 'legend', role: 'group', 'aria-label': 'Legend' },
    h(
      'ul',
      { class: 'legend-types', 'aria-label': 'Appointment types' },
      types.map((t) => {
        const swatch = h('span', { class: 'swatch' });
        // Through the CSSOM: the page's CSP refuses style attributes.
        swatch.style.setProperty('--type-colour', t.colour);
        return h('li', {}, swatch, t.name);
      }),
    ),
    h(
      'ul',
      { class: 'legend-status', 'aria-label': 'Statuses' },
      SHOWN.map((s) => h('li', {}, statusMark(s), STATUS_LABEL[s])),
    ),
  );
}
