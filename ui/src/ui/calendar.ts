// The calendar: @event-calendar/core draws the grid; this module feeds it the
// clinic's appointments and free time, and turns clicks and drags into
// bookings and checked reschedules.

import {
  createCalendar,
  DayGrid,
  destroyCalendar,
  Interaction,
  ResourceTimeGrid,
  TimeGrid,
  type Calendar as EC,
} from '@event-calendar/core';
import { sentence, TransportError } from '../transport';
import type {
  Calendar,
  CalendarAppointment,
  CalendarDay,
  CalendarView,
  FreeBlock,
} from '../transport/types';
import { openBooking, type Proposal } from './booking';
import { withoutTableRoles } from './calendar-roles';
import { reasons } from './conflicts';
import type { Ctx } from './context';
import { tint } from './context';
import { openDetails } from './details';
import { NowLine } from './now-line';
import { legend, statusMark } from './legend';
import { h } from './dom';
import { canBook, canReschedule, STATUS_LABEL } from './roles';
import { firstStartAfter } from './slots';
import {
  addMinutes,
  asUtc,
  hhmm,
  minutesBetween,
  offsetMinutes,
  offsetString,
  wallAt,
} from './time';

export interface CalendarState {
  view: CalendarView;
  date: string;
  /** One vet, or '' for every vet of the clinic. */
  vetId: string;
}

const EC_VIEW: Record<CalendarView, string> = {
  day: 'resourceTimeGridDay',
  week: 'timeGridWeek',
  month: 'dayGridMonth',
};

/** Seconds of a Duration (the library's drag deltas). */
function deltaMinutes(d: EC.Duration): number {
  return d.days * 1440 + Math.round(d.seconds / 60);
}

function initials(name: string): string {
  return name
    .replace(/^Dr\.?\s+/i, '')
    .split(/\s+/)
    .map((p) => p.charAt(0))
    .join('')
    .slice(0, 3)
    .toUpperCase();
}

/**
 * The clinic wall time of a click. The library hands back `dateStr` in the
 * calendar's zone (and a Date whose *browser-local* fields show that wall
 * time), so read the string, never the Date's instant.
 */
function clickedWall(info: EC.DateClickInfo): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}))?/.exec(info.dateStr);
  if (m?.[1]) return `${m[1]}T${m[2] ?? '00:00'}`;
  const d = info.date;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Merge touching or overlapping [start, end) wall-time ranges. */
function union(blocks: { local_start: string; local_end: string }[]): [string, string][] {
  const sorted = [...blocks].sort((a, b) => a.local_start.localeCompare(b.local_start));
  const out: [string, string][] = [];
  for (const b of sorted) {
    const last = out[out.length - 1];
    if (last && b.local_start <= last[1]) {
      if (b.local_end > last[1]) last[1] = b.local_end;
    } else {
      out.push([b.local_start, b.local_end]);
    }
  }
  return out;
}

/**
 * Past this many vets (side by side in a day's column, each gets a sliver) or
 * this many appointments (seconds to draw), an all-vets week shows hourly summaries.
 */
const WEEK_DETAIL_VETS = 6;
const WEEK_DETAIL_LIMIT = 400;
/** The slice of a summarised week: an hour reads at a glance, and merges more. */
const BUCKET_MS = 3_600_000;
/** Appointments listed in a month cell before "+N more", when the cell cannot be measured. */
const MONTH_PER_DAY = 4;
/** One line of a month cell's list (styles.css: 12 px text, 1.4 line height, padding and gap). */
const MONTH_LINE_PX = 21;

/** What a dragged appointment needs of free time: its length and its type's buffers, in minutes. */
interface Fitting {
  before: number;
  after: number;
  length: number;
}

/**
 * Draw a free block as the part where a dragged appointment may lie: it starts
 * `before` minutes in and ends `after` minutes early (the buffers must be free
 * too); a block too short for all three is not free for it at all.
 * `data-fits` says which, for the person's screen reader and the tests.
 */
