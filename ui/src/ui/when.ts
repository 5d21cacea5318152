// Date and time fields in the app's one format, "Tue 8 Dec 2026, 10:00" in
// 24-hour time, whatever language the browser or the desktop's WebView speaks
// (their own controls said "12/08/2026, 10:00 AM"). flatpickr shows and reads
// that text in one field (one tab stop) and keeps the original input's value
// as the API takes it: `YYYY-MM-DDTHH:MM`, or `YYYY-MM-DD` for a date.

import flatpickr from 'flatpickr';
import 'flatpickr/dist/flatpickr.css';
import { h } from './dom';

/** The app's day (time.ts `longDay(date, true)`) and 24-hour time, in flatpickr's tokens. */
const DAY = 'D j M Y';
const DAY_TIME = `${DAY}, H:i`;

let fields = 0;

/**
 * Turn `input` into a field that shows and takes "Tue 8 Dec 2026, 10:00"
 * (`time: false`: "Tue 8 Dec 2026"). Returns the element to place in the form;
 * `input` keeps the machine value and fires `change` when it changes.
 */
export function whenField(input: HTMLInputElement, opts: { time: boolean; step?: number }): HTMLElement {
  input.type = 'text';
  const box = h('span', { class: 'when' }, input);
  const picker = flatpickr(input, {
    enableTime: opts.time,
    time_24hr: true,
    minuteIncrement: opts.step ?? 5,
    dateFormat: opts.time ? 'Y-m-d\\TH:i' : 'Y-m-d',
    altInput: true,
    altFormat: opts.time ? DAY_TIME : DAY,
    // Typed text is read in the same format it is shown in.
    allowInput: true,
    // Inside the field's box, not at the end of <body>: a modal dialog is in the
    // top layer, and a calendar outside it could not be clicked.
    static: true,
    // Tabbing into the field must not open the calendar (and then tab into it):
    // the field is one tab stop. A click, or Alt+↓, opens it.
    clickOpens: false,
    // No fade-in: the calendar is there, readable, the moment it is asked for.
    animate: false,
    locale: { firstDayOfWeek: 1 },
  });
  const shown = picker.altInput;
  if (shown) {
    shown.addEventListener('click', () => picker.open());
    // Typed text counts when the field is left, wherever focus goes next.
    shown.addEventListener('change', () => picker.setDate(shown.value, true, picker.config.altFormat));
    // The label belongs to the field a person sees and types in.
    shown.id = input.id ? `${input.id}-text` : `when-${++fields}`;
    shown.placeholder = opts.time ? 'Tue 8 Dec 2026, 10:00' : 'Tue 8 Dec 2026';
    if (input.required) shown.required = true;
    const name = input.getAttribute('aria-label');
    if (name) shown.setAttribute('aria-label', name);
  }
  // The calendar's own inputs (year, hour, minute) sit inside the form: they are
  // the picker's, not the form's, and must not block its submit (a typed 23:59
  // is a "step mismatch" for a minute input that steps by 5).
  for (const el of picker.calendarContainer.querySelectorAll('input, select')) el.setAttribute('form', '');
  box.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' && ev.altKey && !picker.isOpen) {
      ev.preventDefault();
      picker.open();
    } else if (ev.key === 'Escape' && picker.isOpen) {
      // Esc closes the calendar, not the dialog the field is in.
      ev.preventDefault();
      ev.stopPropagation();
      picker.close();
      shown?.focus();
    }
  });
  return box;
}

/** The id of the field a person sees, for a `<label for>`. */
export function shownId(input: HTMLInputElement): string {
  return `${input.id}-text`;
}
