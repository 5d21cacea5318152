// A "now" line across today's columns at the clinic's time. The library's own
// indicator reads the computer's clock face and is missing or misplaced when the
// computer keeps another zone than the clinic; this one places the clinic's wall
// time (time.ts) on the grid the library drew, and moves every half minute.

import { h } from './dom';
import { wallAt } from './time';

const PX_PER_MINUTE = 22 / 15; // the calendar's 15-minute rows are 22 px high

function minutesOf(hhmm: string): number {
  const [hh, mm] = hhmm.split(':').map(Number);
  return (hh ?? 0) * 60 + (mm ?? 0);
}

export class NowLine {
  private readonly line = h('div', { class: 'now-line', 'aria-hidden': 'true' });
  private readonly timer: ReturnType<typeof setInterval>;

  /**
   * `offset()`: the clinic's offset now, in minutes; `range()`: the grid's first and
   * last time; `dates(n)`: the date of each of the grid's n columns, left to right.
   */
  constructor(
    private readonly host: HTMLElement,
    private readonly offset: () => number,
    private readonly range: () => { min: string; max: string } | null,
    private readonly dates: (columns: number) => string[],
  ) {
    this.timer = setInterval(() => this.draw(), 30_000);
  }

  draw(): void {
    const body = this.host.querySelector<HTMLElement>('.ec-time-grid .ec-body');
    const range = this.range();
    const now = wallAt(new Date(), this.offset());
    const columns = [...(body?.querySelectorAll<HTMLElement>('.ec-day') ?? [])];
    const dates = this.dates(columns.length);
    const today = columns.filter((_, i) => dates[i] === now.slice(0, 10));
    const at = minutesOf(now.slice(11, 16));
    if (!body || !range || today.length === 0 || at < minutesOf(range.min) || at > minutesOf(range.max)) {
      this.line.remove();
      return;
    }
    const bodyBox = body.getBoundingClientRect();
    const first = (today[0] as HTMLElement).getBoundingClientRect();
    const last = (today[today.length - 1] as HTMLElement).getBoundingClientRect();
    this.line.style.top = `${first.top - bodyBox.top + (at - minutesOf(range.min)) * PX_PER_MINUTE}px`;
    this.line.style.left = `${first.left - bodyBox.left}px`;
    this.line.style.width = `${last.right - first.left}px`;
    this.line.dataset.wall = now;
    if (this.line.parentElement !== body) body.append(this.line);
  }

  destroy(): void {
    clearInterval(this.timer);
    this.line.remove();
  }
}
