// Conflict reasons in words a person at the desk recognises: an overlap names
// the patient in the way (the server's sentence names its id), the rest are
// the server's own sentences, in the clinic's time.

import type { CalendarAppointment, Conflict } from '../transport/types';
import { hhmm } from './time';

export function reasons(
  report: { conflicts?: unknown[]; messages?: string[] },
  lookup: (id: string) => CalendarAppointment | undefined,
): string[] {
  const messages = report.messages ?? [];
  const conflicts = (report.conflicts ?? []) as Conflict[];
  return messages.map((message, i) => {
    const c = conflicts[i];
    if (c?.kind !== 'overlap') return message;
    const other = lookup(c.appointment_id);
    if (!other) return message;
    const when = `${hhmm(other.local_start)}–${hhmm(other.local_end)}`;
    return c.buffer_only
      ? `too close to ${other.pet_name} (${other.client_name}) at ${when}, which needs time around it`
      : `overlaps ${other.pet_name} (${other.client_name}) at ${when}`;
  });
}