function fitInto(el: HTMLElement, f: Fitting): void {
  const start = el.dataset.freeStart;
  const end = el.dataset.freeEnd;
  if (!start || !end) return;
  const room = minutesBetween(start, end);
  if (room < f.before + f.length + f.after) {
    el.dataset.fits = 'none';
    return;
  }
  const px = el.getBoundingClientRect().height / room;
  el.dataset.fits = `${addMinutes(start, f.before)}/${addMinutes(end, -f.after)}`;
  el.style.clipPath = `inset(${f.before * px}px 0 ${f.after * px}px 0)`;
}

export interface HourSummary {
  date: string;
  start: string;
  booked: number;
  free: number;
  vets: number;
}

/**
 * Per hour of a day: how many vets have an appointment in it, and how many
 * have free time (runs of identical hours merged into one block).
 */
function hourSummaries(day: CalendarDay, vets: number): EC.EventInput[] {
  const booked = new Map<number, Set<string>>();
  const free = new Map<number, Set<string>>();
  const mark = (into: Map<number, Set<string>>, vet: string, start: string, end: string) => {
    const from = asUtc(start);
    const to = asUtc(end);
    for (let t = Math.floor(from / BUCKET_MS) * BUCKET_MS; t < to; t += BUCKET_MS) {
      let set = into.get(t);
      if (!set) into.set(t, (set = new Set()));
      set.add(vet);
    }
  };
  for (const a of day.appointments) mark(booked, a.vet_id, a.local_start, a.local_end);
  for (const f of day.free) mark(free, f.vet_id, f.local_start, f.local_end);
  // Neighbouring hours that read the same become one block (fewer events to draw).
  const runs: { t: number; end: number; booked: number; free: number }[] = [];
  for (const t of [...new Set([...booked.keys(), ...free.keys()])].sort((a, b) => a - b)) {
    const b = booked.get(t)?.size ?? 0;
    const f = free.get(t)?.size ?? 0;
    const last = runs[runs.length - 1];
    if (last && last.end === t && last.booked === b && last.free === f) last.end = t + BUCKET_MS;
    else runs.push({ t, end: t + BUCKET_MS, booked: b, free: f });
  }
  return runs.map((r) => {
    const start = wallAt(new Date(r.t), 0);
    const summary: HourSummary = { date: day.date, start, booked: r.booked, free: r.free, vets };
    // 0: nobody booked (free time only), up to 4: (nearly) every vet booked.
    const level = Math.min(4, Math.ceil((r.booked / Math.max(vets, 1)) * 4));
    return {
      id: `hour-${start}`,
      start,
      end: wallAt(new Date(r.end), 0),
      title: `${r.booked} booked`,
      classNames: ['hour-summary', `busy-${level}`],
      editable: false,
      extendedProps: { summary },
    };
  });
}

export class CalendarScreen {
  readonly el: HTMLElement;
  private readonly host: HTMLElement;
  private ec: EC;
  private data: Calendar | null = null;
  private loading = 0;
  /** A drag being checked or saved: live refreshes wait for it. */
  private moving = false;
  private refreshWanted = false;
  private offset = 0;
  private scrolledFor = '';
  /** Settles once a view switch has reached the library. */
  private viewReady: Promise<void> = Promise.resolve();
  /** Where the next load scrolls to (an hour clicked in the week). */
  private scrollTo: string | null = null;
  private destroyed = false;
  /** The hours and columns the grid was last laid out with. */
  private grid = '';
  /** Called after each load (the "my day" panel listens). */
  onLoaded: (cal: Calendar) => void = () => {};
  /** The appointment being dragged: free time shows only where it fits. */
  private fitting: Fitting | null = null;
  /** Appointments a month cell lists at the current size, "+N more" included. */
  private perDay = MONTH_PER_DAY;
  /** The events last handed to the library, to redraw month cells after a resize. */
  private events: EC.EventInput[] = [];
  private readonly resize = new ResizeObserver(() => this.fitMonth());
  private roles: MutationObserver | null = null;
  private nowLine: NowLine | null = null;
  /** The first and last time the grid shows (the now line's scale). */
  private hours: { min: string; max: string } | null = null;

