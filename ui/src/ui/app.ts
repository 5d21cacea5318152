// The application shell: sign-in, the top bar (clinic, view, date, vet,
// connection, who is signed in), the calendar or a management screen, and the
// live change stream that keeps them current.

import { sentence, TransportError, type LinkState, type Transport } from '../transport';
import type { Calendar, CalendarView, Change, Clinic, Session } from '../transport/types';
import { usualType } from './booking';
import { CalendarScreen, type CalendarState } from './calendar';
import type { Ctx } from './context';
import { noticeChange } from './details';
import { debounce, h, replace } from './dom';
import { MANAGE_TABS, manageScreen, type ManageTab } from './manage';
import { myDayPanel } from './myday';
import { NOTIFICATIONS_OFF, ownersReached } from './notify-status';
import { printDay } from './print-day';
import { canBook, canManageOwners, canManageSchedule, ROLE_LABEL, type Who } from './roles';
import { signInScreen, type SignInOutcome } from './signin';
import { Toasts } from './toast';
import { addDays, longDay, monthTitle, offsetMinutes, shortDay, todayIn } from './time';

const TOKEN_KEY = 'vetdesk.session';
/** The clinic last shown on this workstation: the next sign-in here starts on it. */
const CLINIC_KEY = 'vetdesk.clinic';

/**
 * A workstation's first clinic, before it has used one: the clinic in this
 * computer's time zone (a London desk's computer keeps London time), else one
 * whose clock reads the same now, else the first.
 */
export function homeClinic(clinics: Clinic[], zone = Intl.DateTimeFormat().resolvedOptions().timeZone): Clinic | undefined {
  const here = offsetMinutes(zone);
  return (
    clinics.find((c) => c.time_zone === zone) ??
    clinics.find((c) => offsetMinutes(c.time_zone) === here) ??
    clinics[0]
  );
}

type Screen = { kind: 'calendar'; myDay: boolean } | { kind: 'manage'; tab: ManageTab };

interface Route {
  screen: Screen;
  clinicId: string;
  state: Partial<CalendarState>;
}

function readRoute(): Route {
  const url = new URL(location.href);
  const q = url.searchParams;
  const view = q.get('view');
  const state: Partial<CalendarState> = {};
  if (view === 'day' || view === 'week' || view === 'month') state.view = view;
  const date = q.get('date');
  if (date && /^\d{4}-\d{2}-\d{2}$/.test(date)) state.date = date;
  const vet = q.get('vet');
  if (vet) state.vetId = vet;
  const parts = url.pathname.split('/').filter(Boolean);
  let screen: Screen = { kind: 'calendar', myDay: parts[0] === 'my-day' };
  if (parts[0] === 'manage') {
    const tab = parts[1];
    screen = {
      kind: 'manage',
      tab: MANAGE_TABS.find((t) => t === tab) ?? 'clients',
    };
  }
  return { screen, clinicId: q.get('clinic') ?? '', state };
}

export class VetdeskApp {
  private readonly toasts = new Toasts();
  private session: Session | null = null;
  private noAuth = false;
  private ctx: Ctx | null = null;
  private calendar: CalendarScreen | null = null;
  private stopLive: (() => void) | null = null;
  private healthTimer: ReturnType<typeof setInterval> | undefined;
  private link: LinkState = 'connecting';
  private serverUp = true;
  private readonly linkEl = h('span', { class: 'link', id: 'link-state', role: 'status' });
  /** Shown while the server sends no email or SMS: nobody should believe owners are reminded. */
  private readonly notifyEl = h(
    'span',
    { class: 'notify-off', id: 'notify-state', title: NOTIFICATIONS_OFF, hidden: true },
    'Notifications off',
  );
  private clinicId = '';
  private screen: Screen = { kind: 'calendar', myDay: false };
  private main = h('main', { class: 'workspace', id: 'workspace' });
  private side = h('aside', { class: 'side', hidden: true });
  private toolbar = h('div', { class: 'toolbar' });
  /** Date, vet and "New booking", above the calendar. */
  private subbar = h('div', { class: 'subbar' });

  constructor(
    private readonly root: HTMLElement,
    private readonly transport: Transport,
  ) {
    document.body.appendChild(this.toasts.el);
    transport.onUnauthenticated(() => {
      if (this.session) this.lock('Your session has ended. Please sign in again.');
    });
    window.addEventListener('popstate', () => this.applyRoute(readRoute()));
  }

