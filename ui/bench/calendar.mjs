// Calendar UI in Chromium: how long the week view (20 vets, 2,000 appointments)
// takes to show, and the switch to the month view (5,000 appointments), against
// the same views of an empty month measured in the same run as the baseline.
//
//   cd ui && npm run build && VETDESK_BIN=<release vetdesk> node bench/calendar.mjs [runs]
//
// A fresh demo database in a temporary folder gets a "Bench Clinic" with 20 vets
// working 07:00–21:00 every day, and the appointments through `vetdesk import`;
// `vetdesk serve` serves the built UI; Chromium (Debian's) opens it. Each figure
// is the median of the runs: from the moment the view asks for its data to the
// first frame painted after the events are in place (the app's own
// `vetdesk:calendar` performance measure), split into fetch and render.
//
// For a closer look: BENCH_PROFILE=week|month prints where the first load of that
// view spends its time (CPU profile, by function); BENCH_KEEP=1 leaves the server
// and its data running and prints how to reach them (stop it by the pid printed).

import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ui = resolve(here, '..');
const bin = process.env.VETDESK_BIN ?? resolve(ui, '..', 'target', 'release', 'vetdesk');
const runs = Number(process.argv[2] ?? 7);
const VETS = 20;
const WEEK_APPOINTMENTS = 2000;
const MONTH_APPOINTMENTS = 5000;

