// Clinic-local dates and wall times. The API speaks a clinic's wall time as
// `YYYY-MM-DDTHH:MM[:SS]` without an offset; the browser may sit in another
// zone, so these helpers never use the browser's own local time.

const pad = (n: number) => String(n).padStart(2, '0');

/** Today's date in a clinic's time zone (`YYYY-MM-DD`). */
export function todayIn(timeZone: string, now = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** The zone's offset from UTC at an instant, in minutes (London in summer: 60). */
export function offsetMinutes(timeZone: string, at = new Date()): number {
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!m) return 0;
  const sign = m[1] === '-' ? -1 : 1;
  return sign * (Number(m[2]) * 60 + Number(m[3] ?? 0));
}

/** `+01:00` style, as the calendar library's `timeZone` option takes it. */
export function offsetString(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The wall time an instant shows at a fixed offset: `YYYY-MM-DDTHH:MM`. */
export function wallAt(date: Date, offsetMin: number): string {
  const d = new Date(date.getTime() + offsetMin * 60_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(
    d.getUTCHours(),
  )}:${pad(d.getUTCMinutes())}`;
}

/** Minutes from one wall time to another (both `YYYY-MM-DDTHH:MM…`). */
export function minutesBetween(a: string, b: string): number {
  return Math.round((asUtc(b) - asUtc(a)) / 60_000);
}

/** A wall time read as if it were UTC: for arithmetic on wall times only. */
export function asUtc(wall: string): number {
  const [date = '', time = '00:00'] = wall.split('T');
  const [y, mo, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  return Date.UTC(y ?? 1970, (mo ?? 1) - 1, d ?? 1, hh ?? 0, mm ?? 0);
}

export function addMinutes(wall: string, minutes: number): string {
  return wallAt(new Date(asUtc(wall) + minutes * 60_000), 0);
}

export function addDays(date: string, days: number): string {
  return wallAt(new Date(asUtc(date) + days * 86_400_000), 0).slice(0, 10);
}

/** `HH:MM` of a wall time. */
export function hhmm(wall: string): string {
  return wall.slice(11, 16);
}

const weekdayFmt = new Intl.DateTimeFormat('en-GB', {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  timeZone: 'UTC',
});
const longFmt = new Intl.DateTimeFormat('en-GB', {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  timeZone: 'UTC',
});
const monthFmt = new Intl.DateTimeFormat('en-GB', {
  month: 'long',
  year: 'numeric',
  timeZone: 'UTC',
});

/** "Wed 25 Nov" */
export function shortDay(date: string): string {
  return weekdayFmt.format(new Date(asUtc(date)));
}

/** "Wednesday 25 November 2026", or "Wed 25 Nov 2026" where room is short. */
export function longDay(date: string, short = false): string {
  const d = new Date(asUtc(date));
  return short ? `${weekdayFmt.format(d)} ${d.getUTCFullYear()}` : longFmt.format(d);
}

export function monthTitle(date: string): string {
  return monthFmt.format(new Date(asUtc(date)));
}

/** "Wed 25 Nov 2026, 10:00": a moment in the one format the app uses everywhere. */
export function dayTime(wall: string): string {
  return `${longDay(wall.slice(0, 10), true)}, ${hhmm(wall)}`;
}

/** "Wed 25 Nov, 10:00–10:30" */
export function span(start: string, end: string): string {
  return `${shortDay(start.slice(0, 10))}, ${hhmm(start)}–${hhmm(end)}`;
}
