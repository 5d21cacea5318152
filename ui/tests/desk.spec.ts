// What a front desk hits every day (issue 14, "Bugs a desk sees every day"), at
// the three screen sizes clinics have (the projects in playwright.config.ts).
// Each story failed before its fix. They run three times against one server, so
// each takes an appointment the server still holds in the state it needs.

import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import {
  Api,
  comingDays,
  DEMO_USERS,
  event,
  minutes,
  openDay,
  PX_PER_MINUTE,
  practice,
  signIn,
  watchConsole,
  type Appt,
  type Day,
  type Free,
  type Practice,
} from './helpers';

const SHOTS = 'test-results/screens';
mkdirSync(SHOTS, { recursive: true });
const shot = (page: Page, info: TestInfo, name: string) =>
  page.screenshot({ path: `${SHOTS}/${info.project.name}-${name}.png` });

let p: Practice;
let days: Day[];

test.beforeAll(async () => {
  p = await practice();
});

let problems: () => string[];
test.beforeEach(async ({ page }) => {
  days = await comingDays(p, 10);
  problems = watchConsole(page);
});
test.afterEach(async () => {
  expect(problems()).toEqual([]);
});

/** The last appointment in the coming days that passes `fit` (calendar.spec.ts takes the first ones). */
function lastWhere(fit: (a: Appt) => boolean): { d: Day; a: Appt } {
  for (const d of [...days].reverse()) {
    const a = [...d.appointments].reverse().find(fit);
    if (a) return { d, a };
  }
  throw new Error('the demo practice has no appointment fit for this story');
}

const dialogOf = (page: Page, name: string) => page.getByRole('dialog', { name });

test('1: the cancel form stays closed until "Cancel…" is pressed', async ({ page }, info) => {
  const { d, a } = lastWhere((x) => x.status === 'scheduled' || x.status === 'confirmed');
  await signIn(page, p);
  await openDay(page, p, d.date);
  await event(page, a.id).click();
  const dialog = dialogOf(page, 'Appointment');
  await expect(dialog).toContainText(a.pet_name);
  await expect(dialog.getByLabel('Reason for cancelling')).toBeHidden();
  await expect(dialog.getByRole('button', { name: 'Cancel appointment' })).toBeHidden();
  await shot(page, info, 'bug1-details-closed-form');
  await dialog.getByRole('button', { name: 'Cancel…' }).click();
  await expect(dialog.getByLabel('Reason for cancelling')).toBeVisible();
  await expect(dialog.getByLabel('Reason for cancelling')).toBeFocused();
  await expect(dialog.getByRole('button', { name: 'Cancel appointment' })).toBeVisible();
});

test('2: the desk’s own Confirm is not reported as someone else’s change', async ({ page }, info) => {
  const { d, a } = lastWhere((x) => x.status === 'scheduled');
  await signIn(page, p);
  await openDay(page, p, d.date);
  await expect(page.locator('#link-state')).toHaveAttribute('data-state', 'online');
  await event(page, a.id).click();
  const dialog = dialogOf(page, 'Appointment');
  await expect(dialog).toContainText(a.pet_name);

  // The order that made the bug: the live change event reaches the page before
  // the answer to the Confirm does, and the dialog's reload finishes after it.
  let confirming = false;
  await page.route(`**/api/v1/appointments/${a.id}/confirm`, async (route) => {
    confirming = true;
    const response = await route.fetch();
    await new Promise((r) => setTimeout(r, 500));
    await route.fulfill({ response });
  });
  await page.route(`**/api/v1/appointments/${a.id}`, async (route) => {
    if (confirming) await new Promise((r) => setTimeout(r, 900));
    await route.continue();
  });
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await expect(dialog.locator('.details-head .pill')).toHaveText('Confirmed');
  await expect(page.getByRole('status').filter({ hasText: 'Confirmed' }).first()).toBeVisible();
  // Long enough for a reload started by the event to have come back.
  await page.waitForTimeout(1_500);
  await expect(dialog.locator('.notice')).toBeHidden();
  await expect(dialog).not.toContainText('Someone else');
  await shot(page, info, 'bug2-own-confirm');
  const now = await p.api.ok<{ status: string; meta: { version: number } }>('GET', `/appointments/${a.id}`);
  expect(now.status).toBe('confirmed');

  // A change that really is someone else's is still explained.
  await page.unroute(`**/api/v1/appointments/${a.id}`);
  await p.api.ok('POST', `/appointments/${a.id}/check-in`, { version: now.meta.version });
  await expect(dialog.locator('.notice')).toContainText('Someone else just changed this appointment');
  await expect(dialog.locator('.details-head .pill')).toHaveText('Arrived');
});

