// What every screen of a signed-in session shares.

import type { Transport } from '../transport';
import type { AppointmentType, CalendarAppointment, Clinic, Vet } from '../transport/types';
import type { Who } from './roles';
import type { Toasts } from './toast';

export interface Ctx {
  readonly transport: Transport;
  /** The signed-in person; null when the server has no sign-in. */
  readonly who: Who;
  clinics: Clinic[];
  vets: Vet[];
  types: AppointmentType[];
  readonly toasts: Toasts;
  /** The clinic whose calendar is shown. */
  clinic(): Clinic;
  /** Reload what the calendar shows (after a change made here). */
  refresh(): void;
  vetName(id: string): string;
  /** An appointment the calendar has loaded (to name it in conflict reasons). */
  appointment(id: string): CalendarAppointment | undefined;
}

/** A type's colour as a calm tint for the event's fill, and a readable text colour. */
export function tint(hex: string, amount = 0.78): string {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  if (!m) return '#eef1f5';
  const mix = (c: string) => Math.round(parseInt(c, 16) + (255 - parseInt(c, 16)) * amount);
  return `rgb(${mix(m[1] ?? '0')}, ${mix(m[2] ?? '0')}, ${mix(m[3] ?? '0')})`;
}
