// A fresh demo practice and a `vetdesk serve` on a free port for this run.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INFO_ENV, infoFile, type ServerInfo } from './server';

const here = dirname(fileURLToPath(import.meta.url));
const ui = resolve(here, '..');

function binary(): string {
  const candidates = [
    process.env.VETDESK_BIN,
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'debug', 'vetdesk'),
    resolve(ui, '..', 'target', 'debug', 'vetdesk'),
  ].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`no vetdesk binary (tried ${candidates.join(', ')}): run \`cargo build --bin vetdesk\` or set VETDESK_BIN`);
  }
  return found;
}

export default async function globalSetup(): Promise<void> {
  const bin = binary();
  const dist = join(ui, 'dist');
  if (!existsSync(join(dist, 'index.html'))) throw new Error('ui/dist is not built: run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'vetdesk-ui-'));
  const db = join(dir, 'vetdesk.db');
  execFileSync(bin, ['--db', db, 'init', '--demo'], { stdio: 'pipe' });

  const child = spawn(bin, ['--db', db, 'serve', '--bind', '127.0.0.1:0', '--ui', dist], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  const base = await new Promise<string>((resolveBase, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`vetdesk serve did not start: ${out}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolveBase(m[1]);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`vetdesk serve exited (${code}): ${out}`)));
  });
  child.stdout.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.resume();
  child.unref();
  const info: ServerInfo = { base, pid: child.pid ?? 0, dir, db, bin };
  const file = infoFile();
  writeFileSync(file, JSON.stringify(info));
  process.env[INFO_ENV] = file;
  console.log(`vetdesk serve at ${base} on ${db}`);
}