  constructor(
    private readonly ctx: Ctx,
    private state: CalendarState,
    private readonly onNavigate: (state: CalendarState) => void,
  ) {
    this.host = h('div', { class: 'calendar-host' });
    this.el = h('section', { class: 'calendar', 'aria-label': 'Calendar' }, this.host, legend(ctx.types));
    this.offset = offsetMinutes(ctx.clinic().time_zone);
    this.ec = createCalendar(this.host, [ResourceTimeGrid, TimeGrid, DayGrid, Interaction], {
      view: EC_VIEW[state.view],
      date: state.date,
      timeZone: offsetString(this.offset),
      headerToolbar: { start: '', center: '', end: '' },
      firstDay: 1,
      height: '100%',
      allDaySlot: false,
      // The library places "now" by the browser's clock face; only right when the
      // browser keeps the clinic's time (as at the clinic's own desk).
      // The library's "now" reads the computer's clock face; now-line.ts draws the clinic's.
      nowIndicator: false,
      slotDuration: '00:15',
      slotLabelInterval: '01:00',
      snapDuration: '00:05',
      slotHeight: 22,
      slotMinTime: '07:00',
      slotMaxTime: '20:00',
      scrollTime: '08:00',
      dayMaxEvents: true,
      eventDragMinDistance: 4,
      editable: false,
      selectable: false,
      eventStartEditable: true,
      eventDurationEditable: true,
      flexibleSlotTimeLimits: false,
      // Our own event content shows the times; the library's formatted range
      // (Intl.formatRange per event: 190 ms for 2,000) would go unused.
      eventTimeFormat: () => '',
      slotLabelFormat: { hour: '2-digit', minute: '2-digit', hour12: false },
      dayHeaderFormat: { weekday: 'short', day: 'numeric', month: 'short' },
      views: {
        // A month cell holds one event, our own list with its own "+N more", sized to
        // the cell (monthLines): the library's limit would hide the whole list
        // behind "+1 more" whenever it is a pixel too tall (a laptop screen).
        dayGridMonth: { dayHeaderFormat: { weekday: 'long' }, dayMaxEvents: false },
      },
      resources: [],
      events: [],
      eventContent: (info) => this.content(info),
      eventDidMount: (info) => {
        const free = info.event.extendedProps.free as FreeBlock | undefined;
        if (free) {
          info.el.dataset.vet = free.vet_id;
          info.el.dataset.freeStart = free.local_start.slice(0, 16);
          info.el.dataset.freeEnd = free.local_end.slice(0, 16);
          info.el.title = `Free ${hhmm(free.local_start)}–${hhmm(free.local_end)}: click to book`;
          if (this.fitting) fitInto(info.el, this.fitting);
        }
      },
      eventClick: (info) => {
        const props = info.event.extendedProps;
        const appt = props.appt as CalendarAppointment | undefined;
        if (appt) return void openDetails(this.ctx, appt.id);
        const summary = props.summary as HourSummary | undefined;
        if (summary) return this.show({ view: 'day', date: summary.date }, hhmm(summary.start));
        const monthDay = props.monthDay as CalendarDay | undefined;
        if (monthDay) {
          const target = info.jsEvent.target as HTMLElement | null;
          const line = target?.closest<HTMLElement>('[data-appt-id]');
          if (line?.dataset.apptId) return void openDetails(this.ctx, line.dataset.apptId);
          this.show({ view: 'day', date: monthDay.date });
        }
      },
      dateClick: (info) => this.dateClick(info),
      eventDrop: (info) => void this.moved(info.event, info.revert, info.delta, info.newResource),
      eventResize: (info) => void this.moved(info.event, info.revert, null, undefined, info.endDelta),
      eventDragStart: (info) => {
        this.moving = true;
        this.showFits(info.event);
      },
      eventResizeStart: () => (this.moving = true),
      eventDragStop: () => {
        this.clearFits();
        this.settleSoon();
      },
      eventResizeStop: () => this.settleSoon(),
    });
    this.resize.observe(this.host);
    this.roles = withoutTableRoles(this.host);
    this.nowLine = new NowLine(
      this.host,
      () => offsetMinutes(this.ctx.clinic().time_zone),
      () => (this.state.view === 'month' ? null : this.hours),
      (n) => (this.state.view === 'day' ? Array<string>(n).fill(this.state.date) : (this.data?.days.map((d) => d.date) ?? [])),
    );
    void this.load();
  }