test('3: once a pet is chosen, the booking dialog does not say nothing matches', async ({ page }, info) => {
  const d = days[days.length - 1] as Day;
  await signIn(page, p);
  await openDay(page, p, d.date);
  await page.locator('body').press('n');
  const dialog = dialogOf(page, 'New appointment');
  await expect(page.locator('#patient-search')).toBeFocused();
  await page.keyboard.type('Biscuit');
  await expect(page.locator('#patient-results [role="option"]').first()).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(dialog.locator('.chosen')).toContainText('Biscuit');
  await expect(dialog.getByText('No pet or owner matches that name.')).toBeHidden();
  await expect(page.locator('#patient-search')).toBeHidden();
  await shot(page, info, 'bug3-pet-chosen');
  // "change" goes back to the search, with what was typed.
  await dialog.getByRole('button', { name: 'change' }).click();
  await expect(page.locator('#patient-search')).toBeVisible();
  await expect(dialog.locator('.chosen')).toBeHidden();
});

test('4: the month view lists appointments in each day at this screen size', async ({ page }, info) => {
  const d = days.find((x) => x.appointments.length > 0) as Day;
  await signIn(page, p);
  await openDay(page, p, d.date);
  await page.locator('[data-view="month"]').click();
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-view', 'month');
  // The library's own "+N more" (a button) hides whole days; our list says how many more itself.
  await expect(page.locator('.month-list').first()).toBeVisible();
  await expect(page.getByRole('button', { name: /^\+\d+ more$/ })).toHaveCount(0);
  const cells = await page.locator('.ec-month-view .ec-day').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
  const lists = await page.locator('.ec-event.month-day').evaluateAll((els) =>
    els.map((e) => ({
      shown: getComputedStyle(e).visibility !== 'hidden',
      box: e.getBoundingClientRect().toJSON() as DOMRect,
      lines: Array.from(e.querySelectorAll('[data-appt-id]')).filter((l) => l.getBoundingClientRect().height > 10).length,
      more: e.querySelector('.more-line')?.textContent ?? '',
    })),
  );
  // Every day with appointments lists at least one, inside its own cell.
  expect(lists.length).toBeGreaterThan(5);
  for (const l of lists) {
    expect(l.shown).toBe(true);
    expect(l.lines).toBeGreaterThan(0);
    const cell = cells.find((c) => c.left <= l.box.left + 1 && l.box.left < c.right && c.top <= l.box.top + 1 && l.box.top < c.bottom);
    expect(cell, 'the list starts inside a day cell').toBeTruthy();
    expect(l.box.bottom).toBeLessThanOrEqual((cell?.bottom ?? 0) + 1);
  }
  // A busy day at this size says how many more it has.
  expect(lists.some((l) => /^\+\d+ more$/.test(l.more))).toBe(true);
  // The whole month fits in the window: nobody scrolls to see Friday.
  const grid = await page.locator('.ec-month-view').boundingBox();
  expect((grid?.y ?? 0) + (grid?.height ?? 0)).toBeLessThanOrEqual(info.project.use.viewport?.height ?? 0);
  await shot(page, info, 'bug4-month');
});

