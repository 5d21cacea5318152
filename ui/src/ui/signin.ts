// The sign-in screen. A shared front-desk workstation switches user often: the
// people who signed in here recently are one click away, and "Lock" in the app
// comes back to this screen without reloading the page.

import { sentence, TransportError, type Transport } from '../transport';
import type { Session } from '../transport/types';
import { h } from './dom';

const RECENT_KEY = 'vetdesk.recent-users';

export interface RecentUser {
  username: string;
  display_name: string;
}

function recentUsers(): RecentUser[] {
  try {
    const list = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as RecentUser[];
    return Array.isArray(list) ? list.slice(0, 6) : [];
  } catch {
    return [];
  }
}

function remember(user: RecentUser): void {
  const rest = recentUsers().filter((u) => u.username !== user.username);
  localStorage.setItem(RECENT_KEY, JSON.stringify([user, ...rest].slice(0, 6)));
}

/** What signing in can lead to: a session, or a server that has no sign-in at all. */
export type SignInOutcome = { session: Session } | { noAuth: true };

export function signInScreen(
  transport: Transport,
  done: (outcome: SignInOutcome) => void,
  notice?: string,
): HTMLElement {
  const username = h('input', {
    id: 'username',
    name: 'username',
    autocomplete: 'username',
    required: true,
    spellcheck: 'false',
  });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const error = h('p', { class: 'form-error', role: 'alert' });
  if (notice) error.textContent = notice;
  const submit = h('button', { type: 'submit', class: 'primary wide' }, 'Sign in');

  const recent = recentUsers();
  const chips = recent.length
    ? h(
        'div',
        { class: 'recent-users' },
        h('span', { class: 'muted' }, 'Switch to'),
        recent.map((u) =>
          h(
            'button',
            {
              type: 'button',
              class: 'chip',
              onclick: () => {
                username.value = u.username;
                password.value = '';
                password.focus();
              },
            },
            u.display_name,
          ),
        ),
      )
    : null;

  const form = h(
    'form',
    { class: 'signin-card', 'aria-labelledby': 'signin-title' },
    h('div', { class: 'brand big' }, h('span', { class: 'brand-mark' }, 'v'), 'vetdesk'),
    h('h1', { id: 'signin-title' }, 'Sign in to the appointment book'),
    chips,
    h('label', { for: 'username' }, 'User name'),
    username,
    h('label', { for: 'password' }, 'Password'),
    password,
    error,
    submit,
  );

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const session = await transport.invoke('login', {
        username: username.value.trim(),
        password: password.value,
      });
      remember({ username: session.user.username, display_name: session.user.display_name });
      done({ session });
    } catch (e) {
      if (e instanceof TransportError && e.code === 'not_found') {
        // This server has no sign-in yet (the API before authentication).
        done({ noAuth: true });
        return;
      }
      error.textContent =
        e instanceof TransportError && e.code === 'unauthenticated'
          ? 'That user name and password do not match. Please try again.'
          : sentence(e);
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });

  const screen = h('main', { class: 'signin' }, form);
  queueMicrotask(() => (recent.length ? password : username).focus());
  if (recent[0]) username.value = recent[0].username;
  return screen;
}