  get current(): CalendarState {
    return { ...this.state };
  }

  get loaded(): Calendar | null {
    return this.data;
  }

  /** Show another view, date or vet. */
  show(next: Partial<CalendarState>, scrollTo?: string): void {
    const viewChanges = next.view !== undefined && next.view !== this.state.view;
    this.state = { ...this.state, ...next };
    this.scrollTo = scrollTo ?? null;
    // A new view starts from an empty calendar: a month grid laid out around a
    // week's timed events keeps their stale positions, and measures each of them
    // (200 ms for a busy week). The events go first; the view follows a frame later.
    if (viewChanges) {
      this.ec.setOption('events', []);
      const { view, date } = this.state;
      this.viewReady = new Promise<void>((ready) =>
        requestAnimationFrame(() => {
          if (!this.destroyed) {
            this.ec.setOption('view', EC_VIEW[view]);
            this.ec.setOption('date', date);
          }
          ready();
        }),
      );
    } else {
      this.ec.setOption('date', this.state.date);
    }
    this.onNavigate(this.current);
    void this.load();
  }

  /** Reload from the server; a drag in progress is never interrupted. */
  refresh(): void {
    if (this.moving) {
      this.refreshWanted = true;
      return;
    }
    void this.load();
  }

  destroy(): void {
    // A load still on its way finds `loading` moved on and draws nothing.
    this.loading++;
    this.destroyed = true;
    this.resize.disconnect();
    this.roles?.disconnect();
    this.nowLine?.destroy();
    void destroyCalendar(this.ec);
    this.host.remove();
  }

  private settleSoon(): void {
    // eventDrop/eventResize follow the stop callbacks; if neither comes (dropped
    // where it started), release the hold shortly after.
    setTimeout(() => {
      if (this.pending === 0) this.release();
    }, 50);
  }

  private pending = 0;

  private release(): void {
    this.moving = false;
    if (this.refreshWanted) {
      this.refreshWanted = false;
      void this.load();
    }
  }