test.describe('6: a user with a home clinic', () => {
  // Tokyo, where no clinic is: without a home clinic the desk would start on the first one (New York).
  test('starts there, and a user limited to one clinic is offered only it', async ({ page }, info) => {
    const clinics = await p.api.ok<{ id: string; name: string; time_zone: string }[]>('GET', '/clinics');
    const riverside = clinics.find((c) => c.id === p.riverside.id);
    const hudson = clinics.find((c) => c.time_zone === 'America/New_York');
    if (!riverside || !hudson) throw new Error('the demo practice has two clinics');
    const username = `clinics.${info.project.name}`;
    const password = 'a-long-enough-password';
    const created = await p.api.ok<{ id: string }>('POST', '/users', {
      username,
      display_name: 'Riverside Desk',
      role: 'front_desk',
      password,
    });
    await signIn(page, p, DEMO_USERS.admin);
    await page.getByRole('button', { name: 'Manage' }).click();
    await page.getByRole('navigation', { name: 'Records' }).getByRole('button', { name: 'Users' }).click();
    const picks = () => page.locator(`tr[data-username="${username}"]`).getByRole('group', { name: `Clinics of ${username}` });
    await expect(picks()).toContainText('Every clinic');
    await picks().getByLabel(riverside.name).check();
    await expect(page.getByText(`${username} works at ${riverside.name}.`)).toBeVisible();
    await expect(picks()).not.toContainText('Every clinic');
    // Only a ticked clinic can be home.
    const home = () => picks().getByLabel(`Home clinic of ${username}`);
    await expect(home().locator(`option[value="${hudson.id}"]`)).toBeDisabled();
    await home().selectOption(riverside.id);
    await expect(home()).toHaveValue(riverside.id);
    // Each change says what it changed (not "works at …" twice).
    await expect(page.getByText(`${username}'s calendar opens at ${riverside.name}.`)).toBeVisible();
    expect(await page.getByText(`${username} works at ${riverside.name}.`).count()).toBeLessThanOrEqual(1);
    await shot(page, info, 'users-clinics');
    await expect
      .poll(async () => p.api.ok<{ clinics: string[]; home_clinic_id: string | null }>('GET', `/users/${created.id}`))
      .toMatchObject({ clinics: [riverside.id], home_clinic_id: riverside.id });

    // Without a home this desk would start on New York (the first clinic; no clinic keeps Tokyo time).
    await page.getByRole('button', { name: 'Lock' }).click();
    await signIn(page, p, { username, password });
    await expect(page.locator('#clinic')).toHaveValue(riverside.id);
    await expect(page.locator('#clinic option')).toHaveCount(1);
    await shot(page, info, 'limited-desk-calendar');
    // The server refuses the other clinic, whatever the page offers.
    const api = new Api();
    await api.signIn({ username, password });
    expect((await api.call('GET', `/appointments?clinic_id=${hudson.id}`)).status).toBe(403);
    const own = await api.ok<{ items: { clinic_id: string }[] }>('GET', '/appointments?limit=50');
    expect(own.items.length).toBeGreaterThan(0);
    expect(own.items.every((a) => a.clinic_id === riverside.id)).toBe(true);
  });
});

test('7: a new user starts as front desk, and a role change asks first', async ({ page }, info) => {
  const username = `role.${info.project.name}`;
  const created = await p.api.ok<{ id: string }>('POST', '/users', {
    username,
    display_name: 'Role Check',
    role: 'front_desk',
    password: 'a-long-enough-password',
  });
  await signIn(page, p, DEMO_USERS.admin);
  await page.getByRole('button', { name: 'Manage' }).click();
  await page.getByRole('navigation', { name: 'Records' }).getByRole('button', { name: 'Users' }).click();
  const form = page.getByRole('form', { name: 'Add a user' });
  await expect(form.getByLabel('Role')).toHaveValue('front_desk');

  const row = page.locator(`tr[data-username="${username}"]`);
  const role = row.getByLabel(`Role of ${username}`);
  await role.selectOption('admin');
  const ask = dialogOf(page, 'Change role');
  await expect(ask).toContainText(`Make ${username} Administrator?`);
  await shot(page, info, 'bug7-confirm-role');
  await ask.getByRole('button', { name: 'Keep Front desk' }).click();
  await expect(ask).toBeHidden();
  await expect(role).toHaveValue('front_desk');
  expect((await p.api.ok<{ role: string }>('GET', `/users/${created.id}`)).role).toBe('front_desk');

  await role.selectOption('admin');
  await dialogOf(page, 'Change role').getByRole('button', { name: 'Make Administrator' }).click();
  await expect(page.getByText(`${username} is now Administrator.`)).toBeVisible();
  expect((await p.api.ok<{ role: string }>('GET', `/users/${created.id}`)).role).toBe('admin');
});

