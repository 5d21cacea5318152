// Short messages at the bottom of the screen: what just happened, or why not.

import { h } from './dom';

export type Tone = 'info' | 'ok' | 'error';

export class Toasts {
  readonly el = h('div', { class: 'toasts', 'aria-live': 'polite' });

  show(text: string, tone: Tone = 'info', title?: string): HTMLElement {
    const close = h('button', { class: 'toast-close', type: 'button', 'aria-label': 'Dismiss' }, '×');
    const item = h(
      'div',
      { class: `toast toast-${tone}`, role: tone === 'error' ? 'alert' : 'status' },
      h('div', { class: 'toast-body' }, title ? h('strong', {}, title) : null, h('span', {}, text)),
      close,
    );
    const remove = () => item.remove();
    close.addEventListener('click', remove);
    this.el.appendChild(item);
    // Errors stay until read and dismissed, or replaced by newer ones; the rest fade.
    setTimeout(remove, tone === 'error' ? 15_000 : 6_000);
    while (this.el.children.length > 4) this.el.firstElementChild?.remove();
    return item;
  }
}
