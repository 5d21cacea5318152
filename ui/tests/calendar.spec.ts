// The calendar UI in Chromium against a real `vetdesk serve` on a fresh demo
// practice. Each story checks what the person sees and what the server now holds.

import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import {
  addDays,
  comingDays,
  day,
  DEMO_USERS,
  drag,
  event,
  hhmm,
  minutes,
  openDay,
  practice,
  signIn,
  todayIn,
  watchConsole,
  type Appt,
  type Day,
  type Free,
  type Practice,
} from './helpers';
import { server } from './server';

const SHOTS = 'test-results/screens';
mkdirSync(SHOTS, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png` });

const movable = (a: Appt) => a.status === 'scheduled' || a.status === 'confirmed';
const length = (s: { local_start: string; local_end: string }) => minutes(s.local_end) - minutes(s.local_start);

let p: Practice;
let days: Day[];
/** Appointments a story has claimed, so no two stories touch the same one. */
const claimed = new Set<string>();

function claim(pick: (d: Day) => Appt | undefined): { d: Day; a: Appt } {
  for (const d of days) {
    const a = pick(d);
    if (a && !claimed.has(a.id)) {
      claimed.add(a.id);
      return { d, a };
    }
  }
  throw new Error('the demo practice has no appointment fit for this story');
}

test.beforeAll(async () => {
  p = await practice();
});

let problems: () => string[];
test.beforeEach(async ({ page }) => {
  // As the server holds it now: earlier stories booked and moved things.
  days = await comingDays(p, 10);
  problems = watchConsole(page);
});
test.afterEach(async () => {
  // No uncaught error and no Content-Security-Policy refusal in any story.
  expect(problems()).toEqual([]);
});

test('signing in, locking and switching user without reloading', async ({ page }) => {
  if (!p.auth) {
    // A server without sign-in: the app says so and opens the calendar.
    await signIn(page, p);
    await expect(page.getByText('No sign-in on this server')).toBeVisible();
    await expect(page.locator('#new-booking')).toBeVisible();
    await shot(page, '01-no-sign-in');
    return;
  }
  await page.goto(server().base + '/');
  await expect(page.getByRole('heading', { name: 'Sign in to the appointment book' })).toBeVisible();
  await page.getByLabel('User name').fill('desk');
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('user name and password do not match');
  await shot(page, '01-sign-in-refused');

  await page.getByLabel('Password').fill(DEMO_USERS.desk.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#user-name')).toBeVisible();
  await expect(page.locator('#new-booking')).toBeVisible();
  await expect(page.locator('[data-view="manage"]')).toBeVisible();
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to the appointment book' })).toBeVisible();
  // Whoever signed in here is one click away.
  await page.locator('.recent-users .chip').first().click();
  await expect(page.getByLabel('User name')).toHaveValue('desk');
  await page.getByLabel('User name').fill('morgan');
  await page.getByLabel('Password').fill(DEMO_USERS.morgan.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#user-name')).toContainText('Morgan');
  // A vet lands on "my day", with no booking or management offered.
  await expect(page.locator('[data-view="my-day"]')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('#myday-next')).toBeVisible();
  await expect(page.locator('#new-booking')).toHaveCount(0);
  await expect(page.locator('[data-view="manage"]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  await shot(page, '02-my-day-vet');
  // It speaks of "today" only on today at the clinic; another date is "that day".
  await expect(page.locator('#myday-done')).toContainText('completed today.');
  const today = todayIn(p.riverside.time_zone);
  const next = new Date(Date.parse(`${today}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  await page.evaluate((url) => {
    history.pushState(null, '', url);
    dispatchEvent(new PopStateEvent('popstate'));
  }, `/my-day?${new URLSearchParams({ clinic: p.riverside.id, view: 'day', date: next })}`);
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-date', next);
  await expect(page.locator('#myday-done')).toContainText('completed that day.');
});

