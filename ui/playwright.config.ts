import { defineConfig } from '@playwright/test';

// UI tests in Debian's Chromium (never a downloaded browser) against a real
// `vetdesk serve` on a fresh demo database, started by tests/global-setup.ts.
const SIZES: [number, number][] = [
  [1920, 1080],
  [1366, 768],
  [1024, 768],
];

export default defineConfig({
  testDir: 'tests',
  outputDir: 'test-results/artifacts',
  globalSetup: './tests/global-setup.ts',
  globalTeardown: './tests/global-teardown.ts',
  // One server and one database per run; the stories touch different appointments,
  // but run one at a time so a live refresh seen by one is never another's change.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 5_000 },
  reporter: [['list'], ['./tests/summary-reporter.ts']],
  // The stories at one roomy size; the front desk's everyday bugs (desk.spec.ts)
  // at the three screen sizes clinics have: a large monitor, a laptop, an old 4:3.
  projects: [
    { name: 'stories', testIgnore: /(desk|a11y|readable|print|now-line)\.spec\.ts/ },
    ...SIZES.map(([width, height]) => ({
      name: `${width}x${height}`,
      testMatch: /(desk|a11y|readable|print|now-line)\.spec\.ts/,
      use: { viewport: { width, height } },
    })),
  ],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1440, height: 1100 },
    // Deliberately not the clinic's zone: the UI must show clinic time whatever the browser's.
    timezoneId: 'Asia/Tokyo',
    locale: 'en-GB',
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
