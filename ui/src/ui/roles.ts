// What each role is offered. The server enforces the same rules; the UI only
// hides what would be refused, so nobody is invited to press a button that fails.

import type { Status, User } from '../transport/types';

export type Step = 'confirm' | 'check_in' | 'start' | 'complete' | 'no_show' | 'cancel';

/** The lifecycle (DESIGN.md): which steps a status allows. */
const NEXT: Record<Status, Step[]> = {
  scheduled: ['confirm', 'check_in', 'start', 'no_show', 'cancel'],
  confirmed: ['check_in', 'start', 'no_show', 'cancel'],
  checked_in: ['start'],
  in_progress: ['complete'],
  completed: [],
  cancelled: [],
  no_show: [],
};

/** The signed-in person, or `null` when the server has no sign-in (everything is allowed). */
export type Who = User | null;

const DESK_STEPS: ReadonlySet<Step> = new Set(['confirm', 'check_in', 'no_show', 'cancel']);
const VET_STEPS: ReadonlySet<Step> = new Set(['start', 'complete']);

export function canStep(who: Who, step: Step, appt: { vet_id: string }): boolean {
  if (!who || who.role === 'admin') return true;
  if (who.role === 'front_desk') return DESK_STEPS.has(step);
  return VET_STEPS.has(step) && who.vet_id === appt.vet_id;
}

/** The steps to offer for an appointment, in the order a day runs. */
export function stepsFor(who: Who, appt: { vet_id: string; status: Status }, started: boolean): Step[] {
  return NEXT[appt.status].filter(
    (s) => canStep(who, s, appt) && (s !== 'no_show' || started),
  );
}

export function canBook(who: Who): boolean {
  return !who || who.role !== 'vet';
}

export function canReschedule(who: Who, status: Status): boolean {
  return canBook(who) && (status === 'scheduled' || status === 'confirmed');
}

export function canManageOwners(who: Who): boolean {
  return !who || who.role !== 'vet';
}

export function canManageSchedule(who: Who): boolean {
  return !who || who.role === 'admin';
}

export const STEP_LABEL: Record<Step, string> = {
  confirm: 'Confirm',
  check_in: 'Check in',
  start: 'Start',
  complete: 'Complete',
  no_show: 'No-show',
  cancel: 'Cancel…',
};

export const STATUS_LABEL: Record<Status, string> = {
  scheduled: 'Scheduled',
  confirmed: 'Confirmed',
  checked_in: 'Arrived',
  in_progress: 'In progress',
  completed: 'Completed',
  cancelled: 'Cancelled',
  no_show: 'No-show',
};

/** A status in one letter, for lines too narrow for its name (the legend says which is which). */
export const STATUS_MARK: Record<Status, string> = {
  scheduled: 'S',
  confirmed: 'C',
  checked_in: 'A',
  in_progress: 'P',
  completed: 'D',
  cancelled: 'X',
  no_show: 'N',
};

export const ROLE_LABEL: Record<User['role'], string> = {
  admin: 'Administrator',
  front_desk: 'Front desk',
  vet: 'Vet',
};
