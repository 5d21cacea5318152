// Readability (issue 14): a legend for the types' colours and the status letters,
// every appointment's status in words (day) or a letter badge (month), never only a dot,
// text of 13 px and up in the grid, and a top bar that keeps to one row at
// 1366 px with 150% zoom. At the three screen sizes.

import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { comingDays, event, openDay, practice, signIn, watchConsole, type Practice } from './helpers';

const SHOTS = 'test-results/screens';
mkdirSync(SHOTS, { recursive: true });
const shot = (page: Page, info: TestInfo, name: string) =>
  page.screenshot({ path: `${SHOTS}/${info.project.name}-${name}.png` });

const LABEL: Record<string, string> = {
  scheduled: 'Scheduled',
  confirmed: 'Confirmed',
  checked_in: 'Arrived',
  in_progress: 'In progress',
  completed: 'Completed',
  no_show: 'No-show',
};

let p: Practice;
test.beforeAll(async () => {
  p = await practice();
});

test('a legend names the types and statuses, and every appointment shows its status in words', async ({ page }, info) => {
  const problems = watchConsole(page);
  const days = await comingDays(p, 7);
  const d = days.find((x) => x.appointments.length >= 5);
  if (!d) throw new Error('no busy coming day');
  await signIn(page, p);
  await openDay(page, p, d.date);

  const types = page.getByRole('list', { name: 'Appointment types' });
  for (const t of p.types) {
    const item = types.getByRole('listitem').filter({ hasText: t.name });
    await expect(item).toBeVisible();
    const swatch = await item.locator('.swatch').evaluate((e) => getComputedStyle(e).backgroundColor);
    const rgb = [1, 3, 5].map((i) => parseInt(t.colour.slice(i, i + 2), 16)).join(', ');
    expect(swatch, `the swatch of ${t.name}`).toBe(`rgb(${rgb})`);
  }
  const statuses = page.getByRole('list', { name: 'Statuses' });
  for (const label of Object.values(LABEL)) await expect(statuses).toContainText(label);

  // Day view: each appointment (short ones too) names its status, in text of 13 px or more.
  for (const a of d.appointments.filter((x) => LABEL[x.status]).slice(0, 8)) {
    const el = event(page, a.id);
    await el.scrollIntoViewIfNeeded();
    // Its name, or in a column too narrow for it, its letter named for screen readers.
    const label = LABEL[a.status] as string;
    const said = el.locator('.pill', { hasText: label }).or(el.getByRole('img', { name: label }));
    await expect(said.filter({ visible: true }).first(), `${a.pet_name} at ${a.local_start}`).toBeVisible();
    await expect(el.locator('.ev-pet')).toBeVisible();
    const size = await el.locator('.ev-pet').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    expect(size).toBeGreaterThanOrEqual(13);
  }
  await shot(page, info, 'readable-day');

  // Month view (a line per appointment): a letter badge, named for screen readers.
  await page.locator('[data-view="month"]').click();
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-view', 'month');
  const line = page.locator('.month-list .ev-line[data-status]').first();
  await expect(line).toBeVisible();
  const status = (await line.getAttribute('data-status')) as string;
  await expect(line.getByRole('img', { name: LABEL[status] })).toBeVisible();
  await shot(page, info, 'readable-month');
  expect(problems()).toEqual([]);
});

test('the top bar keeps to one row at 1366 px with 150% zoom', async ({ browser }, info) => {
  // 150% zoom on a 1366 px screen lays the page out in 1366 / 1.5 = 911 CSS px.
  const context = await browser.newContext({
    viewport: { width: 911, height: 512 },
    deviceScaleFactor: 1.5,
    timezoneId: 'Asia/Tokyo',
    locale: 'en-GB',
  });
  const page = await context.newPage();
  await signIn(page, p);
  const days = await comingDays(p, 1);
  await openDay(page, p, days[0]!.date);
  const bar = page.locator('header.topbar');
  const items = bar.locator('select, button, .link, .notify-off:visible, .user');
  const boxes = await items.evaluateAll((els) =>
    els.filter((e) => (e as HTMLElement).offsetParent !== null).map((e) => e.getBoundingClientRect()),
  );
  expect(boxes.length).toBeGreaterThanOrEqual(7);
  const mids = boxes.map((b) => b.y + b.height / 2);
  expect(Math.max(...mids) - Math.min(...mids), 'every control on one row').toBeLessThan(6);
  const right = Math.max(...boxes.map((b) => b.x + b.width));
  expect(right, 'nothing runs off the right edge').toBeLessThanOrEqual(911);
  expect((await bar.boundingBox())!.height).toBeLessThan(60);
  await page.screenshot({ path: `${SHOTS}/${info.project.name}-readable-topbar-150pct.png` });
  await context.close();
});
