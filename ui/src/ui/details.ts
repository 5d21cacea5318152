// An appointment's details: who, when, status, history, and the status
// steps the signed-in role may take now. A step made against a version someone
// else has since changed is explained, and the form (a cancel reason) is kept.

import { sentence, TransportError } from '../transport';
import type { AppointmentDetails, Change } from '../transport/types';
import type { Ctx } from './context';
import { tint } from './context';
import { askBeforeDiscarding } from './ask';
import { h, replace } from './dom';
import { canReschedule, STATUS_LABEL, STEP_LABEL, stepsFor, type Step } from './roles';
import { dayTime, hhmm, longDay, wallAt, offsetMinutes } from './time';

interface OpenDialog {
  id: string;
  /** The version the dialog shows. */
  version: number;
  /** A step of this dialog's own is on its way to the server. */
  acting: boolean;
  /** The newest version the stream announced meanwhile. */
  seen: number;
  reload: (why: string) => void;
}

/** The dialog that is open, so live changes can refresh it. */
let open: OpenDialog | null = null;

const SOMEONE_ELSE = 'Someone else just changed this appointment; this is the latest version.';

/** A change arrived from the stream: refresh the open dialog if it is about its appointment. */
export function noticeChange(change: Change): void {
  if (!open || change.entity !== 'appointment' || change.id !== open.id) return;
  // The stream often announces the dialog's own step before the step's answer
  // arrives: wait for the answer, which says which version that step made.
  if (open.acting) open.seen = Math.max(open.seen, change.version);
  else if (change.version > open.version) open.reload(SOMEONE_ELSE);
}

const ACTION_WORDS: Record<string, string> = {
  book: 'Booked',
  confirm: 'Confirmed',
  check_in: 'Checked in',
  start: 'Started',
  complete: 'Completed',
  cancel: 'Cancelled',
  no_show: 'Marked no-show',
  reschedule: 'Rescheduled',
};

function localTime(instant: string, timeZone: string): string {
  return dayTime(wallAt(new Date(instant), offsetMinutes(timeZone, new Date(instant))));
}