test('booking from a free slot in three steps', async ({ page }) => {
  const consultation = p.types.find((t) => t.name === 'Consultation');
  if (!consultation) throw new Error('no Consultation type');
  const need = consultation.duration_min + consultation.buffer_after_min + consultation.buffer_before_min;
  let found: { d: Day; f: Free } | null = null;
  for (const d of days) {
    const f = d.free.find((x) => minutes(x.local_start) % 15 === 0 && length(x) >= need + 10);
    if (f) {
      found = { d, f };
      break;
    }
  }
  if (!found) throw new Error('no free block long enough in the coming days');
  const { d, f } = found;
  const pets = await p.api.ok<{ id: string; name: string; owner: string }[]>('GET', '/pets?q=Biscuit&limit=8');
  const pet = pets[0];
  if (!pet) throw new Error('no pet named Biscuit');
  const owner = await p.api.ok<{ name: string }>('GET', `/clients/${pet.owner}`);

  await signIn(page, p);
  await openDay(page, p, d.date);
  await shot(page, '03-day-view');

  // 1: click the free time.
  const block = page.locator(`.ec-bg-event.free[data-vet="${f.vet_id}"][data-free-start="${f.local_start.slice(0, 16)}"]`);
  // Background events let clicks through to the grid, which is what the person clicks.
  const box = await block.boundingBox();
  if (!box) throw new Error('the free block is not on screen');
  await page.mouse.click(box.x + 30, box.y + 4);
  const dialog = page.getByRole('dialog', { name: 'New appointment' });
  await expect(dialog).toBeVisible();
  await expect(page.locator('#book-start')).toHaveValue(f.local_start.slice(0, 16));
  await expect(page.locator('#patient-search')).toBeFocused();
  await expect(page.locator('#conflict-status')).toContainText('is free');
  // 2: type the pet's name and take the first match with Enter.
  await page.keyboard.type('Biscuit');
  await expect(page.locator('#patient-results [role="option"]').first()).toContainText(owner.name);
  await shot(page, '04-booking-dialog');
  await page.keyboard.press('Enter');
  await expect(page.locator('.chosen')).toContainText(owner.name);
  await expect(page.locator('#book-submit')).toBeFocused();
  // 3: Enter books it.
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: 'Booked' })).toBeVisible();

  const after = await day(p, d.date, f.vet_id);
  const booked = after.appointments.find(
    (a) => a.local_start.startsWith(f.local_start.slice(0, 16)) && a.pet_name === pet.name,
  );
  expect(booked, 'the server holds the new appointment').toBeTruthy();
  expect(booked?.type_name).toBe('Consultation');
  expect(length(booked as Appt)).toBe(consultation.duration_min);
  await expect(event(page, (booked as Appt).id)).toBeVisible();
  await expect(event(page, (booked as Appt).id)).toContainText(pet.name);
  claimed.add((booked as Appt).id);
  await shot(page, '05-booked');
});