test('8: Esc asks before it throws away a half-typed booking or reason', async ({ page }, info) => {
  const d = days[days.length - 1] as Day;
  await signIn(page, p);
  await openDay(page, p, d.date);

  // Nothing typed: Esc closes at once.
  await page.locator('body').press('n');
  const booking = dialogOf(page, 'New appointment');
  await expect(page.locator('#patient-search')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(booking).toBeHidden();

  // Half a name typed: Esc asks, and keeping it keeps it.
  await page.locator('body').press('n');
  await expect(page.locator('#patient-search')).toBeFocused();
  await page.keyboard.type('Bisc');
  await page.keyboard.press('Escape');
  await expect(booking).toBeVisible();
  const ask = booking.getByRole('alertdialog', { name: 'Discard what you typed?' });
  await expect(ask).toBeVisible();
  await shot(page, info, 'bug8-discard-booking');
  // Esc again is "no": the question goes, the typing stays.
  await page.keyboard.press('Escape');
  await expect(ask).toBeHidden();
  await expect(booking).toBeVisible();
  await expect(page.locator('#patient-search')).toHaveValue('Bisc');
  await page.keyboard.press('Escape');
  await ask.getByRole('button', { name: 'Keep editing' }).click();
  await expect(page.locator('#patient-search')).toHaveValue('Bisc');
  await page.keyboard.press('Escape');
  await ask.getByRole('button', { name: 'Discard' }).click();
  await expect(booking).toBeHidden();

  // A cancel reason half-typed in an appointment's details.
  const { a } = lastWhere((x) => (x.status === 'scheduled' || x.status === 'confirmed') && x.local_start.startsWith(d.date));
  await event(page, a.id).click();
  const details = dialogOf(page, 'Appointment');
  await details.getByRole('button', { name: 'Cancel…' }).click();
  await details.getByLabel('Reason for cancelling').fill('Owner is');
  await page.keyboard.press('Escape');
  await expect(details).toBeVisible();
  await expect(details.getByRole('alertdialog', { name: 'Discard what you typed?' })).toBeVisible();
  await details.getByRole('button', { name: 'Keep editing' }).click();
  await expect(details.getByLabel('Reason for cancelling')).toHaveValue('Owner is');
  await details.getByRole('button', { name: 'Close' }).click();
  await expect(details).toBeHidden();
  expect((await p.api.ok<{ status: string }>('GET', `/appointments/${a.id}`)).status).toBe(a.status);
});

/** A date as the app writes it: "Thu 17 Dec 2026". */
const dayText = (date: string) =>
  `${new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' }).format(
    new Date(`${date}T00:00:00Z`),
  )} ${date.slice(0, 4)}`;

test('9: dates and times read one way, the app’s own, in 24-hour time', async ({ page }, info) => {
  const d = days[days.length - 1] as Day;
  await signIn(page, p);
  await openDay(page, p, d.date);
  // The calendar's title is the format every field uses.
  await expect(page.locator('#view-title')).toHaveText(dayText(d.date));
  await page.locator('body').press('n');
  const dialog = dialogOf(page, 'New appointment');
  await expect(page.locator('#patient-search')).toBeFocused();
  const start = dialog.getByLabel('Start');
  const machine = await page.locator('#book-start').inputValue();
  await expect(start).toHaveValue(`${dayText(machine.slice(0, 10))}, ${machine.slice(11, 16)}`);
  await expect(start).not.toHaveValue(/AM|PM|\//);
  // Typed in the same format, the time moves and is checked.
  await start.fill(`${dayText(d.date)}, 16:35`);
  await start.press('Tab');
  await expect(page.locator('#book-start')).toHaveValue(`${d.date}T16:35`);
  await expect(page.locator('#conflict-status')).toContainText('16:35–');
  // One tab stop: tabbing through does not open the calendar.
  await expect(dialog.getByLabel('Type')).toBeFocused();
  await expect(dialog.locator('.flatpickr-calendar.open')).toHaveCount(0);
  await start.click();
  await expect(dialog.locator('.flatpickr-calendar.open')).toBeVisible();
  await shot(page, info, 'bug9-date-field');
  // Esc closes the calendar, not the dialog.
  await page.keyboard.press('Escape');
  await expect(dialog.locator('.flatpickr-calendar.open')).toHaveCount(0);
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toBeHidden();

  // The history of an appointment, in the same format.
  const { a } = lastWhere((x) => x.local_start.startsWith(d.date));
  await event(page, a.id).click();
  const when = dialogOf(page, 'Appointment').locator('.history .when').first();
  await expect(when).toHaveText(/^[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}$/);
});

test('10: while an appointment is dragged, free time shows only where it fits with its buffers', async ({ page }, info) => {
  const mins = (a: { local_start: string; local_end: string }) => minutes(a.local_end) - minutes(a.local_start);
  let pick: { d: Day; a: Appt; f: Free; before: number; after: number } | null = null;
  for (const d of [...days].reverse()) {
    for (const a of d.appointments) {
      const t = p.types.find((x) => x.name === a.type_name);
      if (!t || !(a.status === 'scheduled' || a.status === 'confirmed') || t.buffer_before_min + t.buffer_after_min === 0) continue;
      const need = t.buffer_before_min + mins(a) + t.buffer_after_min;
      const f = d.free.find(
        (x) =>
          x.vet_id === a.vet_id &&
          minutes(x.local_start) % 5 === 0 &&
          mins(x) >= need + 10 &&
          Math.abs(minutes(x.local_start) + t.buffer_before_min - minutes(a.local_start)) <= 150,
      );
      if (f) {
        pick = { d, a, f, before: t.buffer_before_min, after: t.buffer_after_min };
        break;
      }
    }
    if (pick) break;
  }
  if (!pick) throw new Error('no appointment with buffers next to a free block in the coming days');
  const { d, a, f, before, after } = pick;
  await signIn(page, p);
  await openDay(page, p, d.date);
  const block = page.locator(`.ec-bg-event.free[data-vet="${f.vet_id}"][data-free-start="${f.local_start.slice(0, 16)}"]`);
  await expect(block).not.toHaveAttribute('data-fits', /.*/);

  const el = event(page, a.id);
  await el.scrollIntoViewIfNeeded();
  const box = await el.boundingBox();
  if (!box) throw new Error('the appointment is not on screen');
  const x = box.x + Math.min(40, box.width / 2);
  const y = box.y + 4;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x, y + 10, { steps: 3 });
  // The block now starts where the buffer before allows and ends before the buffer after.
  const at = (wall: string, m: number) => {
    const t = minutes(wall) + m;
    return `${wall.slice(0, 11)}${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
  };
  await expect(block).toHaveAttribute('data-fits', `${at(f.local_start, before)}/${at(f.local_end, -after)}`);
  expect(await block.evaluate((e) => getComputedStyle(e).clipPath)).toContain('inset');
  await shot(page, info, 'bug10-dragging');
  // Dropped on the first time the green shows (and a little in), the move is taken.
  const target = at(f.local_start, before + 5);
  await page.mouse.move(x, y + (minutes(target) - minutes(a.local_start)) * PX_PER_MINUTE + 1, { steps: 12 });
  await page.mouse.up();
  await expect(page.getByRole('status').filter({ hasText: 'Moved' })).toBeVisible();
  // Back to plain free time once the drag ends.
  await expect(page.locator('.ec-bg-event.free[data-fits]')).toHaveCount(0);
  const now = await p.api.ok<{ local: { local_start: string } }>('GET', `/appointments/${a.id}`);
  expect(now.local.local_start.slice(0, 16)).toBe(target);
});

test('5: failed messages say when notifications are off and messages are overdue', async ({ page }, info) => {
  // This test server runs no channel (no SMTP, no SMS), as the clinic in the issue.
  const health = await p.api.ok<{ notification_channels: string[] }>('GET', '/health');
  expect(health.notification_channels).toEqual([]);
  await signIn(page, p);
  // Visible from every screen, not only in Manage.
  const badge = page.locator('#notify-state');
  await expect(badge).toHaveText('Notifications off');
  await page.getByRole('button', { name: 'Manage' }).click();
  await page.getByRole('navigation', { name: 'Records' }).getByRole('button', { name: 'Failed messages' }).click();
  const body = page.locator('.manage-body');
  await expect(body.getByRole('alert').filter({ hasText: 'Notifications are off' })).toBeVisible();
  await expect(body).toContainText(/\d+ messages? (is|are) overdue/);
  await expect(body).not.toContainText('everything due has gone out');
  await shot(page, info, 'bug5-failed-messages');
});

test.describe('6: the clinic a desk starts on', () => {
  test.use({ timezoneId: 'Europe/London' });
  test('a London desk starts on the London clinic, and then on the one it used last', async ({ page }, info) => {
    const clinics = await p.api.ok<{ id: string; name: string; time_zone: string }[]>('GET', '/clinics');
    const hudson = clinics.find((c) => c.time_zone === 'America/New_York');
    if (!hudson) throw new Error('no New York clinic in the demo practice');
    // The demo's clinics sort New York first: the old default.
    expect(clinics[0]?.id).toBe(hudson.id);
    await signIn(page, p);
    await expect(page.locator('#clinic')).toHaveValue(p.riverside.id);
    await shot(page, info, 'bug6-home-clinic');
    await page.locator('#clinic').selectOption(hudson.id);
    await expect(page.locator('#clinic')).toHaveValue(hudson.id);
    await page.getByRole('button', { name: 'Lock' }).click();
    await signIn(page, p, DEMO_USERS.admin);
    await expect(page.locator('#clinic')).toHaveValue(hudson.id);
  });
});

test.describe('6: a New York desk', () => {
  test.use({ timezoneId: 'America/New_York' });
  test('starts on the New York clinic', async ({ page }) => {
    const clinics = await p.api.ok<{ id: string; time_zone: string }[]>('GET', '/clinics');
    await signIn(page, p);
    await expect(page.locator('#clinic')).toHaveValue(clinics.find((c) => c.time_zone === 'America/New_York')?.id ?? '');
  });
});