export async function openDetails(ctx: Ctx, id: string): Promise<void> {
  let details: AppointmentDetails;
  try {
    details = await ctx.transport.invoke('get', { id });
  } catch (e) {
    ctx.toasts.show(sentence(e), 'error', 'Could not open the appointment');
    return;
  }
  const body = h('div', { class: 'details-body' });
  const notice = h('p', { class: 'notice', role: 'status', hidden: true });
  const closeButton = h('button', { type: 'button', class: 'icon-close', 'aria-label': 'Close' }, '×');
  const dialog = h('dialog', { class: 'details', 'aria-label': 'Appointment' }, closeButton, notice, body);
  closeButton.addEventListener('click', () => dialog.close());
  // A half-typed cancel reason survives a reload of the dialog.
  let cancelDraft: string | null = null;
  const watch: OpenDialog = { id, version: details.meta.version, acting: false, seen: 0, reload: (why) => void reload(why) };
  askBeforeDiscarding(dialog, () => (cancelDraft ?? '').trim() !== '');

  const say = (text: string, tone: 'info' | 'error' = 'info') => {
    notice.textContent = text;
    notice.className = `notice notice-${tone}`;
    notice.hidden = false;
  };

  const reload = async (why: string, tone: 'info' | 'error' = 'info') => {
    try {
      details = await ctx.transport.invoke('get', { id });
      render();
      say(why, tone);
    } catch (e) {
      say(sentence(e), 'error');
    }
  };

  const act = async (step: Step, button: HTMLButtonElement, reason?: string) => {
    button.disabled = true;
    watch.acting = true;
    watch.seen = 0;
    try {
      const args = { id, version: details.meta.version };
      details =
        step === 'cancel'
          ? await ctx.transport.invoke('cancel', { ...args, reason })
          : await ctx.transport.invoke(step, args);
      cancelDraft = null;
      render();
      notice.hidden = true;
      ctx.toasts.show(
        `${details.pet_name}: ${STATUS_LABEL[details.status].toLowerCase()}.`,
        'ok',
        ACTION_WORDS[step] ?? 'Done',
      );
      ctx.refresh();
      if (watch.seen > details.meta.version) void reload(SOMEONE_ELSE);
    } catch (e) {
      if (e instanceof TransportError && (e.code === 'stale_version' || e.code === 'invalid_transition')) {
        ctx.refresh();
        await reload(sentence(e), 'error');
      } else {
        say(sentence(e), 'error');
        button.disabled = false;
      }
    } finally {
      watch.acting = false;
    }
  };

  const render = () => {
    const d = details;
    watch.version = d.meta.version;
    open = watch;
    const started = Date.now() >= new Date(d.slot.start).getTime();
    const steps = stepsFor(ctx.who, d, started);
    const actions = h('div', { class: 'step-actions' });
    for (const step of steps) {
      if (step === 'cancel') continue;
      const b: HTMLButtonElement = h(
        'button',
        { type: 'button', class: step === steps[0] ? 'primary' : '', 'data-step': step },
        STEP_LABEL[step],
      );
      b.addEventListener('click', () => void act(step, b));
      actions.appendChild(b);
    }
    let cancelForm: HTMLElement | null = null;
    if (steps.includes('cancel')) {
      const reasonInput = h('textarea', {
        id: 'cancel-reason',
        rows: 2,
        required: true,
        placeholder: 'Why is it cancelled? (kept in the history)',
      });
      const confirmCancel = h('button', { type: 'submit', class: 'danger' }, 'Cancel appointment');
      const showCancel = h('button', { type: 'button', 'data-step': 'cancel' }, STEP_LABEL.cancel);
      cancelForm = h(
        'form',
        { class: 'cancel-form', hidden: cancelDraft === null },
        h('label', { for: 'cancel-reason' }, 'Reason for cancelling'),
        reasonInput,
        h('div', { class: 'actions' }, confirmCancel),
      );
      reasonInput.value = cancelDraft ?? '';
      reasonInput.addEventListener('input', () => (cancelDraft = reasonInput.value));
      showCancel.addEventListener('click', () => {
        if (!cancelForm) return;
        cancelForm.hidden = false;
        cancelDraft = cancelDraft ?? '';
        reasonInput.focus();
      });
      cancelForm.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const reason = reasonInput.value.trim();
        if (!reason) {
          say('Please give a reason for cancelling.', 'error');
          reasonInput.focus();
          return;
        }
        void act('cancel', confirmCancel, reason);
      });
      actions.appendChild(showCancel);
    }

    const history = h(
      'ol',
      { class: 'history' },
      [...d.history]
        .sort((a, b) => b.version - a.version)
        .map((e) =>
          h(
            'li',
            {},
            h('span', { class: 'when' }, localTime(e.at, d.time_zone)),
            h('span', { class: 'what' }, ACTION_WORDS[e.action] ?? e.action),
            e.from_status && e.from_status !== e.to_status
              ? h('span', { class: 'muted' }, ` ${STATUS_LABEL[e.from_status]} → ${STATUS_LABEL[e.to_status]}`)
              : null,
            h('span', { class: 'who' }, ` by ${e.actor}`),
            e.note ? h('div', { class: 'note' }, e.note) : null,
          ),
        ),
    );

    const typeSwatch = h('span', { class: 'swatch' });
    typeSwatch.style.background = d.colour;
    const head = h('header', { class: 'details-head' });
    head.style.background = tint(d.colour, 0.85);
    replace(
      head,
      h('h2', {}, d.pet_name, h('span', { class: 'muted' }, ` · ${d.client_name}`)),
      h('span', { class: `pill st-${d.status}`, 'data-status': d.status }, STATUS_LABEL[d.status]),
    );

    replace(
      body,
      head,
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'When'),
        h(
          'dd',
          {},
          `${longDay(d.local.local_start.slice(0, 10))}, ${hhmm(d.local.local_start)}–${hhmm(d.local.local_end)}`,
          h('span', { class: 'muted' }, ` (${d.time_zone})`),
        ),
        h('dt', {}, 'Vet'),
        h('dd', {}, d.vet_name),
        h('dt', {}, 'Type'),
        h('dd', {}, typeSwatch, d.type_name),
        d.reason ? [h('dt', {}, 'Reason'), h('dd', {}, d.reason)] : null,
        d.notes ? [h('dt', {}, 'Notes'), h('dd', {}, d.notes)] : null,
        d.cancel_reason ? [h('dt', {}, 'Cancelled because'), h('dd', {}, d.cancel_reason)] : null,
      ),
      steps.length ? actions : h('p', { class: 'muted' }, 'No status change is open to you now.'),
      cancelForm,
      canReschedule(ctx.who, d.status)
        ? h('p', { class: 'hint' }, 'To move it, drag it in the calendar (or drag its lower edge to change its length).')
        : null,
      h('h3', {}, 'History'),
      history,
    );
  };

  render();
  dialog.addEventListener('close', () => {
    if (open?.id === id) open = null;
    dialog.remove();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  closeButton.focus();
}
