// Which clinics a user works at, and where their calendar opens: the clinics
// multiselect of the Users screen (an admin's). No clinic ticked means every
// clinic. The server keeps a limited user to their clinics' appointments,
// owners, pets and messages, and refuses a limit on an administrator; this only
// asks.

import type { Clinic } from '../transport/types';
import { h } from './dom';

export interface ClinicChoice {
  /** Empty: every clinic. */
  clinics: string[];
  home_clinic_id: string | null;
}

export interface ClinicPicker {
  readonly el: HTMLFieldSetElement;
  value(): ClinicChoice;
}

/**
 * Ticks, one per clinic, and the home clinic. `who` names the user in the
 * labels ("Clinics of desk"); `onChange` runs after each change the person makes.
 */
export function clinicPicker(
  clinics: Clinic[],
  who: string,
  initial: ClinicChoice,
  onChange?: (choice: ClinicChoice, what: 'clinics' | 'home') => void,
  disabled = false,
): ClinicPicker {
  const ticks = clinics.map((c) =>
    h('input', { type: 'checkbox', value: c.id, checked: initial.clinics.includes(c.id), disabled }),
  );
  const home = h(
    'select',
    { 'aria-label': who ? `Home clinic of ${who}` : 'Home clinic', disabled },
    h('option', { value: '' }, '—'),
    clinics.map((c) => h('option', { value: c.id, selected: c.id === initial.home_clinic_id }, c.name)),
  );
  const value = (): ClinicChoice => ({
    clinics: ticks.filter((t) => t.checked).map((t) => t.value),
    home_clinic_id: home.value || null,
  });
  // The home clinic is one of the ticked ones, when any are ticked.
  const offerHomes = () => {
    const ticked = value().clinics;
    for (const o of Array.from(home.options)) {
      o.disabled = o.value !== '' && ticked.length > 0 && !ticked.includes(o.value);
    }
    if (home.selectedOptions[0]?.disabled) home.value = '';
  };
  offerHomes();
  const changed = (what: 'clinics' | 'home') => () => {
    offerHomes();
    onChange?.(value(), what);
  };
  for (const t of ticks) t.addEventListener('change', changed('clinics'));
  home.addEventListener('change', changed('home'));
  const el = h(
    'fieldset',
    { class: 'clinic-picks', 'aria-label': who ? `Clinics of ${who}` : 'Clinics' },
    who ? null : h('span', { class: 'clinic-title' }, 'Clinics'),
    // Disabled ticks take no focus: the list, when it scrolls, must then take it itself.
    h(
      'div',
      disabled ? { class: 'clinic-ticks', tabindex: '0', role: 'group', 'aria-label': 'Every clinic' } : { class: 'clinic-ticks' },
      ticks.map((t, i) => h('label', {}, t, clinics[i]?.name ?? '')),
    ),
    h('span', { class: 'clinic-scope' }, disabled ? 'Every clinic' : ''),
    h('label', { class: 'clinic-home' }, 'Home', home),
  );
  const scope = el.querySelector('.clinic-scope') as HTMLElement;
  const say = () => {
    if (!disabled) scope.textContent = value().clinics.length ? '' : 'Every clinic';
  };
  say();
  for (const t of ticks) t.addEventListener('change', say);
  return { el, value };
}