  async load(): Promise<void> {
    const ticket = ++this.loading;
    const { view, date, vetId } = this.state;
    const clinic = this.ctx.clinic();
    this.el.setAttribute('aria-busy', 'true');
    const t0 = performance.now();
    try {
      const cal = await this.ctx.transport.invoke('calendar', {
        view,
        date,
        clinic_id: clinic.id,
        vet_id: vetId || undefined,
      });
      if (ticket !== this.loading) return; // a newer load is on its way
      const t1 = performance.now();
      this.data = cal;
      await this.render(cal);
      if (ticket !== this.loading) return;
      this.onLoaded(cal);
      // How long the view took to show, for ui/bench/ (two frames: the next one is painted).
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          const t2 = performance.now();
          performance.measure('vetdesk:calendar', {
            start: t0,
            end: t2,
            detail: { view, fetch: t1 - t0, render: t2 - t1, appointments: this.el.dataset.appointments },
          });
        }),
      );
    } catch (e) {
      if (ticket === this.loading) this.ctx.toasts.show(sentence(e), 'error', 'Could not load the calendar');
    } finally {
      if (ticket === this.loading) this.el.removeAttribute('aria-busy');
    }
  }

  private async render(cal: Calendar): Promise<void> {
    const ticket = this.loading;
    await this.viewReady;
    if (ticket !== this.loading) return;
    const offset = offsetMinutes(cal.clinic.time_zone);
    if (offset !== this.offset) {
      this.offset = offset;
      this.ec.setOption('timeZone', offsetString(offset));
    }
    const vets = this.state.vetId ? cal.vets.filter((v) => v.id === this.state.vetId) : cal.vets;
    const mayMove = (a: CalendarAppointment) => canReschedule(this.ctx.who, a.status);
    const events: EC.EventInput[] = [];
    let earliest = '08:00';
    let latest = '18:00';
    const widen = (start: string, end: string) => {
      if (hhmm(start) < earliest) earliest = hhmm(start).slice(0, 2) + ':00';
      const endHH = end.slice(0, 10) > start.slice(0, 10) ? '24:00' : hhmm(end);
      if (endHH > latest) latest = endHH;
    };
    const total = cal.days.reduce((n, d) => n + d.appointments.length, 0);
    // Many vets in one week column overlap into slivers nobody can read (and
    // thousands of events take seconds to draw): past a point the week shows,
    // per hour, how many vets are booked and free; the day view has the detail.
    const summarise =
      this.state.view === 'week' &&
      !this.state.vetId &&
      (cal.vets.length > WEEK_DETAIL_VETS || total > WEEK_DETAIL_LIMIT);
    const appointment = (a: CalendarAppointment): EC.EventInput => ({
      id: a.id,
      resourceIds: [a.vet_id],
      start: a.local_start,
      end: a.local_end,
      title: `${a.pet_name} (${a.client_name})`,
      backgroundColor: tint(a.colour),
      textColor: '#1f2937',
      classNames: ['appt', `st-${a.status}`],
      styles: [`--type-colour: ${a.colour}`],
      editable: mayMove(a),
      startEditable: mayMove(a),
      durationEditable: mayMove(a),
      extendedProps: { appt: a },
    });
    for (const day of cal.days) {
      for (const a of day.appointments) widen(a.local_start, a.local_end);
      if (this.state.view === 'month') {
        // A month cell is one event listing the first few appointments and
        // "+N more": the library measures every event it places in a cell, and
        // hundreds of those measurements took a third of a second.
        if (day.appointments.length) {
          events.push({
            id: `day-${day.date}`,
            start: day.date,
            end: day.date,
            allDay: true,
            classNames: ['month-day'],
            editable: false,
            extendedProps: { monthDay: day },
          });
        }
      } else if (summarise) {
        events.push(...hourSummaries(day, cal.vets.length));
      } else {
        for (const a of day.appointments) events.push(appointment(a));
      }
      if (this.state.view === 'month') continue;
      const free: FreeBlock[] = day.free.filter((f) => !this.state.vetId || f.vet_id === this.state.vetId);
      if (this.state.view === 'day') {
        for (const f of free) {
          widen(f.local_start, f.local_end);
          events.push({
            id: `free-${f.vet_id}-${f.local_start}`,
            resourceIds: [f.vet_id],
            start: f.local_start,
            end: f.local_end,
            display: 'background',
            classNames: ['free'],
            extendedProps: { free: f },
          });
        }
      } else if (summarise) {
        // The hourly summaries say how many vets are free; a background
        // under them would only double the events to draw.
        for (const f of free) widen(f.local_start, f.local_end);
      } else {
        // A week shows every vet in one column per day: its background is the
        // time when at least one of them is free.
        for (const [start, end] of union(free)) {
          widen(start, end);
          events.push({
            id: `free-${start}`,
            start,
            end,
            display: 'background',
            classNames: ['free'],
          });
        }
      }
    }
    // Grid changes (hours shown, scroll position, columns) are applied to an empty
    // grid first: scrolling a grid full of events forces the browser to lay them
    // all out at once (400 ms for 2,000), then again when they are drawn.
    let scrollTime: string | null = null;
    const key = `${this.state.view}|${this.state.date}|${this.state.vetId}`;
    if (key !== this.scrolledFor && this.state.view !== 'month') {
      // Scroll once per day shown (a live refresh must not move what someone is
      // reading): to an hour before now on today, else to the start of the day.
      this.scrolledFor = key;
      const now = wallAt(new Date(), offset);
      const today = cal.days.some((d) => d.date === now.slice(0, 10));
      const first = Number(earliest.slice(0, 2));
      const hour = today ? Math.max(Number(now.slice(11, 13)) - 1, first) : first;
      scrollTime = this.scrollTo ?? `${String(hour).padStart(2, '0')}:00`;
      this.scrollTo = null;
    }
    const grid = `${earliest}|${latest}|${vets.map((v) => v.id).join()}`;
    if (grid !== this.grid || scrollTime) {
      this.grid = grid;
      this.ec.setOption('events', []);
      this.ec.setOption('slotMinTime', earliest);
      this.ec.setOption('slotMaxTime', latest);
      this.hours = { min: earliest, max: latest };
      if (scrollTime) this.ec.setOption('scrollTime', scrollTime);
      this.ec.setOption(
        'resources',
        vets.map((v) => ({ id: v.id, title: v.name })),
      );
      await new Promise((done) => requestAnimationFrame(done));
      if (ticket !== this.loading) return;
    }
    if (this.state.view === 'month') this.perDay = this.monthLines();
    this.events = events;
    this.ec.setOption('events', events);
    this.el.dataset.loadedDate = this.state.date;
    this.el.dataset.loadedView = this.state.view;
    requestAnimationFrame(() => this.nowLine?.draw());
    this.el.dataset.appointments = String(
      cal.days.reduce((n, d) => n + d.appointments.length, 0),
    );
  }

  /**
   * How many lines a month cell has room for below its day number (the rows
   * share the calendar's height evenly), and that room as `--month-room`, which
   * caps the list so it never spills into the next week.
   */
  private monthLines(): number {
    const cell = this.host.querySelector<HTMLElement>('.ec-month-view .ec-day');
    const head = cell?.querySelector<HTMLElement>('.ec-day-head');
    if (!cell || !head) return MONTH_PER_DAY;
    const room = cell.clientHeight - head.offsetHeight - 4;
    this.host.style.setProperty('--month-room', `${Math.max(room, MONTH_LINE_PX)}px`);
    return Math.max(1, Math.floor(room / MONTH_LINE_PX));
  }

  /**
   * While an appointment is dragged in a day, each free block is drawn only
   * where that appointment fits: its own length and its type's buffers, as the
   * server's check counts them (green time it would be refused on is not green).
   */
  private showFits(event: EC.Event): void {
    const appt = event.extendedProps.appt as CalendarAppointment | undefined;
    if (!appt || this.state.view !== 'day') return;
    const type = this.ctx.types.find((t) => t.name === appt.type_name);
    this.fitting = {
      before: type?.buffer_before_min ?? 0,
      after: type?.buffer_after_min ?? 0,
      length: minutesBetween(appt.local_start, appt.local_end),
    };
    for (const el of this.host.querySelectorAll<HTMLElement>('.ec-bg-event.free')) fitInto(el, this.fitting);
  }

  private clearFits(): void {
    this.fitting = null;
    for (const el of this.host.querySelectorAll<HTMLElement>('.ec-bg-event.free')) {
      delete el.dataset.fits;
      el.style.clipPath = '';
    }
  }

  /** The window changed size: a month redraws its cells when more or fewer lines fit. */
  private fitMonth(): void {
    if (this.state.view !== 'month' || this.el.dataset.loadedView !== 'month') return;
    const lines = this.monthLines();
    if (lines === this.perDay) return;
    this.perDay = lines;
    this.ec.setOption('events', [...this.events]);
  }

  private content(info: EC.EventContentInfo): EC.Content | undefined {
    const props = info.event.extendedProps;
    const summary = props.summary as HourSummary | undefined;
    if (summary) {
      return {
        domNodes: [
          h(
            'span',
            { class: 'hour-line', 'data-hour': summary.start },
            h('strong', {}, `${summary.booked}`),
            ` of ${summary.vets} booked`,
            summary.free ? h('span', { class: 'hour-free' }, ` · ${summary.free} free`) : null,
          ),
        ],
      };
    }
    const monthDay = props.monthDay as CalendarDay | undefined;
    if (monthDay) {
      const list = monthDay.appointments;
      // All of them when they fit; otherwise one line fewer, for "+N more".
      const shown = list.length <= this.perDay ? list.length : Math.max(this.perDay - 1, 1);
      const multiVet = !this.state.vetId;
      return {
        domNodes: [
          h(
            'div',
            { class: 'month-list' },
            list.slice(0, shown).map((a) => {
              const line = h(
                'div',
                { class: `ev-line st-${a.status}`, 'data-appt-id': a.id, 'data-status': a.status },
                statusMark(a.status),
                h('span', { class: 'ev-time' }, hhmm(a.local_start)),
                h('strong', { class: 'ev-pet' }, a.pet_name),
                multiVet ? h('span', { class: 'ev-vet' }, initials(this.ctx.vetName(a.vet_id))) : null,
              );
              line.style.borderLeftColor = a.colour;
              line.style.background = tint(a.colour, 0.82);
              return line;
            }),
            list.length > shown
              ? h('div', { class: 'more-line', 'data-more': monthDay.date }, `+${list.length - shown} more`)
              : null,
          ),
        ],
      };
    }
    const appt = props.appt as CalendarAppointment | undefined;
    if (!appt) return undefined;
    const multiVet = this.state.view !== 'day' && !this.state.vetId;
    const time = `${hhmm(appt.local_start)}–${hhmm(appt.local_end)}`;
    if (this.state.view === 'month' || multiVet) {
      // Many vets in one column (or a month cell): one line each, the vet by initials.
      return {
        domNodes: [
          h(
            'span',
            { class: 'ev-line', 'data-appt-id': appt.id, 'data-status': appt.status },
            statusMark(appt.status),
            h('span', { class: 'ev-time' }, hhmm(appt.local_start)),
            h('strong', { class: 'ev-pet' }, appt.pet_name),
            multiVet ? h('span', { class: 'ev-vet' }, initials(this.ctx.vetName(appt.vet_id))) : null,
          ),
        ],
      };
    }
    const minutes = minutesBetween(appt.local_start, appt.local_end);
    return {
      domNodes: [
        h(
          'div',
          {
            class: `ev ${minutes <= 20 ? 'ev-short' : ''}`,
            'data-appt-id': appt.id,
            'data-status': appt.status,
          },
          h(
            'div',
            { class: 'ev-head' },
            h('span', { class: 'ev-time' }, time),
            h('span', { class: `pill st-${appt.status}` }, STATUS_LABEL[appt.status]),
            statusMark(appt.status),
          ),
          h(
            'div',
            { class: 'ev-title' },
            h('strong', { class: 'ev-pet' }, appt.pet_name),
            ' ',
            h('span', { class: 'ev-owner' }, appt.client_name),
          ),
          h(
            'div',
            { class: 'ev-type' },
            appt.type_name,
            multiVet ? ` · ${this.ctx.vetName(appt.vet_id)}` : '',
          ),
        ),
      ],
    };
  }

  private dateClick(info: EC.DateClickInfo): void {
    const slot = clickedWall(info);
    if (this.state.view === 'month') {
      this.show({ view: 'day', date: slot.slice(0, 10) });
      return;
    }
    if (!canBook(this.ctx.who)) return;
    const vetId = info.resource?.id ?? (this.state.vetId || this.freeVetAt(slot));
    this.book({ vetId, start: this.freeStartNear(vetId, slot) });
  }

  /**
   * A click lands on a 15-minute row; when free time begins inside that row
   * (free from 09:25), start the booking where it begins rather than where the
   * vet is still busy.
   */
  private freeStartNear(vetId: string, slot: string): string {
    const day = this.data?.days.find((d) => d.date === slot.slice(0, 10));
    const t = asUtc(slot);
    const mine = day?.free.filter((f) => f.vet_id === vetId) ?? [];
    if (mine.some((f) => asUtc(f.local_start) <= t && t < asUtc(f.local_end))) return slot;
    const later = mine.find((f) => t < asUtc(f.local_start) && asUtc(f.local_start) < t + 15 * 60_000);
    return later ? later.local_start.slice(0, 16) : slot;
  }

  /** A vet free at that wall time, for a click in the week view. */
  freeVetAt(start: string): string {
    const day = this.data?.days.find((d) => d.date === start.slice(0, 10));
    const t = asUtc(start);
    const free = day?.free.find((f) => asUtc(f.local_start) <= t && t < asUtc(f.local_end));
    return free?.vet_id ?? this.data?.vets[0]?.id ?? '';
  }

  /**
   * The first slot in view, from now on, where the usual type fits (its length
   * and buffers, as the server's availability counts them): for "New booking".
   * Asks for the compact form (runs of slots) and expands only what it needs.
   */
  async firstFree(typeId: string | undefined): Promise<Proposal | null> {
    const cal = this.data;
    if (!cal) return null;
    const nowMs = Date.now();
    const now = wallAt(new Date(nowMs), this.offset);
    const from = cal.first > now.slice(0, 10) ? cal.first : now.slice(0, 10);
    if (from > cal.last) return null;
    const free = await this.ctx.transport.invoke('availability_runs', {
      clinic_id: cal.clinic.id,
      vet_id: this.state.vetId || undefined,
      start_date: from,
      end_date: cal.last,
      type_id: typeId,
    });
    let best: { vetId: string; t: number } | null = null;
    for (const v of free.vets) {
      const t = firstStartAfter(v.runs, free.grid_min, free.duration_min, nowMs);
      if (t !== null && (!best || t < best.t)) best = { vetId: v.vet.id, t };
    }
    if (!best) return null;
    const at = new Date(best.t);
    return { vetId: best.vetId, start: wallAt(at, offsetMinutes(cal.clinic.time_zone, at)) };
  }

  book(proposal: Proposal): void {
    openBooking(this.ctx, proposal, this.data?.vets ?? []);
  }

  /** A drag or resize ended: check the new time, then save it, or put it back and say why. */
  private async moved(
    event: EC.Event,
    revert: () => void,
    delta: EC.Duration | null,
    newResource?: EC.Resource,
    endDelta?: EC.Duration,
  ): Promise<void> {
    const appt = event.extendedProps.appt as CalendarAppointment | undefined;
    if (!appt) return revert();
    this.pending++;
    this.moving = true;
    const shift = delta ? deltaMinutes(delta) : 0;
    const start = addMinutes(appt.local_start.slice(0, 16), shift);
    const oldLength = minutesBetween(appt.local_start, appt.local_end);
    const length = oldLength + (endDelta ? deltaMinutes(endDelta) : 0);
    const end = addMinutes(start, length);
    const vetId = newResource ? String(newResource.id) : appt.vet_id;
    const type = this.ctx.types.find((t) => t.name === appt.type_name);
    const clinic = this.ctx.clinic();
    const who = `${appt.pet_name} (${appt.client_name})`;
    const el = this.host.querySelector(`[data-appt-id="${appt.id}"]`)?.closest<HTMLElement>('.ec-event');
    el?.classList.add('saving');
    try {
      const report = await this.ctx.transport.invoke('check_conflicts', {
        clinic_id: clinic.id,
        vet_id: vetId,
        start,
        end,
        type_id: type?.id,
        appointment_id: appt.id,
      });
      if (!report.ok) {
        revert();
        this.ctx.toasts.show(
          sentence(
            new TransportError('conflict', '', {
              messages: reasons(report, (id) => this.ctx.appointment(id)),
            }),
          ),
          'error',
          `${who} was not moved`,
        );
        return;
      }
      await this.ctx.transport.invoke('reschedule', {
        id: appt.id,
        version: appt.version,
        start,
        duration_minutes: length !== oldLength ? length : undefined,
        vet_id: vetId !== appt.vet_id ? vetId : undefined,
      });
      const vetPart = vetId !== appt.vet_id ? ` with ${this.ctx.vetName(vetId)}` : '';
      this.ctx.toasts.show(
        `${who} is now ${hhmm(start)}–${hhmm(end)}${vetPart}. The owner will be asked to confirm again.`,
        'ok',
        'Moved',
      );
      this.refreshWanted = true;
    } catch (e) {
      revert();
      if (e instanceof TransportError && e.code === 'conflict') {
        e.details.messages = reasons(e.details, (id) => this.ctx.appointment(id));
      }
      this.ctx.toasts.show(sentence(e), 'error', `${who} was not moved`);
      this.refreshWanted = true;
    } finally {
      el?.classList.remove('saving');
      this.pending--;
      if (this.pending === 0) this.release();
    }
  }
}
