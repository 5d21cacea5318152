// Where the test server is: global-setup writes it, tests and teardown read it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export interface ServerInfo {
  base: string;
  pid: number;
  dir: string;
  db: string;
  bin: string;
}

/** Written by global setup (in the runner); its name reaches the workers through the environment. */
export const INFO_ENV = 'VETDESK_UI_SERVER_INFO';

export function infoFile(): string {
  return join(tmpdir(), `vetdesk-ui-tests-${process.pid}.json`);
}

export function server(): ServerInfo {
  const file = process.env[INFO_ENV];
  if (!file) throw new Error(`${INFO_ENV} is not set: run these tests through playwright test`);
  return JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
}