  async start(): Promise<void> {
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      try {
        const session = JSON.parse(saved) as Session;
        this.transport.setToken(session.token);
        const user = await this.transport.invoke('me', {});
        return this.enter({ session: { ...session, user } });
      } catch {
        sessionStorage.removeItem(TOKEN_KEY);
        this.transport.setToken(null);
      }
    }
    try {
      // Is there a sign-in at all? A server without authentication has no /auth routes.
      await this.transport.invoke('me', {});
      return this.enter({ noAuth: true });
    } catch (e) {
      if (e instanceof TransportError && e.code === 'not_found') return this.enter({ noAuth: true });
      if (e instanceof TransportError && e.code === 'unauthenticated') return this.showSignIn();
      return this.showSignIn(sentence(e));
    }
  }

  private showSignIn(notice?: string): void {
    document.title = 'Sign in · vetdesk';
    replace(this.root, signInScreen(this.transport, (outcome) => void this.enter(outcome), notice));
  }

  /** Lock: back to the sign-in screen at once, without reloading the page. */
  private lock(notice?: string): void {
    const token = this.session?.token;
    this.teardown();
    if (token) {
      void this.transport.invoke('logout', {}).catch(() => undefined).finally(() => {
        if (!this.session) this.transport.setToken(null);
      });
    }
    this.session = null;
    sessionStorage.removeItem(TOKEN_KEY);
    for (const d of document.querySelectorAll('dialog')) d.remove();
    // The next person starts from their own home screen, not where this one was.
    history.replaceState(null, '', '/');
    this.showSignIn(notice);
  }

  private teardown(): void {
    this.stopLive?.();
    this.stopLive = null;
    clearInterval(this.healthTimer);
    this.calendar?.destroy();
    this.calendar = null;
    this.ctx = null;
  }

  private async enter(outcome: SignInOutcome): Promise<void> {
    if ('session' in outcome) {
      this.session = outcome.session;
      this.noAuth = false;
      this.transport.setToken(outcome.session.token);
      sessionStorage.setItem(TOKEN_KEY, JSON.stringify(outcome.session));
    } else {
      this.session = null;
      this.noAuth = true;
    }
    const who: Who = this.session?.user ?? null;
    try {
      const [clinics, vets, types] = await Promise.all([
        this.transport.invoke('list_clinics', {}),
        this.transport.invoke('list_vets', {}),
        this.transport.invoke('list_types', {}),
      ]);
      if (!clinics.length) {
        replace(this.root, h('main', { class: 'signin' }, h('p', {}, 'This practice has no clinics yet. Add one with `vetdesk clinics add`.')));
        return;
      }
      const ctx: Ctx = {
        transport: this.transport,
        who,
        clinics,
        vets,
        types,
        toasts: this.toasts,
        clinic: () => clinics.find((c) => c.id === this.clinicId) ?? (clinics[0] as Clinic),
        refresh: () => this.calendar?.refresh(),
        vetName: (id) => vets.find((v) => v.id === id)?.name ?? 'a vet',
        appointment: (id) =>
          this.calendar?.loaded?.days.flatMap((d) => d.appointments).find((a) => a.id === id),
      };
      this.ctx = ctx;
    } catch (e) {
      if (e instanceof TransportError && e.code === 'unauthenticated') return;
      this.showSignIn(sentence(e));
      return;
    }
    this.buildShell();
    this.applyRoute(readRoute(), true);
    this.startLive();
  }

  private preferredClinic(route: Route): string {
    const ctx = this.ctx as Ctx;
    if (ctx.clinics.some((c) => c.id === route.clinicId)) return route.clinicId;
    const who = ctx.who;
    // The person's own clinic (an admin sets it; the list is the clinics they may see).
    const home = who?.home_clinic_id;
    if (home && ctx.clinics.some((c) => c.id === home)) return home;
    if (who?.vet_id) {
      const mine = ctx.vets.find((v) => v.id === who.vet_id)?.clinics[0];
      if (mine) return mine;
    }
    const last = localStorage.getItem(CLINIC_KEY);
    if (last && ctx.clinics.some((c) => c.id === last)) return last;
    return homeClinic(ctx.clinics)?.id ?? '';
  }

  private applyRoute(route: Route, first = false): void {
    const ctx = this.ctx;
    if (!ctx) return;
    this.clinicId = this.preferredClinic(route);
    let screen = route.screen;
    if (screen.kind === 'manage' && !canManageOwners(ctx.who)) screen = { kind: 'calendar', myDay: false };
    // A vet lands on their own day.
    if (first && ctx.who?.role === 'vet' && screen.kind === 'calendar' && !route.state.view) {
      screen = { kind: 'calendar', myDay: true };
    }
    this.screen = screen;
    const today = todayIn(ctx.clinic().time_zone);
    const state: CalendarState = {
      view: route.state.view ?? 'day',
      date: route.state.date ?? today,
      vetId: route.state.vetId ?? '',
    };
    if (screen.kind === 'calendar' && screen.myDay) {
      state.view = 'day';
      state.vetId = ctx.who?.vet_id ?? state.vetId;
    }
    this.render(state);
  }

  private buildShell(): void {
    const ctx = this.ctx as Ctx;
    const who = ctx.who;
    const userBox = who
      ? h(
          'div',
          { class: 'user' },
          h('span', { class: 'user-name', id: 'user-name' }, who.display_name),
          h('span', { class: 'user-role' }, ROLE_LABEL[who.role]),
        )
      : h('div', { class: 'user' }, h('span', { class: 'user-role' }, 'No sign-in on this server'));
    const lockButton = who
      ? h(
          'button',
          { type: 'button', id: 'lock', title: 'Lock and switch user (Ctrl+L)', onclick: () => this.lock() },
          'Lock',
        )
      : null;
    const header = h(
      'header',
      { class: 'topbar' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'v'), h('span', { class: 'brand-name' }, 'vetdesk')),
      this.toolbar,
      h('div', { class: 'topbar-end' }, this.notifyEl, this.linkEl, userBox, lockButton),
    );
    replace(
      this.root,
      header,
      h('div', { class: 'body' }, h('div', { class: 'work' }, this.subbar, this.main), this.side),
    );
    this.renderLink();
    document.onkeydown = (ev) => {
      if (!this.ctx) return;
      const target = ev.target as HTMLElement | null;
      const typing = target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
      if (ev.ctrlKey && ev.key.toLowerCase() === 'l' && this.session) {
        ev.preventDefault();
        this.lock();
      } else if (!typing && !document.querySelector('dialog[open]')) {
        if (ev.key === 'n' && canBook(this.ctx.who)) void this.newBooking();
        else if (ev.key === 't') this.calendar?.show({ date: todayIn(this.ctx.clinic().time_zone) });
        else if (ev.key === 'ArrowLeft' && !ev.altKey) this.step(-1);
        else if (ev.key === 'ArrowRight' && !ev.altKey) this.step(1);
      }
    };
  }

  private pushUrl(state: CalendarState): void {
    const q = new URLSearchParams();
    q.set('clinic', this.clinicId);
    let path = '/calendar';
    if (this.screen.kind === 'manage') {
      path = `/manage/${this.screen.tab}`;
    } else {
      if (this.screen.myDay) path = '/my-day';
      q.set('view', state.view);
      q.set('date', state.date);
      if (state.vetId && !this.screen.myDay) q.set('vet', state.vetId);
    }
    const url = `${path}?${q.toString()}`;
    if (url !== location.pathname + location.search) history.pushState(null, '', url);
  }

  private render(state: CalendarState): void {
    const ctx = this.ctx as Ctx;
    localStorage.setItem(CLINIC_KEY, this.clinicId);
    this.calendar?.destroy();
    this.calendar = null;
    this.side.hidden = true;
    if (this.screen.kind === 'manage') {
      this.renderToolbar(state);
      replace(this.main, manageScreen(ctx, this.screen.tab, (tab) => this.go({ kind: 'manage', tab })));
      document.title = 'Manage · vetdesk';
      this.pushUrl(state);
      return;
    }
    const myDay = this.screen.myDay;
    const cal = new CalendarScreen(ctx, state, (s) => {
      this.renderToolbar(s);
      this.pushUrl(s);
    });
    this.calendar = cal;
    replace(this.main, cal.el);
    if (myDay) {
      this.side.hidden = false;
      cal.onLoaded = (data: Calendar) => replace(this.side, myDayPanel(ctx, data));
    }
    this.renderToolbar(state);
    this.pushUrl(state);
  }

  private go(screen: Screen, state?: Partial<CalendarState>): void {
    this.screen = screen;
    const current = this.calendar?.current ?? {
      view: 'day' as CalendarView,
      date: todayIn((this.ctx as Ctx).clinic().time_zone),
      vetId: '',
    };
    const next = { ...current, ...state };
    if (screen.kind === 'calendar' && screen.myDay) {
      next.view = 'day';
      next.vetId = this.ctx?.who?.vet_id ?? '';
    } else if (screen.kind === 'calendar' && state?.vetId === undefined && this.ctx?.who?.role === 'vet') {
      next.vetId = '';
    }
    this.render(next);
  }

  private step(direction: 1 | -1): void {
    const cal = this.calendar;
    if (!cal) return;
    const { view, date } = cal.current;
    let next = date;
    if (view === 'day') next = addDays(date, direction);
    else if (view === 'week') next = addDays(date, 7 * direction);
    else {
      const [y, m] = date.split('-').map(Number);
      const month = new Date(Date.UTC(y ?? 2000, (m ?? 1) - 1 + direction, 1));
      next = month.toISOString().slice(0, 10);
    }
    cal.show({ date: next });
  }

  private async newBooking(): Promise<void> {
    const cal = this.calendar;
    const ctx = this.ctx;
    if (!cal || !ctx) return;
    let proposal = null;
    try {
      proposal = await cal.firstFree(usualType(ctx)?.id);
    } catch (e) {
      ctx.toasts.show(sentence(e), 'error', 'Could not look for a free time');
    }
    cal.book(
      proposal ?? {
        vetId: cal.current.vetId || (cal.loaded?.vets[0]?.id ?? ''),
        start: `${cal.current.date}T09:00`,
      },
    );
  }

  private async printDay(): Promise<void> {
    const cal = this.calendar;
    const ctx = this.ctx;
    const data = cal?.loaded;
    if (!cal || !ctx || !data) return;
    // A week or month prints its first day shown; the day view, its day.
    const date = data.days.some((d) => d.date === cal.current.date) ? cal.current.date : (data.days[0]?.date ?? '');
    try {
      await printDay(ctx, data, date, cal.current.vetId);
    } catch (e) {
      ctx.toasts.show(sentence(e), 'error', 'Could not print the day');
    }
  }

  private renderToolbar(state: CalendarState): void {
    const ctx = this.ctx as Ctx;
    const who = ctx.who;
    const clinicSelect = h(
      'select',
      { id: 'clinic', 'aria-label': 'Clinic' },
      ctx.clinics.map((c) => h('option', { value: c.id, selected: c.id === this.clinicId }, c.name)),
    );
    clinicSelect.addEventListener('change', () => {
      this.clinicId = clinicSelect.value;
      const tz = ctx.clinic().time_zone;
      this.render({ ...state, vetId: this.screen.kind === 'calendar' && this.screen.myDay ? state.vetId : '', date: todayIn(tz) });
    });

    const onCalendar = this.screen.kind === 'calendar';
    const myDay = this.screen.kind === 'calendar' && this.screen.myDay;
    const viewButton = (view: CalendarView, label: string) =>
      h(
        'button',
        {
          type: 'button',
          class: onCalendar && !myDay && state.view === view ? 'seg active' : 'seg',
          'aria-pressed': onCalendar && !myDay && state.view === view ? 'true' : 'false',
          'data-view': view,
          onclick: () => {
            if (onCalendar && !myDay && this.calendar) this.calendar.show({ view });
            else this.go({ kind: 'calendar', myDay: false }, { view });
          },
        },
        label,
      );
    const views = h(
      'div',
      { class: 'segmented', role: 'group', 'aria-label': 'View' },
      viewButton('day', 'Day'),
      viewButton('week', 'Week'),
      viewButton('month', 'Month'),
      who?.vet_id
        ? h(
            'button',
            {
              type: 'button',
              class: myDay ? 'seg active' : 'seg',
              'aria-pressed': myDay ? 'true' : 'false',
              'data-view': 'my-day',
              onclick: () => this.go({ kind: 'calendar', myDay: true }, { date: todayIn(ctx.clinic().time_zone) }),
            },
            'My day',
          )
        : null,
      canManageOwners(who)
        ? h(
            'button',
            {
              type: 'button',
              class: !onCalendar ? 'seg active' : 'seg',
              'data-view': 'manage',
              onclick: () => this.go({ kind: 'manage', tab: canManageSchedule(who) ? 'hours' : 'clients' }),
            },
            'Manage',
          )
        : null,
    );

    const clinicVets = ctx.vets.filter((v) => v.clinics.includes(this.clinicId));
    const vetSelect = h(
      'select',
      { id: 'vet-filter', 'aria-label': 'Vet', disabled: myDay },
      h('option', { value: '' }, 'All vets'),
      clinicVets.map((v) => h('option', { value: v.id, selected: v.id === state.vetId }, v.name)),
    );
    vetSelect.addEventListener('change', () => this.calendar?.show({ vetId: vetSelect.value }));

    const title =
      state.view === 'day'
        ? longDay(state.date, !myDay)
        : state.view === 'week'
          ? `Week of ${shortDay(weekStart(state.date))}`
          : monthTitle(state.date);
    const nav = onCalendar
      ? h(
          'div',
          { class: 'datenav' },
          h('button', { type: 'button', class: 'icon', 'aria-label': 'Previous', onclick: () => this.step(-1) }, '‹'),
          h(
            'button',
            {
              type: 'button',
              onclick: () => this.calendar?.show({ date: todayIn(ctx.clinic().time_zone) }),
            },
            'Today',
          ),
          h('button', { type: 'button', class: 'icon', 'aria-label': 'Next', onclick: () => this.step(1) }, '›'),
          h('h1', { class: 'title', id: 'view-title' }, title),
        )
      : h('div', { class: 'datenav' }, h('h1', { class: 'title' }, 'Manage'));

    replace(this.toolbar, clinicSelect, views);
    replace(
      this.subbar,
      nav,
      onCalendar && !myDay ? vetSelect : null,
      h('span', { class: 'spacer' }),
      onCalendar
        ? h(
            'button',
            { type: 'button', id: 'print-day', title: 'Print the day list', onclick: () => void this.printDay() },
            'Print day',
          )
        : null,
      onCalendar && canBook(who)
        ? h(
            'button',
            { type: 'button', class: 'primary', id: 'new-booking', title: 'New booking (N)', onclick: () => void this.newBooking() },
            '+ New booking',
          )
        : null,
    );
    document.title = `${title} · ${ctx.clinic().name} · vetdesk`;
  }

  // ---------- live ----------

  private startLive(): void {
    const refresh = debounce(() => this.calendar?.refresh(), 80);
    this.stopLive = this.transport.subscribe({
      change: (change: Change) => {
        noticeChange(change);
        const clinic = this.ctx?.clinic().id;
        if (!change.clinic_id || change.clinic_id === clinic) refresh();
        if (change.entity === 'appointment_type' || change.entity === 'vet') void this.reloadRecords();
      },
      reload: () => refresh(),
      state: (s) => {
        this.link = s;
        this.renderLink();
      },
    });
    const poll = async () => {
      try {
        const health = await this.transport.invoke('health', {});
        this.notifyEl.hidden = ownersReached(health) !== false;
        if (!this.serverUp) {
          this.serverUp = true;
          this.calendar?.refresh();
        }
      } catch {
        this.serverUp = false;
      }
      this.renderLink();
    };
    this.healthTimer = setInterval(() => void poll(), 5_000);
    void poll();
  }

  private async reloadRecords(): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) return;
    try {
      const [vets, types] = await Promise.all([
        this.transport.invoke('list_vets', {}),
        this.transport.invoke('list_types', {}),
      ]);
      ctx.vets = vets;
      ctx.types = types;
    } catch {
      // The next change or the next sign-in tries again.
    }
  }

  private renderLink(): void {
    let text = 'Live';
    let cls = 'online';
    let title = 'Connected: changes made elsewhere appear at once.';
    if (!this.serverUp) {
      text = 'Offline';
      cls = 'offline';
      title = 'The vetdesk server cannot be reached. What you see may be out of date; changes cannot be saved.';
    } else if (this.link !== 'open') {
      text = 'Reconnecting…';
      cls = 'connecting';
      title = 'The server answers, but live updates are reconnecting.';
    }
    this.linkEl.className = `link ${cls}`;
    this.linkEl.dataset.state = cls;
    this.linkEl.title = title;
    replace(this.linkEl, h('span', { class: 'link-dot' }), text);
  }
}

function weekStart(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  const back = (d.getUTCDay() + 6) % 7;
  return addDays(date, -back);
}