test('booking entirely from the keyboard', async ({ page }) => {
  const d = days[0] as Day;
  await signIn(page, p);
  await openDay(page, p, d.date);
  await page.locator('body').press('n');
  const dialog = page.getByRole('dialog', { name: 'New appointment' });
  await expect(dialog).toBeVisible();
  await expect(page.locator('#patient-search')).toBeFocused();
  await expect(page.locator('#conflict-status')).toContainText('is free');
  const start = await page.locator('#book-start').inputValue();
  const vet = await page.locator('#book-vet').inputValue();
  await page.keyboard.type('Luna');
  await expect(page.locator('#patient-results [role="option"]').first()).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await expect(page.locator('#patient-results [role="option"]').nth(1)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Enter');
  await expect(page.locator('#book-submit')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  const after = await day(p, start.slice(0, 10), vet);
  const booked = after.appointments.find((a) => a.local_start.startsWith(start) && a.pet_name === 'Luna');
  expect(booked, `Luna booked at ${start}`).toBeTruthy();
  claimed.add((booked as Appt).id);
});

test('a vet starts and completes their own appointment from my day', async ({ page }) => {
  if (!p.auth) return signIn(page, p);
  const morgan = p.vets.find((v) => v.name.includes('Morgan'));
  // Today when it still holds a booked patient of Morgan's and of another vet;
  // late in the clinic's day the demo has played every one of today's forward,
  // so the story then takes the first coming day that does (none of the steps
  // below depends on the hour).
  const today = todayIn(p.riverside.time_zone);
  const pick = (d: Day) => ({
    date: d.date,
    mine: d.appointments.find((a) => a.vet_id === morgan?.id && movable(a) && !claimed.has(a.id)),
    other: d.appointments.find((a) => a.vet_id !== morgan?.id && movable(a) && !claimed.has(a.id)),
  });
  let chosen = pick(await day(p, today));
  for (const d of chosen.mine && chosen.other ? [] : await comingDays(p, 10)) {
    chosen = pick(await day(p, d.date));
    if (chosen.mine && chosen.other) break;
  }
  const { mine, other, date } = chosen;
  if (!mine || !other) throw new Error('no day in the next ten with a booked patient of Morgan and of another vet');
  claimed.add(mine.id);
  claimed.add(other.id);
  // The front desk checks both patients in.
  await p.api.ok('POST', `/appointments/${mine.id}/check-in`, { version: mine.version });
  await p.api.ok('POST', `/appointments/${other.id}/check-in`, { version: other.version });

  await signIn(page, p, DEMO_USERS.morgan);
  if (date !== today) {
    await page.evaluate((url) => {
      history.pushState(null, '', url);
      dispatchEvent(new PopStateEvent('popstate'));
    }, `/my-day?${new URLSearchParams({ clinic: p.riverside.id, view: 'day', date })}`);
    await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-date', date);
  }
  const arrived = page.locator('#myday-arrived');
  await expect(arrived).toContainText(mine.pet_name);
  await shot(page, '17-my-day-arrived');
  await arrived.getByRole('button', { name: new RegExp(mine.pet_name) }).click();
  const dialog = page.getByRole('dialog', { name: 'Appointment' });
  await expect(dialog.getByRole('button', { name: 'Check in' })).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Start' }).click();
  await expect(dialog.locator('.details-head .pill')).toHaveText('In progress');
  await dialog.getByRole('button', { name: 'Complete' }).click();
  await expect(dialog.locator('.details-head .pill')).toHaveText('Completed');
  await dialog.getByRole('button', { name: 'Close' }).click();
  expect((await p.api.ok<{ status: string }>('GET', `/appointments/${mine.id}`)).status).toBe('completed');

  // Another vet's patient: the vet may look, not start.
  await page.locator('[data-view="day"]').click();
  await event(page, other.id).click();
  await expect(dialog).toContainText(other.pet_name);
  await expect(dialog.getByRole('button', { name: 'Start' })).toHaveCount(0);
  await expect(dialog).toContainText('No status change is open to you now.');
});

test('a drag into another appointment is refused, snaps back and says why', async ({ page }) => {
  const { d, a } = claim((dd) =>
    dd.appointments.find((x) => {
      if (!movable(x)) return false;
      return dd.appointments.some(
        (y) => y.id !== x.id && y.vet_id === x.vet_id && y.status !== 'cancelled' && Math.abs(minutes(y.local_start) - minutes(x.local_start)) <= 180 && minutes(y.local_start) !== minutes(x.local_start),
      );
    }),
  );
  const b = d.appointments.find(
    (y) => y.id !== a.id && y.vet_id === a.vet_id && y.status !== 'cancelled' && Math.abs(minutes(y.local_start) - minutes(a.local_start)) <= 180 && minutes(y.local_start) !== minutes(a.local_start),
  ) as Appt;

  await signIn(page, p);
  await openDay(page, p, d.date);
  const before = await event(page, a.id).boundingBox();
  await drag(page, a.id, minutes(b.local_start) - minutes(a.local_start));

  const alert = page.getByRole('alert').filter({ hasText: 'was not moved' });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText('That time is not free');
  await expect(alert).toContainText(`overlaps ${b.pet_name}`);
  await shot(page, '06-refused-move');
  // Back where it was, on screen and on the server.
  await expect.poll(async () => (await event(page, a.id).boundingBox())?.y).toBeCloseTo(before?.y ?? -1, 0);
  const now = await p.api.ok<{ local: { local_start: string }; meta: { version: number } }>('GET', `/appointments/${a.id}`);
  expect(now.local.local_start.slice(0, 16)).toBe(a.local_start.slice(0, 16));
  expect(now.meta.version).toBe(a.version);
});

test('rescheduling by drag saves the new time', async ({ page }) => {
  let target: Free | null = null;
  let newStart = '';
  const { d, a } = claim((dd) =>
    dd.appointments.find((x) => {
      if (!movable(x)) return false;
      const type = p.types.find((t) => t.name === x.type_name);
      const before = type?.buffer_before_min ?? 0;
      const after = type?.buffer_after_min ?? 0;
      const f = dd.free.find(
        (y) =>
          y.vet_id === x.vet_id &&
          minutes(y.local_start) % 5 === 0 &&
          length(y) >= before + length(x) + after + 10 &&
          Math.abs(minutes(y.local_start) - minutes(x.local_start)) <= 240,
      );
      if (!f) return false;
      target = f;
      const start = minutes(f.local_start) + before + 5;
      newStart = `${f.local_start.slice(0, 11)}${String(Math.floor(start / 60)).padStart(2, '0')}:${String(start % 60).padStart(2, '0')}`;
      return true;
    }),
  );
  expect(target).not.toBeNull();

  await signIn(page, p);
  await openDay(page, p, d.date);
  await drag(page, a.id, minutes(newStart) - minutes(a.local_start));
  await expect(page.getByRole('status').filter({ hasText: 'Moved' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Moved' })).toContainText(hhmm(newStart));

  const now = await p.api.ok<{ status: string; local: { local_start: string; local_end: string }; meta: { version: number } }>(
    'GET',
    `/appointments/${a.id}`,
  );
  expect(now.local.local_start.slice(0, 16)).toBe(newStart);
  expect(length(now.local)).toBe(length(a));
  expect(now.status).toBe('scheduled');
  expect(now.meta.version).toBe(a.version + 1);
  await expect(event(page, a.id)).toContainText(hhmm(newStart));
  await shot(page, '07-moved');
});

test('cancelling with a reason', async ({ page }) => {
  const { d, a } = claim((dd) => dd.appointments.find(movable));
  await signIn(page, p);
  await openDay(page, p, d.date);
  await event(page, a.id).click();
  const dialog = page.getByRole('dialog', { name: 'Appointment' });
  await expect(dialog).toContainText(a.pet_name);
  await dialog.getByRole('button', { name: 'Cancel…' }).click();
  await dialog.getByLabel('Reason for cancelling').fill('Owner phoned: the dog is better');
  await shot(page, '08-cancel-dialog');
  await dialog.getByRole('button', { name: 'Cancel appointment' }).click();
  await expect(dialog.locator('.details-head .pill')).toHaveText('Cancelled');
  await expect(dialog.locator('.history')).toContainText('Owner phoned: the dog is better');

  const now = await p.api.ok<{ status: string; cancel_reason: string }>('GET', `/appointments/${a.id}`);
  expect(now.status).toBe('cancelled');
  expect(now.cancel_reason).toBe('Owner phoned: the dog is better');
  await dialog.getByRole('button', { name: 'Close' }).click();
  // Cancelled time is free again: the appointment leaves the calendar.
  await expect(event(page, a.id)).toHaveCount(0);
});

test('checking in shows the new status', async ({ page }) => {
  const { d, a } = claim((dd) => dd.appointments.find(movable));
  await signIn(page, p);
  await openDay(page, p, d.date);
  await event(page, a.id).click();
  const dialog = page.getByRole('dialog', { name: 'Appointment' });
  await dialog.getByRole('button', { name: 'Check in' }).click();
  await expect(dialog.locator('.details-head .pill')).toHaveText('Arrived');
  await shot(page, '09-checked-in-details');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(page.locator(`[data-appt-id="${a.id}"]`)).toHaveAttribute('data-status', 'checked_in');
  const now = await p.api.ok<{ status: string }>('GET', `/appointments/${a.id}`);
  expect(now.status).toBe('checked_in');
  await shot(page, '10-checked-in-calendar');
});

test('a booking made elsewhere appears live, without a reload', async ({ page }) => {
  const consultation = p.types.find((t) => t.name === 'Consultation');
  let found: { d: Day; f: Free } | null = null;
  for (const d of days.slice().reverse()) {
    const f = d.free.find((x) => minutes(x.local_start) % 15 === 0 && length(x) >= 40);
    if (f) {
      found = { d, f };
      break;
    }
  }
  if (!found || !consultation) throw new Error('no free block for the live story');
  const pets = await p.api.ok<{ id: string; name: string }[]>('GET', '/pets?q=Luna&limit=1');
  await signIn(page, p);
  await openDay(page, p, found.d.date);
  await expect(page.locator('#link-state')).toHaveAttribute('data-state', 'online');
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

  const booked = await p.api.ok<{ id: string }>('POST', '/appointments', {
    clinic_id: p.riverside.id,
    vet_id: found.f.vet_id,
    pet_id: pets[0]?.id,
    type_id: consultation.id,
    start: found.f.local_start.slice(0, 16),
  });
  const t0 = Date.now();
  await expect(event(page, booked.id)).toBeVisible({ timeout: 1_000 });
  const elapsed = Date.now() - t0;
  expect(elapsed).toBeLessThan(1_000);
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
  claimed.add(booked.id);
  await shot(page, '11-live-booking');
});

test('a change against a stale version is explained and the typed reason kept', async ({ page }) => {
  const { d, a } = claim((dd) => dd.appointments.find((x) => x.status === 'scheduled'));
  // This workstation hears nothing live, so its copy goes stale.
  await page.route('**/api/v1/events**', (route) => route.abort());
  await signIn(page, p);
  await openDay(page, p, d.date);
  await event(page, a.id).click();
  const dialog = page.getByRole('dialog', { name: 'Appointment' });
  await dialog.getByRole('button', { name: 'Cancel…' }).click();
  await dialog.getByLabel('Reason for cancelling').fill('Clinic closed for a burst pipe');

  // Meanwhile, another workstation confirms it.
  await p.api.ok('POST', `/appointments/${a.id}/confirm`, { version: a.version });

  await dialog.getByRole('button', { name: 'Cancel appointment' }).click();
  await expect(dialog.locator('.notice')).toContainText('Someone else changed this appointment');
  await expect(dialog.locator('.details-head .pill')).toHaveText('Confirmed');
  await expect(dialog.getByLabel('Reason for cancelling')).toHaveValue('Clinic closed for a burst pipe');
  await shot(page, '12-stale-explained');
  // The person reads it and cancels again: now against the current version.
  await dialog.getByRole('button', { name: 'Cancel appointment' }).click();
  await expect(dialog.locator('.details-head .pill')).toHaveText('Cancelled');
  const now = await p.api.ok<{ status: string; cancel_reason: string }>('GET', `/appointments/${a.id}`);
  expect(now.status).toBe('cancelled');
  expect(now.cancel_reason).toBe('Clinic closed for a burst pipe');
});

test('week and month views, and the connection indicator going offline', async ({ page }) => {
  await signIn(page, p);
  const d = days[0] as Day;
  await openDay(page, p, d.date);
  await page.locator('[data-view="week"]').click();
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-view', 'week');
  await expect(page.locator('.ec-event:has([data-appt-id])').first()).toBeVisible();
  await shot(page, '13-week');
  await page.locator('[data-view="month"]').click();
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-view', 'month');
  await expect(page.locator('#view-title')).toContainText(new Date(`${d.date}T00:00:00Z`).getUTCFullYear().toString());
  await expect(page.locator('.ec-event:has([data-appt-id])').first()).toBeVisible();
  // Each day lists its appointments one under another (busy days end in "+N more"), never piled up.
  const boxes = await page.locator('.month-list [data-appt-id]').evaluateAll((els) =>
    els
      .filter((e) => (e as HTMLElement).offsetParent !== null && getComputedStyle(e).visibility !== 'hidden')
      .map((e) => e.getBoundingClientRect())
      .map((r) => ({ x: r.x, y: r.y, w: r.width, h: r.height })),
  );
  expect(boxes.length).toBeGreaterThan(5);
  const piled = boxes.filter((a, i) =>
    boxes.some((b, j) => j > i && Math.abs(a.x - b.x) < a.w / 2 && Math.abs(a.y - b.y) < a.h / 2),
  );
  expect(piled).toEqual([]);
  await shot(page, '14-month');

  // The server stops answering: the indicator says so within a few seconds.
  await page.route('**/health', (route) => route.abort());
  await expect(page.locator('#link-state')).toHaveAttribute('data-state', 'offline', { timeout: 8_000 });
  await expect(page.locator('#link-state')).toHaveText(/Offline/);
  await page.unroute('**/health');
  await expect(page.locator('#link-state')).toHaveAttribute('data-state', 'online', { timeout: 8_000 });
});

test('the page runs under its Content-Security-Policy (an injected inline script is refused)', async ({ page }) => {
  await signIn(page, p);
  const res = await page.request.get(server().base + '/calendar');
  const csp = res.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-eval');
  const ran = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.injected = true';
    document.head.appendChild(s);
    return (window as unknown as { injected?: boolean }).injected === true;
  });
  expect(ran).toBe(false);
  // That refusal is the one CSP message this story expects.
  const left = problems().filter((m) => !/inline script/i.test(m));
  problems = () => left;
});

test('the manager adds time off and that day shows the vet away', async ({ page }) => {
  const ben = p.vets.find((v) => v.name.includes('Okafor'));
  if (!ben) throw new Error('no Dr Ben Okafor in the demo practice');
  const d = days.find((dd) => dd.free.some((f) => f.vet_id === ben.id));
  if (!d) throw new Error('Dr Okafor is never free in the coming days');
  await signIn(page, p, DEMO_USERS.admin);
  await page.evaluate((url) => {
    history.pushState(null, '', url);
    dispatchEvent(new PopStateEvent('popstate'));
  }, `/manage/time-off?clinic=${p.riverside.id}`);
  await page.getByRole('combobox', { name: 'Vet' }).selectOption(ben.id);
  await expect(page.locator(`.manage-body[data-vet="${ben.id}"]`)).toBeVisible();
  const form = page.getByRole('form', { name: 'Add time off' });
  // Typed as the app shows dates and times everywhere: "Thu 17 Dec 2026, 00:00".
  const day = `${new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }).format(
    new Date(`${d.date}T00:00:00Z`),
  )} ${d.date.slice(0, 4)}`;
  await form.getByLabel('From').fill(`${day}, 00:00`);
  await form.getByLabel('From').press('Tab');
  await form.getByLabel('Until').fill(`${day}, 23:59`);
  await form.getByLabel('Until').press('Tab');
  await form.getByLabel('Reason').fill('Conference');
  await shot(page, '15-manage-time-off');
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByRole('cell', { name: 'Conference' })).toBeVisible();

  const off = await p.api.ok<{ reason: string }[]>('GET', `/time-off?vet_id=${ben.id}`);
  expect(off.some((t) => t.reason === 'Conference')).toBe(true);
  await openDay(page, p, d.date);
  await expect(page.locator(`.ec-bg-event.free[data-vet="${ben.id}"]`)).toHaveCount(0);
  await expect(page.locator(`.ec-bg-event.free`).first()).toBeVisible();
});

test('a week of many vets shows hourly summaries that lead to the day', async ({ page }) => {
  // Four more vets at Riverside: seven side by side would be slivers in a week's day column.
  for (let i = 1; i <= 4; i++) {
    const vet = await p.api.ok<{ id: string }>('POST', '/vets', {
      name: `Dr Locum ${i}`,
      clinics: [p.riverside.id],
    });
    for (const weekday of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) {
      await p.api.ok('POST', '/working-hours', {
        vet_id: vet.id,
        clinic_id: p.riverside.id,
        weekday,
        span: '09:00-17:00',
        valid_from: todayIn(p.riverside.time_zone),
      });
    }
  }
  const d = days.find((dd) => dd.appointments.length > 0) as Day;
  await signIn(page, p);
  await openDay(page, p, d.date);
  await expect(page.locator('.ec-col-head')).toHaveCount(7);
  await page.locator('[data-view="week"]').click();
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-view', 'week');
  const hours = page.locator('[data-hour]');
  await expect(hours.first()).toBeVisible();
  await expect(page.locator('.ec-event:has([data-appt-id])')).toHaveCount(0);
  await expect(hours.first()).toContainText(/\d+ of 7 booked/);
  await shot(page, '16-many-vets-week');
  const when = (await hours.first().getAttribute('data-hour')) ?? '';
  await hours.first().click();
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-view', 'day');
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-date', when.slice(0, 10));
  // With one vet chosen, the week shows that vet's appointments one by one again.
  await page.locator('[data-view="week"]').click();
  await page.locator('#vet-filter').selectOption({ label: 'Dr Ben Okafor' });
  await expect(page.locator('.ec-event:has([data-appt-id])').first()).toBeVisible();
  await expect(hours).toHaveCount(0);
});

test('"New booking" proposes the first free slot of the slot list, found in the compact form', async ({ page }) => {
  const consultation = p.types.find((t) => t.name === 'Consultation');
  if (!consultation) throw new Error('no Consultation type');
  interface Listed {
    vets: { vet: { id: string }; slots: { local_start: string }[] }[];
  }
  // The first slot of the seed's slot list (the old way the UI found it), over one day.
  const firstListed = async (date: string, vetId = '') => {
    const q = new URLSearchParams({ clinic_id: p.riverside.id, start_date: date, end_date: date, type_id: consultation.id });
    if (vetId) q.set('vet_id', vetId);
    const list = await p.api.ok<Listed>('GET', `/appointments/availability?${q}`);
    let best: { vetId: string; start: string } | null = null;
    for (const v of list.vets) {
      const start = v.slots[0]?.local_start.slice(0, 16);
      if (start && (!best || start < best.start)) best = { vetId: v.vet.id, start };
    }
    return best;
  };
  // A working day past every other story's days, so nothing else books there meanwhile.
  const today = todayIn(p.riverside.time_zone);
  let date = '';
  let want: { vetId: string; start: string } | null = null;
  for (let i = 20; i < 30 && !want; i++) {
    date = addDays(today, i);
    want = await firstListed(date);
  }
  if (!want) throw new Error('no working day with free time 20-30 days out');

  await signIn(page, p);
  const propose = async () => {
    await page.locator('#new-booking').click();
    const dialog = page.getByRole('dialog', { name: 'New appointment' });
    await expect(dialog).toBeVisible();
    const got = { vetId: await page.locator('#book-vet').inputValue(), start: await page.locator('#book-start').inputValue() };
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    return got;
  };

  // The whole clinic's day.
  await openDay(page, p, date);
  expect(await propose()).toEqual(want);

  // One vet's day, with their first slots booked by another workstation: the
  // proposal moves past them, to where the slot list's first slot now is.
  const vetId = want.vetId;
  for (let i = 0; i < 2; i++) {
    const first = await firstListed(date, vetId);
    if (!first) throw new Error('the vet has no free slot left');
    const pets = await p.api.ok<{ id: string }[]>('GET', '/pets?q=Biscuit&limit=1');
    await p.api.ok('POST', '/appointments', {
      clinic_id: p.riverside.id,
      vet_id: vetId,
      pet_id: pets[0]?.id,
      type_id: consultation.id,
      start: first.start,
    });
  }
  const moved = await firstListed(date, vetId);
  if (!moved) throw new Error('the vet has no free slot left');
  expect(moved.start > want.start).toBe(true);
  await openDay(page, p, date, vetId);
  await expect(page.locator('section.calendar')).not.toHaveAttribute('aria-busy', 'true');
  expect(await propose()).toEqual(moved);
  // And the calendar draws that vet free there.
  const drawn = await page
    .locator(`.ec-bg-event.free[data-vet="${vetId}"]`)
    .evaluateAll((els) =>
      els.map((e) => ({ start: (e as HTMLElement).dataset.freeStart ?? '', end: (e as HTMLElement).dataset.freeEnd ?? '' })),
    );
  expect(drawn.some((f) => f.start <= moved.start && moved.start < f.end), JSON.stringify(drawn)).toBe(true);
});
