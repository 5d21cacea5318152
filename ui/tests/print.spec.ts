// The day list on paper (issue 14, "Printing"): "Print day" on the calendar builds
// a list per vet (time, pet, owner, phone, type, status) that only the print
// stylesheet shows, without the app's buttons; Chromium prints it to PDF.

import { expect, test, type Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { comingDays, hhmm, openDay, practice, signIn, watchConsole, type Appt, type Practice } from './helpers';

const SHOTS = 'test-results/screens';
mkdirSync(SHOTS, { recursive: true });
const ON_PAPER = ['scheduled', 'confirmed', 'checked_in', 'in_progress', 'completed'];

let p: Practice;
test.beforeAll(async () => {
  p = await practice();
});

async function phoneOf(a: Appt): Promise<string> {
  const details = await p.api.ok<{ client_id: string }>('GET', `/appointments/${a.id}`);
  const client = await p.api.ok<{ phone: string | null }>('GET', `/clients/${details.client_id}`);
  return client.phone ?? '';
}

/** Replace the browser's print dialog with a counter (headless Chromium has no dialog to close). */
async function countPrints(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { prints: number };
    w.prints = 0;
    window.print = () => void w.prints++;
  });
}
const prints = (page: Page) => page.evaluate(() => (window as unknown as { prints: number }).prints);

test('"Print day" prints the day list per vet, without the app around it', async ({ page }, info) => {
  const problems = watchConsole(page);
  const days = await comingDays(p, 7);
  const d = days.find((x) => x.appointments.filter((a) => ON_PAPER.includes(a.status)).length >= 4);
  if (!d) throw new Error('no coming day with four appointments');
  const listed = d.appointments.filter((a) => ON_PAPER.includes(a.status));
  await signIn(page, p);
  await openDay(page, p, d.date);
  await countPrints(page);

  await page.getByRole('button', { name: 'Print day' }).click();
  await expect.poll(() => prints(page)).toBe(1);
  const list = page.getByRole('region', { name: 'Day list for printing' });
  await expect(list).toBeHidden(); // on screen, nothing changes

  await page.emulateMedia({ media: 'print' });
  await expect(list).toBeVisible();
  await expect(page.locator('header.topbar')).toBeHidden();
  await expect(page.locator('#print-day')).toBeHidden();
  await expect(page.locator('#new-booking')).toBeHidden();
  await expect(list.locator('tbody tr')).toHaveCount(listed.length);
  for (const a of listed.slice(0, 4)) {
    const row = list.locator(`tr[data-appt-id="${a.id}"]`);
    for (const text of [`${hhmm(a.local_start)}–${hhmm(a.local_end)}`, a.pet_name, a.client_name, a.type_name]) {
      await expect(row).toContainText(text);
    }
    const phone = await phoneOf(a);
    expect(phone, 'the demo owners have phone numbers').not.toBe('');
    await expect(row).toContainText(phone);
  }
  for (const v of p.vets.filter((v) => listed.some((a) => a.vet_id === v.id))) {
    await expect(list.getByRole('heading', { name: v.name })).toBeVisible();
  }
  await page.screenshot({ path: `${SHOTS}/${info.project.name}-print-day.png`, fullPage: true });
  const pdf = await page.pdf({ format: 'A4' });
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  writeFileSync(`${SHOTS}/${info.project.name}-print-day.pdf`, pdf);
  await page.emulateMedia({ media: 'screen' });

  // One vet's list: only theirs.
  const vet = listed[0]!.vet_id;
  await openDay(page, p, d.date, vet);
  await page.getByRole('button', { name: 'Print day' }).click();
  await expect.poll(() => prints(page)).toBe(2);
  await page.emulateMedia({ media: 'print' });
  await expect(list.locator('tbody tr')).toHaveCount(listed.filter((a) => a.vet_id === vet).length);
  await expect(list.locator('h2')).toHaveCount(1);
  expect(problems()).toEqual([]);
});
