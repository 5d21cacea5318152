// Questions asked before something that is hard to take back: a role change,
// or Esc over work someone has typed. Both are in-page (a `<dialog>` or a bar
// inside the open one), so they look the same in the browser and the desktop app.

import { h } from './dom';

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
