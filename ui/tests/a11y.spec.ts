// Accessibility (issue 14, "Readability and accessibility"): axe-core runs on
// every main screen at the three screen sizes and finds no critical or serious
// violation. axe is evaluated from node_modules (a devDependency), never fetched.

import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { comingDays, DEMO_USERS, event, openDay, practice, signIn, watchConsole, type Practice } from './helpers';

const SHOTS = 'test-results/screens';
mkdirSync(SHOTS, { recursive: true });
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** The critical and serious violations on the page as it is now, one line each. */
async function axe(page: Page): Promise<string[]> {
  // Evaluated through DevTools, so the page's Content-Security-Policy stays on.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const found = await page.evaluate(async () => {
    const w = window as unknown as { axe: { run: (ctx: Document) => Promise<{ violations: Violation[] }> } };
    const r = await w.axe.run(document);
    return r.violations;
  });
  return found
    .filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map((v) => {
      const where = v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`);
      return `${v.impact} ${v.id} (${v.help}): ${where.join(' | ')}`;
    });
}

async function check(page: Page, info: TestInfo, screen: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${info.project.name}-a11y-${screen}.png` });
  expect(await axe(page), `axe on ${screen}`).toEqual([]);
}

let p: Practice;
test.beforeAll(async () => {
  p = await practice();
});

test('axe finds no critical or serious violation on the calendar screens', async ({ page }, info) => {
  const problems = watchConsole(page);
  const days = await comingDays(p, 7);
  const d = days.find((x) => x.appointments.some((a) => a.status === 'scheduled' || a.status === 'confirmed'));
  if (!d) throw new Error('no coming day with an open appointment');
  await signIn(page, p);
  await openDay(page, p, d.date);
  await check(page, info, 'day');
  // The grid's table roles are gone (calendar-roles.ts); the appointments are still named buttons.
  const region = page.getByRole('region', { name: 'Appointments' });
  await expect(region.getByRole('button', { name: new RegExp(d.appointments[0]!.pet_name) }).first()).toBeVisible();
  await expect(page.locator('.ec [role="table"], .ec [role="rowgroup"], .ec [role="row"]')).toHaveCount(0);

  const a = d.appointments.find((x) => x.status === 'scheduled' || x.status === 'confirmed');
  await event(page, a!.id).click();
  const details = page.getByRole('dialog', { name: 'Appointment' });
  await expect(details).toContainText(a!.pet_name);
  await check(page, info, 'details');
  await page.keyboard.press('Escape');
  await expect(details).toBeHidden();

  await page.locator('body').press('n');
  const booking = page.getByRole('dialog', { name: 'New appointment' });
  await expect(booking).toBeVisible();
  await expect(page.locator('#conflict-status')).toContainText('is free');
  await check(page, info, 'booking');
  await page.keyboard.press('Escape');
  await expect(booking).toBeHidden();

  await page.locator('[data-view="week"]').click();
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-view', 'week');
  await check(page, info, 'week');
  await page.locator('[data-view="month"]').click();
  await expect(page.locator('section.calendar')).toHaveAttribute('data-loaded-view', 'month');
  await check(page, info, 'month');
  expect(problems()).toEqual([]);
});

test('axe finds no critical or serious violation on my day and the management screens', async ({ page }, info) => {
  const problems = watchConsole(page);
  await signIn(page, p, DEMO_USERS.morgan);
  await expect(page.locator('#myday-next')).toBeVisible();
  await check(page, info, 'my-day');
  await page.getByRole('button', { name: 'Lock' }).click();
  await signIn(page, p, DEMO_USERS.admin);
  await page.getByRole('button', { name: 'Manage' }).click();
  const tabs = page.getByRole('navigation', { name: 'Records' });
  const names = await tabs.getByRole('button').allInnerTexts();
  expect(names.length).toBeGreaterThanOrEqual(7);
  for (const name of names) {
    await tabs.getByRole('button', { name }).click();
    await expect(page.locator('main [aria-busy="true"]')).toHaveCount(0);
    await page.waitForLoadState('networkidle');
    await check(page, info, `manage-${name.toLowerCase().replace(/\W+/g, '-')}`);
  }
  expect(problems()).toEqual([]);
});
