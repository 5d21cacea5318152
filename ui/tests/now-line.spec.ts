// The "now" line (issue 14, "Labels in the grid") is drawn at the clinic's time,
// even when the computer is in another zone: the stories' browser keeps Tokyo's
// time (playwright.config.ts), the demo clinic London's. The browser's clock is
// fixed at 11:23 clinic time today, so the story holds at any time of day.

import { expect, test } from '@playwright/test';
import { day, event, minutes, openDay, practice, PX_PER_MINUTE, signIn, todayIn, watchConsole, type Practice } from './helpers';

let p: Practice;
test.beforeAll(async () => {
  p = await practice();
});

/** The instant when the clock on the wall in `timeZone` reads `wall` (YYYY-MM-DDTHH:MM). */
function instantAt(wall: string, timeZone: string): Date {
  const asUtc = Date.parse(`${wall}:00Z`);
  let guess = asUtc;
  for (let i = 0; i < 2; i++) {
    const face = new Intl.DateTimeFormat('sv-SE', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    }).format(new Date(guess));
    guess += asUtc - Date.parse(`${face.replace(' ', 'T')}:00Z`);
  }
  return new Date(guess);
}

test('the now line shows the clinic’s time while the computer keeps another zone', async ({ page }, info) => {
  const problems = watchConsole(page);
  const zone = p.riverside.time_zone;
  const today = todayIn(zone);
  const d = await day(p, today);
  const a = d.appointments.find((x) => x.status !== 'cancelled');
  if (!a) throw new Error('no appointment today to measure the line against');
  const now = `${today}T11:23`;
  await page.clock.setFixedTime(instantAt(now, zone));
  expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).not.toBe(zone);

  await signIn(page, p);
  await openDay(page, p, today);
  const line = page.locator('.now-line');
  await expect(line).toHaveCount(1);
  await line.scrollIntoViewIfNeeded();
  const ev = event(page, a.id);
  await ev.scrollIntoViewIfNeeded();
  const lineBox = await line.boundingBox();
  const evBox = await ev.boundingBox();
  if (!lineBox || !evBox) throw new Error('the line or the appointment is not drawn');
  const expected = evBox.y + (minutes(now) - minutes(a.local_start)) * PX_PER_MINUTE;
  expect(Math.abs(lineBox.y - expected), `the line at 11:23 ${zone} (appointment ${a.local_start})`).toBeLessThan(4);
  await line.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `test-results/screens/${info.project.name}-now-line.png` });
  await expect(line).toHaveAttribute('data-wall', now);
  // Another day has no line.
  await page.locator('button[aria-label="Next"]').click();
  await expect(page.locator('section.calendar')).not.toHaveAttribute('data-loaded-date', today);
  await expect(line).toHaveCount(0);
  expect(problems()).toEqual([]);
});
