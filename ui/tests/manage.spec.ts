// The management screens for notifications and users, in Chromium against the
// real `vetdesk serve`: who is offered which screen, failed messages retried by
// the front desk, reminder templates edited, previewed and reset by an admin,
// and users added, re-roled and disabled. Each story checks the server too.

import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { Api, DEMO_USERS, practice, signIn, watchConsole, type Practice } from './helpers';
import { server } from './server';

const SHOTS = 'test-results/screens';
mkdirSync(SHOTS, { recursive: true });
const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png` });

let p: Practice;

test.beforeAll(async () => {
  p = await practice();
});

async function openManage(page: Page, tab: string): Promise<void> {
  await page.getByRole('button', { name: 'Manage' }).click();
  await page.getByRole('navigation', { name: 'Records' }).getByRole('button', { name: tab }).click();
}

interface Message {
  id: string;
  status: string;
  kind: string;
  channel: string;
  last_error: string | null;
}

/**
 * Mark a pending email confirmation of an appointment a day or more ahead as
 * failed, as the worker does after its last attempt (with python3's sqlite3, which
 * Debian has; this server's worker has no email channel, so nothing else touches it).
 */
function failOneEmail(): void {
  const sql =
    "UPDATE outbox SET status = 'failed', attempts = 5, " +
    "last_error = 'the SMTP server refused: 550 5.1.1 no such mailbox' " +
    "WHERE id = (SELECT id FROM outbox WHERE status = 'pending' AND channel = 'email' AND kind = 'confirmation' " +
    "AND appointment_start > CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 86400000 ORDER BY appointment_start LIMIT 1)";
  execFileSync('python3', [
    '-c',
    'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=30)\nn = c.execute(sys.argv[2]).rowcount\nc.commit()\nassert n == 1, n',
    server().db,
    sql,
  ]);
}

test('each role is offered only the management screens it may use', async ({ page }) => {
  test.skip(!p.auth, 'this server has no sign-in');
  const problems = watchConsole(page);
  await signIn(page, p, DEMO_USERS.morgan);
  await expect(page.getByRole('button', { name: 'Manage' })).toHaveCount(0);

  await page.getByRole('button', { name: 'Lock' }).click();
  await signIn(page, p, DEMO_USERS.desk);
  await page.getByRole('button', { name: 'Manage' }).click();
  const tabs = page.getByRole('navigation', { name: 'Records' });
  await expect(tabs.getByRole('button', { name: 'Failed messages' })).toBeVisible();
  await expect(tabs.getByRole('button', { name: 'Owners and pets' })).toBeVisible();
  await expect(tabs.getByRole('button', { name: 'Message templates' })).toHaveCount(0);
  await expect(tabs.getByRole('button', { name: 'Users' })).toHaveCount(0);

  await page.getByRole('button', { name: 'Lock' }).click();
  await signIn(page, p, DEMO_USERS.admin);
  await page.getByRole('button', { name: 'Manage' }).click();
  for (const name of ['Failed messages', 'Message templates', 'Users', 'Working hours']) {
    await expect(tabs.getByRole('button', { name })).toBeVisible();
  }
  expect(problems()).toEqual([]);
});

test('the front desk previews a failed message and sends it again', async ({ page }) => {
  test.skip(!p.auth, 'this server has no sign-in');
  failOneEmail();
  const failed = await p.api.ok<{ items: Message[] }>('GET', '/outbox?status=failed');
  const message = failed.items[0];
  expect(message?.last_error).toContain('550');
  if (!message) return;

  await signIn(page, p, DEMO_USERS.desk);
  await openManage(page, 'Failed messages');
  const row = page.locator(`tr[data-message-id="${message.id}"]`);
  await expect(row).toContainText('550 5.1.1 no such mailbox');
  await row.getByRole('button', { name: 'Preview' }).click();
  const preview = page.getByRole('region', { name: 'Message preview' });
  await expect(preview).toContainText('To ');
  await expect(preview.locator('pre')).not.toBeEmpty();
  await shot(page, 'manage-failed-messages');

  await row.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByText('Queued again')).toBeVisible();
  await expect(row).toHaveCount(0);
  const now = await p.api.ok<Message>('GET', `/outbox/${message.id}`);
  expect(now.status).toBe('pending');
  const audit = await p.api.ok<{ items: { action: string; actor: string; entity_id: string }[] }>(
    'GET',
    '/audit?entity=outbox_message&limit=1',
  );
  expect(audit.items[0]).toMatchObject({ action: 'outbox.retry', actor: 'desk', entity_id: message.id });
});

test('an admin edits a reminder template, previews it and resets it', async ({ page }) => {
  test.skip(!p.auth, 'this server has no sign-in');
  await signIn(page, p, DEMO_USERS.admin);
  await openManage(page, 'Message templates');
  const list = page.getByRole('table', { name: 'Templates' });
  const smsReminder = list.locator('tr', { hasText: 'Reminder' }).filter({ hasText: 'SMS' });
  await smsReminder.getByRole('button', { name: 'Reminder' }).click();
  const editor = page.locator('.template-editor');
  await expect(editor.getByRole('heading', { name: 'Reminder by SMS' })).toBeVisible();
  await expect(editor.getByLabel('Subject')).toHaveCount(0);

  // A placeholder that does not exist is refused, in a sentence, and nothing is saved.
  await editor.getByLabel('Wording').fill('{clinic}: {pet} at {nope}');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(editor.getByRole('alert')).toContainText('{nope}');
  expect((await p.api.ok<{ custom: boolean }>('GET', '/templates/reminder/sms')).custom).toBe(false);

  await editor.getByLabel('Wording').fill('{clinic}: {pet} is seen {when}. Reply STOP to opt out.');
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Template saved.')).toBeVisible();
  await expect(smsReminder).toContainText('Custom (by admin)');
  const saved = await p.api.ok<{ custom: boolean; body: string }>('GET', '/templates/reminder/sms');
  expect(saved).toMatchObject({ custom: true, body: '{clinic}: {pet} is seen {when}. Reply STOP to opt out.' });

  await page.locator('.template-editor').getByRole('button', { name: 'Preview' }).click();
  const preview = page.getByRole('region', { name: 'Template preview' });
  await expect(preview.locator('pre')).toContainText('Biscuit is seen ');
  await expect(preview.locator('pre')).toContainText('Reply STOP to opt out.');
  await shot(page, 'manage-templates');

  await page.locator('.template-editor').getByRole('button', { name: 'Reset to default' }).click();
  await expect(page.getByText('Back to the built-in wording.')).toBeVisible();
  await expect(smsReminder).toContainText('Built-in');
  expect((await p.api.ok<{ custom: boolean }>('GET', '/templates/reminder/sms')).custom).toBe(false);
});

test('an admin adds a user, changes their role and disables them', async ({ page }) => {
  test.skip(!p.auth, 'this server has no sign-in');
  await signIn(page, p, DEMO_USERS.admin);
  await openManage(page, 'Users');
  const form = page.getByRole('form', { name: 'Add a user' });
  await form.getByLabel('User name').fill('temp.desk');
  await form.getByLabel('Name', { exact: true }).fill('Temporary Desk');
  await form.getByLabel('Role').selectOption('front_desk');
  await form.getByLabel('Password').fill('short');
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /password/i })).toBeVisible();
  await form.getByLabel('Password').fill('a-long-enough-password');
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(page.getByText('temp.desk added.')).toBeVisible();
  const row = page.locator('tr[data-username="temp.desk"]');
  await expect(row).toContainText('Temporary Desk');
  const other = new Api();
  expect(await other.signIn({ username: 'temp.desk', password: 'a-long-enough-password' })).toBe(true);

  await row.getByLabel('Role of temp.desk').selectOption('admin');
  await page.getByRole('dialog', { name: 'Change role' }).getByRole('button', { name: 'Make Administrator' }).click();
  await expect(page.getByText('temp.desk is now Administrator.')).toBeVisible();
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(page.getByText('temp.desk can no longer sign in.')).toBeVisible();
  await expect(page.locator('tr[data-username="temp.desk"]')).toContainText('Disabled');
  await shot(page, 'manage-users');

  const users = await p.api.ok<{ username: string; role: string; disabled: boolean }[]>('GET', '/users');
  expect(users.find((u) => u.username === 'temp.desk')).toMatchObject({ role: 'admin', disabled: true });
  const refused = await new Api().call('POST', '/auth/login', { username: 'temp.desk', password: 'a-long-enough-password' });
  expect(refused.status).toBe(401);
});