const pad = (n) => String(n).padStart(2, '0');
const iso = (d) => d.toISOString().slice(0, 10);
const addDays = (d, n) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + n));
const firstMondayFrom = (d) => addDays(d, (8 - d.getUTCDay()) % 7);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const dir = mkdtempSync(join(tmpdir(), 'vetdesk-bench-'));
const db = join(dir, 'vetdesk.db');
let server;
let browser;
try {
  execFileSync(bin, ['--db', db, 'init', '--demo'], { stdio: 'pipe' });
  server = spawn(bin, ['--db', db, 'serve', '--bind', '127.0.0.1:0', '--ui', join(ui, 'dist')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise((ok, fail) => {
    let out = '';
    server.stdout.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) ok(m[1]);
    });
    server.on('exit', (code) => fail(new Error(`vetdesk serve exited ${code}`)));
  });

  let token = '';
  const api = async (method, path, body) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  token = (await api('POST', '/auth/login', { username: 'admin', password: 'vetdesk-admin' })).token;

  // The bench clinic: 20 vets, 07:00–21:00 every day, a 15-minute type.
  const today = new Date();
  const clinic = await api('POST', '/clinics', { name: 'Bench Clinic', time_zone: 'Europe/London' });
  const vets = [];
  for (let i = 0; i < VETS; i++) {
    const vet = await api('POST', '/vets', { name: `Dr Bench ${pad(i + 1)}`, clinics: [clinic.id] });
    vets.push(vet);
    for (const weekday of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) {
      await api('POST', '/working-hours', {
        vet_id: vet.id,
        clinic_id: clinic.id,
        weekday,
        span: '07:00-21:00',
        valid_from: iso(today),
      });
    }
  }
  const type = await api('POST', '/appointment-types', { name: 'Bench check', duration_minutes: 15, colour: '#4f86f7' });
  const pets = await api('GET', '/pets?limit=500');

  // The loaded month starts at least six weeks ahead (nothing in the past);
  // its second week holds 2,000 appointments, the month 5,000 in all. The month
  // after it stays empty: the baseline.
  const ahead = addDays(today, 42);
  const month = new Date(Date.UTC(ahead.getUTCFullYear(), ahead.getUTCMonth() + 1, 1));
  const monthEnd = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 0));
  const week = firstMondayFrom(addDays(month, 1));
  const emptyMonth = addDays(monthEnd, 1);
  const emptyWeek = firstMondayFrom(addDays(emptyMonth, 1));
  const weekDays = Array.from({ length: 7 }, (_, i) => iso(addDays(week, i)));

  const lines = [];
  let n = 0;
  const book = (date, hour, minute, vet) =>
    lines.push(
      JSON.stringify({
        clinic: clinic.id,
        vet: vet.id,
        pet: pets[n++ % pets.length].id,
        type: type.id,
        start: `${date}T${pad(hour)}:${pad(minute)}`,
      }),
    );
  // The week: every hour on the hour for each vet (14 a day), then half past until 2,000.
  outer: for (const minute of [0, 30]) {
    for (let hour = 7; hour < 21; hour++) {
      for (const date of weekDays) {
        for (const vet of vets) {
          if (lines.length >= WEEK_APPOINTMENTS) break outer;
          book(date, hour, minute, vet);
        }
      }
    }
  }
  // The rest of the month: every two hours, day by day, until 5,000 in all.
  const others = [];
  for (let d = month; d <= monthEnd; d = addDays(d, 1)) if (!weekDays.includes(iso(d))) others.push(iso(d));
  const hours = [7, 9, 11, 13, 15, 17, 19, 8, 10, 12, 14, 16, 18, 20];
  outer2: for (const hour of hours) {
    for (const date of others) {
      for (const vet of vets) {
        if (lines.length >= MONTH_APPOINTMENTS) break outer2;
        book(date, hour, 0, vet);
      }
    }
  }
  const file = join(dir, 'bookings.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  const t = Date.now();
  try {
    execFileSync(bin, ['--db', db, 'import', file], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`import refused lines: ${String(e.stdout).slice(0, 2000)} ${String(e.stderr).slice(0, 2000)}`);
  }
  console.log(`imported ${lines.length} appointments in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(base + '/');
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill('vetdesk-admin');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#workspace').waitFor();

  const lastMeasure = async (count) => {
    await page.waitForFunction((c) => performance.getEntriesByName('vetdesk:calendar').length >= c, count, {
      timeout: 60_000,
    });
    return page.evaluate(() => {
      const all = performance.getEntriesByName('vetdesk:calendar');
      const m = all[all.length - 1];
      return { total: m.duration, ...m.detail, count: all.length };
    });
  };

  const measure = async (label, weekDate, monthSwitch) => {
    const week = [];
    const switches = [];
    const loads = [];
    for (let i = 0; i < runs; i++) {
      // A fresh page load: from navigation to the painted week.
      await page.goto(`${base}/calendar?clinic=${clinic.id}&view=week&date=${weekDate}`);
      const first = await lastMeasure(1);
      const sinceNavigation = await page.evaluate(() => {
        const m = performance.getEntriesByName('vetdesk:calendar')[0];
        return m.startTime + m.duration;
      });
      loads.push(sinceNavigation);
      week.push(first);
      if (process.env.BENCH_VERBOSE) console.log(label, 'week', first);
      // The switch to the month, as a click.
      await page.locator('[data-view="month"]').click();
      switches.push(await lastMeasure(2));
    }
    const summary = (xs) => ({
      median_ms: +median(xs.map((x) => x.total)).toFixed(1),
      fetch_ms: +median(xs.map((x) => x.fetch)).toFixed(1),
      render_ms: +median(xs.map((x) => x.render)).toFixed(1),
      min_ms: +Math.min(...xs.map((x) => x.total)).toFixed(1),
      max_ms: +Math.max(...xs.map((x) => x.total)).toFixed(1),
      appointments: Number(xs[0].appointments),
    });
    return {
      label,
      week: summary(week),
      month_switch: summary(switches),
      page_load_to_week_painted_ms: +median(loads).toFixed(1),
    };
  };

  if (process.env.BENCH_PROFILE) {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
    await page.goto(`${base}/calendar?clinic=${clinic.id}&view=${process.env.BENCH_PROFILE}&date=${iso(week)}`);
    await lastMeasure(1);
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const dt = profile.timeDeltas;
    profile.samples.forEach((id, i) => {
      const n = byId.get(id);
      const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`;
      self.set(key, (self.get(key) ?? 0) + (dt[i] ?? 0) / 1000);
    });
    console.log([...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${v.toFixed(1)} ms  ${k}`).join('\n'));
    console.log(await lastMeasure(1));
  }
  if (process.env.BENCH_KEEP) {
    // Leave the server and its data for a closer look; say how to reach and stop them.
    console.log(JSON.stringify({ base, clinic: clinic.id, week: iso(week), emptyWeek: iso(emptyWeek), pid: server.pid, dir }));
    server.unref();
    server = null;
    await browser.close();
    browser = null;
    process.exit(0);
  }
  const empty = await measure('empty (baseline)', iso(emptyWeek));
  const loaded = await measure('loaded', iso(week));
  const result = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: +(totalmem() / 2 ** 30).toFixed(1) },
    chromium: browser.version(),
    runs,
    vets: VETS,
    baseline: empty,
    loaded,
    ratios: {
      week: +(loaded.week.median_ms / empty.week.median_ms).toFixed(2),
      month_switch: +(loaded.month_switch.median_ms / empty.month_switch.median_ms).toFixed(2),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', `calendar-${Date.now()}.json`), JSON.stringify(result, null, 2));
} finally {
  await browser?.close();
  if (server) {
    server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
