// Whether owners' messages are going out: which channels the server's worker
// sends through (its health answer) and how many messages are overdue. A clinic
// with no channel configured must see that, not "everything has gone out".

import type { Health, OutboxMessage } from '../transport/types';
import type { Ctx } from './context';

/** A message due longer ago than this, and not sent, is overdue (a working worker takes seconds). */
const OVERDUE_MS = 15 * 60_000;

/** True when email or SMS is on, false when neither is, null when the server does not say (an older one). */
export function ownersReached(health: Health | null): boolean | null {
  const channels = health?.notification_channels;
  if (!channels) return null;
  return channels.includes('email') || channels.includes('sms');
}

export const NOTIFICATIONS_OFF =
  'This server sends no email or SMS: confirmations and reminders wait in the outbox and reach no owner. ' +
  'An administrator turns them on with VETDESK_SMTP_HOST (email) or VETDESK_SMS_ACCOUNT (SMS).';

export interface Overdue {
  count: number;
  /** The message that has waited longest. */
  oldest: OutboxMessage | null;
}

/**
 * Pending messages due more than 15 minutes ago. The outbox lists the latest
 * due first, so the overdue ones are its tail: a binary search over one-row
 * pages finds where the tail starts (a dozen requests for thousands of messages).
 */
export async function overdueMessages(ctx: Ctx, now = Date.now()): Promise<Overdue> {
  const at = async (offset: number) =>
    (await ctx.transport.invoke('list_outbox', { status: 'pending', limit: 1, offset })).items[0];
  const { total } = await ctx.transport.invoke('list_outbox', { status: 'pending', limit: 1 });
  const cutoff = now - OVERDUE_MS;
  let lo = 0;
  let hi = total;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const m = await at(mid);
    if (!m || new Date(m.due_at).getTime() <= cutoff) hi = mid;
    else lo = mid + 1;
  }
  const count = total - lo;
  return { count, oldest: count ? ((await at(total - 1)) ?? null) : null };
}
