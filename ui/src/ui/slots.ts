// Free slots from the compact availability answer (GET
// /api/v1/appointments/availability/runs, the `availability_runs` operation).
// The API's document states the expansion rule, written once in the core
// (`vetdesk_core::SlotRun`): a run [start, end) holds the slots
// [t, t + duration) for t = start, start + grid, start + 2·grid, … while
// t + duration <= end, in exact minutes of UTC time.

import type { SlotRun } from '../transport/types';

/** The start of each slot of a run, in milliseconds since the epoch, in order. */
export function* slotStarts(run: SlotRun, gridMin: number, durationMin: number): Generator<number> {
  const step = Math.max(1, gridMin) * 60_000;
  const length = durationMin * 60_000;
  const end = Date.parse(run.end);
  for (let t = Date.parse(run.start); t + length <= end; t += step) yield t;
}

/** The first slot of a vet's runs that starts after `after` (epoch ms), or null. */
export function firstStartAfter(runs: SlotRun[], gridMin: number, durationMin: number, after: number): number | null {
  for (const run of runs) {
    if (Date.parse(run.end) <= after) continue;
    for (const t of slotStarts(run, gridMin, durationMin)) if (t > after) return t;
  }
  return null;
}
