// What the UI stories share: a small API client (the "other workstation"),
// the demo practice's ids, and page helpers.

import { expect, type Page } from '@playwright/test';
import { server } from './server';

export const DEMO_USERS = {
  admin: { username: 'admin', password: 'vetdesk-admin' },
  desk: { username: 'desk', password: 'vetdesk-desk' },
  morgan: { username: 'morgan', password: 'vetdesk-vet' },
} as const;

/** The calendar draws 15-minute rows 22 px high (src/ui/calendar.ts). */
export const PX_PER_MINUTE = 22 / 15;

export interface Slot {
  local_start: string;
  local_end: string;
}
export interface Appt extends Slot {
  id: string;
  vet_id: string;
  status: string;
  version: number;
  pet_name: string;
  client_name: string;
  type_name: string;
}
export interface Free extends Slot {
  vet_id: string;
}
export interface Day {
  date: string;
  appointments: Appt[];
  free: Free[];
}

/** Another workstation: plain HTTP to the same server, signed in when the server has sign-in. */
export class Api {
  token: string | null = null;
  constructor(readonly base = server().base) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.base}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async ok<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** Sign in as a demo user; false when this server has no sign-in (before authentication landed). */
  async signIn(user: { username: string; password: string } = DEMO_USERS.admin): Promise<boolean> {
    const r = await this.call<{ token: string }>('POST', '/auth/login', user);
    if (r.status === 404) return false;
    if (r.status !== 200) throw new Error(`sign-in as ${user.username}: ${r.status} ${JSON.stringify(r.body)}`);
    this.token = r.body.token;
    return true;
  }
}

export interface Practice {
  api: Api;
  auth: boolean;
  riverside: { id: string; time_zone: string };
  vets: { id: string; name: string; clinics: string[] }[];
  types: { id: string; name: string; colour: string; duration_min: number; buffer_before_min: number; buffer_after_min: number }[];
}

export async function practice(): Promise<Practice> {
  const api = new Api();
  const auth = await api.signIn();
  const clinics = await api.ok<{ id: string; name: string; time_zone: string }[]>('GET', '/clinics');
  const riverside = clinics.find((c) => c.name.startsWith('Riverside'));
  if (!riverside) throw new Error('no Riverside clinic in the demo practice');
  const vets = await api.ok<Practice['vets']>('GET', '/vets');
  const types = await api.ok<Practice['types']>('GET', '/appointment-types');
  return { api, auth, riverside, vets, types };
}

export function todayIn(timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(),
  );
}

export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function minutes(wall: string): number {
  const [hh, mm] = wall.slice(11, 16).split(':').map(Number);
  return (hh ?? 0) * 60 + (mm ?? 0);
}

export function hhmm(wall: string): string {
  return wall.slice(11, 16);
}

export async function day(p: Practice, date: string, vetId?: string): Promise<Day> {
  const q = new URLSearchParams({ view: 'day', date, clinic_id: p.riverside.id });
  if (vetId) q.set('vet_id', vetId);
  const cal = await p.api.ok<{ days: Day[] }>('GET', `/appointments/calendar?${q}`);
  const d = cal.days[0];
  if (!d) throw new Error(`no calendar day for ${date}`);
  return d;
}

/** The next days (from tomorrow, clinic time) and what each holds. */
export async function comingDays(p: Practice, count = 10): Promise<Day[]> {
  const today = todayIn(p.riverside.time_zone);
  const out: Day[] = [];
  for (let i = 1; i <= count; i++) out.push(await day(p, addDays(today, i)));
  return out;
}

/** Collects what would mean the page is broken: uncaught errors and CSP refusals. */
export function watchConsole(page: Page): () => string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    if (m.type() === 'error' && /Uncaught|TypeError|ReferenceError/.test(text)) problems.push(text);
  });
  return () => problems;
}

/** Open the app and sign in (or, on a server without sign-in, check it says so and go on). */
export async function signIn(page: Page, p: Practice, user: { username: string; password: string } = DEMO_USERS.desk) {
  await page.goto(server().base + '/');
  if (p.auth) {
    await expect(page.getByRole('heading', { name: 'Sign in to the appointment book' })).toBeVisible();
    await page.getByLabel('User name').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await expect(page.locator('#workspace')).toBeVisible();
}

/** Show one day of Riverside (optionally one vet) and wait until it is drawn. */
export async function openDay(page: Page, p: Practice, date: string, vetId = ''): Promise<void> {
  const q = new URLSearchParams({ clinic: p.riverside.id, view: 'day', date });
  if (vetId) q.set('vet', vetId);
  // Client-side navigation keeps the session (and proves the SPA fallback on reloads).
  await page.evaluate((url) => {
    history.pushState(null, '', url);
    dispatchEvent(new PopStateEvent('popstate'));
  }, `/calendar?${q}`);
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-date', date);
  await expect(page.locator('section.calendar')).not.toHaveAttribute('aria-busy', 'true');
}

export function event(page: Page, id: string) {
  return page.locator(`.ec-event:has([data-appt-id="${id}"])`);
}

/** Drag an appointment by `deltaMinutes` (and optionally into another vet's column). */
export async function drag(page: Page, id: string, deltaMinutes: number, toColumnX?: number): Promise<void> {
  const el = event(page, id);
  await el.scrollIntoViewIfNeeded();
  const box = await el.boundingBox();
  if (!box) throw new Error(`appointment ${id} is not on screen`);
  const x = box.x + Math.min(40, box.width / 2);
  const y = box.y + 4;
  await page.mouse.move(x, y);
  await page.mouse.down();
  const ty = y + deltaMinutes * PX_PER_MINUTE + 1;
  const tx = toColumnX ?? x;
  await page.mouse.move(x, y + Math.sign(deltaMinutes || 1) * 10, { steps: 3 });
  await page.mouse.move(tx, ty, { steps: 12 });
  await page.mouse.up();
}
