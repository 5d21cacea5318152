// Questions asked before something that is hard to take back: a role change,
// or Esc over work someone has typed. Both are in-page (a `<dialog>` or a bar
// inside the open one), so they look the same in the browser and the desktop app.

import { h } from './dom';

let asked = 0;

/** A modal yes/no question; resolves true only for `yes`. Esc or `no` is false. */
export function confirmDialog(q: { title: string; text: string; yes: string; no: string; danger?: boolean }): Promise<boolean> {
  return new Promise((resolve) => {
    const yes = h('button', { type: 'button', class: q.danger ? 'danger' : 'primary' }, q.yes);
    const no = h('button', { type: 'button' }, q.no);
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-label': q.title },
      h('h2', {}, q.title),
      h('p', {}, q.text),
      h('div', { class: 'actions' }, no, yes),
    );
    let answer = false;
    yes.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    no.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    no.focus();
  });
}

/**
 * Esc in `dialog` closes it only when nothing typed would be lost; otherwise it
 * asks "Discard what you typed?" in a bar at the top of the dialog. Esc again,
 * or "Keep editing", goes back to where the person was typing.
 */
export function askBeforeDiscarding(dialog: HTMLDialogElement, dirty: () => boolean): void {
  let bar: HTMLElement | null = null;
  let returnTo: HTMLElement | null = null;
  const keepEditing = () => {
    bar?.remove();
    bar = null;
    returnTo?.focus();
  };
  const ask = () => {
    returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const id = `discard-question-${++asked}`;
    const keep = h('button', { type: 'button', class: 'primary' }, 'Keep editing');
    const discard = h('button', { type: 'button', class: 'danger' }, 'Discard');
    keep.addEventListener('click', keepEditing);
    discard.addEventListener('click', () => {
      bar = null;
      dialog.close();
    });
    bar = h(
      'div',
      { class: 'discard-ask', role: 'alertdialog', 'aria-labelledby': id },
      h('strong', { id }, 'Discard what you typed?'),
      h('span', { class: 'spacer' }),
      keep,
      discard,
    );
    dialog.prepend(bar);
    keep.focus();
  };
  // Cancelling Esc's keydown stops the dialog's own close request (Chromium and
  // WebKit both follow the HTML spec here); `cancel` is the fallback.
  dialog.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Escape') return;
    if (bar) {
      ev.preventDefault();
      keepEditing();
    } else if (dirty()) {
      ev.preventDefault();
      ask();
    }
  });
  dialog.addEventListener('cancel', (ev) => {
    if (bar || dirty()) {
      ev.preventDefault();
      if (!bar) ask();
    }
  });
}
