import { rmSync } from 'node:fs';
import { INFO_ENV, server } from './server';

export default async function globalTeardown(): Promise<void> {
  if (!process.env[INFO_ENV]) return; // setup failed before starting a server
  const info = server();
  try {
    process.kill(info.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  // Give it a moment to close the database, then remove the run's folder.
  await new Promise((r) => setTimeout(r, 300));
  try {
    process.kill(info.pid, 'SIGKILL');
  } catch {
    // stopped on SIGTERM
  }
  rmSync(info.dir, { recursive: true, force: true });
  rmSync(process.env[INFO_ENV] ?? '', { force: true });
}
