// The booking dialog. From a free slot to booked in three steps: click the
// slot, type part of the pet's or owner's name and press Enter, press Enter
// (or click Book). The time is checked against the schedule as it changes.

import { sentence, TransportError } from '../transport';
import type { AppointmentType, Client, Pet, VetRef } from '../transport/types';
import { askBeforeDiscarding } from './ask';
import { reasons } from './conflicts';
import type { Ctx } from './context';
import { debounce, h, replace } from './dom';
import { addMinutes, hhmm, shortDay } from './time';
import { shownId, whenField } from './when';

export interface Proposal {
  vetId: string;
  /** Clinic-local wall time `YYYY-MM-DDTHH:MM`. */
  start: string;
}

interface Candidate {
  pet: Pet;
  owner: string;
}

const LAST_TYPE_KEY = 'vetdesk.last-type';

/** The type a new booking starts with: the last one used here, else a consultation. */
export function usualType(ctx: Ctx): AppointmentType | undefined {
  return (
    ctx.types.find((t) => t.id === localStorage.getItem(LAST_TYPE_KEY)) ??
    ctx.types.find((t) => /consult/i.test(t.name)) ??
    ctx.types[0]
  );
}

export function openBooking(ctx: Ctx, proposal: Proposal, calendarVets: VetRef[]): HTMLDialogElement {
  const clinic = ctx.clinic();
  const vets = calendarVets.length
    ? calendarVets
    : ctx.vets.filter((v) => v.clinics.includes(clinic.id)).map((v) => ({ id: v.id, name: v.name }));
  const owners = new Map<string, string>();

  const vetSelect = h(
    'select',
    { id: 'book-vet', name: 'vet' },
    vets.map((v) => h('option', { value: v.id, selected: v.id === proposal.vetId }, v.name)),
  );
  const startInput = h('input', {
    id: 'book-start',
    name: 'start',
    value: proposal.start.slice(0, 16),
    required: true,
  });
  const startField = whenField(startInput, { time: true });
  const preferredType = usualType(ctx);
  const typeSelect = h(
    'select',
    { id: 'book-type', name: 'type' },
    ctx.types.map((t) =>
      h('option', { value: t.id, selected: t.id === preferredType?.id }, `${t.name} (${t.duration_min} min)`),
    ),
  );
  const durationInput = h('input', {
    id: 'book-duration',
    name: 'duration',
    type: 'number',
    min: 5,
    max: 480,
    step: 5,
    value: preferredType?.duration_min ?? 30,
    required: true,
  });
  const search = h('input', {
    id: 'patient-search',
    name: 'patient',
    type: 'search',
    placeholder: 'Type a pet’s or owner’s name',
    autocomplete: 'off',
    role: 'combobox',
    'aria-expanded': 'false',
    'aria-controls': 'patient-results',
    'aria-autocomplete': 'list',
  });
  const results = h('ul', { id: 'patient-results', role: 'listbox', class: 'results', 'aria-label': 'Matching pets' });
  const chosenLine = h('div', { class: 'chosen', hidden: true });
  const reason = h('input', { id: 'book-reason', name: 'reason', placeholder: 'Optional: what is it for?' });
  const check = h('div', { id: 'conflict-status', class: 'check', 'aria-live': 'polite' });
  const formError = h('p', { class: 'form-error', role: 'alert' });
  const bookButton = h('button', { type: 'submit', class: 'primary', id: 'book-submit', disabled: true }, 'Book');
  const cancelButton = h('button', { type: 'button', value: 'cancel' }, 'Close');

  let candidates: Candidate[] = [];
  let active = 0;
  let chosen: Candidate | null = null;
  let timeOk = false;
  let checkTicket = 0;

  const updateButton = () => {
    bookButton.disabled = !(chosen && timeOk);
  };

  const renderResults = () => {
    replace(
      results,
      candidates.map((c, i) =>
        h(
          'li',
          {
            id: `patient-option-${i}`,
            role: 'option',
            class: i === active ? 'active' : '',
            'aria-selected': i === active ? 'true' : 'false',
            onmousedown: (ev: Event) => {
              ev.preventDefault();
              choose(i);
            },
          },
          h('strong', {}, c.pet.name),
          h('span', { class: 'muted' }, ` ${c.pet.species}${c.pet.breed ? `, ${c.pet.breed}` : ''}`),
          h('span', { class: 'owner' }, c.owner),
        ),
      ),
    );
    // Once a pet is chosen the search is put away: an empty list then means "done", not "no match".
    if (!chosen && search.value.trim() && !candidates.length) {
      results.appendChild(h('li', { class: 'empty' }, 'No pet or owner matches that name.'));
    }
    search.setAttribute('aria-expanded', candidates.length ? 'true' : 'false');
    if (candidates.length) search.setAttribute('aria-activedescendant', `patient-option-${active}`);
    else search.removeAttribute('aria-activedescendant');
  };

  const ownerName = async (id: string): Promise<string> => {
    const known = owners.get(id);
    if (known) return known;
    try {
      const c = await ctx.transport.invoke('get_client', { id });
      owners.set(id, c.name);
      return c.name;
    } catch {
      return '';
    }
  };

  let searchTicket = 0;
  const runSearch = debounce(async () => {
    const q = search.value.trim();
    const ticket = ++searchTicket;
    if (!q) {
      candidates = [];
      renderResults();
      return;
    }
    try {
      const [pets, clients] = await Promise.all([
        ctx.transport.invoke('list_pets', { q, limit: 8 }),
        ctx.transport.invoke('list_clients', { q, limit: 5 }),
      ]);
      clients.forEach((c: Client) => owners.set(c.id, c.name));
      const ownersPets = await Promise.all(
        clients.map((c) => ctx.transport.invoke('list_pets', { owner_id: c.id, limit: 10 })),
      );
      const seen = new Set<string>();
      const list: Candidate[] = [];
      for (const pet of [...pets, ...ownersPets.flat()]) {
        if (seen.has(pet.id)) continue;
        seen.add(pet.id);
        list.push({ pet, owner: await ownerName(pet.owner) });
      }
      if (ticket !== searchTicket || chosen) return;
      candidates = list.slice(0, 10);
      active = 0;
      renderResults();
    } catch (e) {
      if (ticket === searchTicket) formError.textContent = sentence(e);
    }
  }, 120);

  const choose = (i: number) => {
    const c = candidates[i];
    if (!c) return;
    chosen = c;
    replace(
      chosenLine,
      h('span', {}, 'Patient: '),
      h('strong', {}, c.pet.name),
      ` (${c.pet.species}), ${c.owner} `,
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => {
            chosen = null;
            chosenLine.hidden = true;
            search.hidden = false;
            search.focus();
            runSearch();
            updateButton();
          },
        },
        'change',
      ),
    );
    chosenLine.hidden = false;
    search.hidden = true;
    candidates = [];
    renderResults();
    updateButton();
    (bookButton.disabled ? reason : bookButton).focus();
  };

  search.addEventListener('input', runSearch);
  search.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      if (!candidates.length) return;
      active = (active + (ev.key === 'ArrowDown' ? 1 : candidates.length - 1)) % candidates.length;
      renderResults();
    } else if (ev.key === 'Enter') {
      ev.preventDefault();
      choose(active);
    }
  });

  const runCheck = debounce(async () => {
    const ticket = ++checkTicket;
    const minutes = Number(durationInput.value);
    const start = startInput.value;
    timeOk = false;
    updateButton();
    if (!start || !(minutes > 0)) {
      check.className = 'check bad';
      check.textContent = 'Choose a time and a duration.';
      return;
    }
    check.className = 'check';
    check.textContent = 'Checking the schedule…';
    try {
      const report = await ctx.transport.invoke('check_conflicts', {
        clinic_id: clinic.id,
        vet_id: vetSelect.value,
        start,
        end: addMinutes(start, minutes),
        type_id: typeSelect.value,
      });
      if (ticket !== checkTicket) return;
      timeOk = report.ok;
      const vetName = vetSelect.selectedOptions[0]?.textContent ?? '';
      const when = `${shortDay(start.slice(0, 10))}, ${hhmm(start)}–${hhmm(addMinutes(start, minutes))}`;
      if (report.ok) {
        check.className = 'check ok';
        check.textContent = `${vetName} is free ${when}.`;
      } else {
        check.className = 'check bad';
        replace(
          check,
          h('span', {}, `Not free ${when}:`),
          h('ul', {}, reasons(report, (id) => ctx.appointment(id)).map((m) => h('li', {}, m))),
        );
      }
    } catch (e) {
      if (ticket !== checkTicket) return;
      check.className = 'check bad';
      check.textContent = sentence(e);
    }
    updateButton();
  }, 120);

  typeSelect.addEventListener('change', () => {
    const t = ctx.types.find((x) => x.id === typeSelect.value);
    if (t) durationInput.value = String(t.duration_min);
    runCheck();
  });
  for (const input of [vetSelect, startInput, durationInput]) {
    input.addEventListener('change', runCheck);
    input.addEventListener('input', runCheck);
  }

  const form = h(
    'form',
    { method: 'dialog', class: 'dialog-form' },
    h('h2', {}, 'New appointment'),
    h('p', { class: 'muted' }, clinic.name),
    h(
      'div',
      { class: 'grid2' },
      h('label', { for: 'book-vet' }, 'Vet'),
      vetSelect,
      h('label', { for: shownId(startInput) }, 'Start'),
      startField,
      h('label', { for: 'book-type' }, 'Type'),
      typeSelect,
      h('label', { for: 'book-duration' }, 'Minutes'),
      durationInput,
      h('label', { for: 'patient-search' }, 'Patient'),
      h('div', { class: 'combo' }, search, chosenLine, results),
      h('label', { for: 'book-reason' }, 'Reason'),
      reason,
    ),
    check,
    formError,
    h('div', { class: 'actions' }, cancelButton, bookButton),
  );

  const dialog = h('dialog', { class: 'booking', 'aria-label': 'New appointment' }, form);
  cancelButton.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  // A pet found or a reason typed is work: Esc asks before throwing it away.
  askBeforeDiscarding(dialog, () => chosen !== null || search.value.trim() !== '' || reason.value.trim() !== '');

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!chosen || !timeOk) return;
    formError.textContent = '';
    bookButton.disabled = true;
    bookButton.textContent = 'Booking…';
    try {
      const minutes = Number(durationInput.value);
      const type = ctx.types.find((t) => t.id === typeSelect.value);
      const booked = await ctx.transport.invoke('book', {
        clinic_id: clinic.id,
        vet_id: vetSelect.value,
        pet_id: chosen.pet.id,
        client_id: chosen.pet.owner,
        type_id: typeSelect.value,
        start: startInput.value,
        duration_minutes: type && type.duration_min === minutes ? undefined : minutes,
        reason: reason.value.trim() || undefined,
      });
      localStorage.setItem(LAST_TYPE_KEY, typeSelect.value);
      dialog.close();
      ctx.toasts.show(
        `${booked.pet_name} with ${booked.vet_name}, ${shortDay(booked.local.local_start.slice(0, 10))} ${hhmm(
          booked.local.local_start,
        )}–${hhmm(booked.local.local_end)}.`,
        'ok',
        'Booked',
      );
      ctx.refresh();
    } catch (e) {
      if (e instanceof TransportError && e.code === 'conflict') {
        // Someone else took the time a moment ago: say so where the check is shown.
        timeOk = false;
        e.details.messages = reasons(e.details, (id) => ctx.appointment(id));
        check.className = 'check bad';
        check.textContent = sentence(e);
      } else {
        formError.textContent = sentence(e);
      }
    } finally {
      bookButton.textContent = 'Book';
      updateButton();
    }
  });

  document.body.appendChild(dialog);
  dialog.showModal();
  search.focus();
  runCheck();
  return dialog;
}
