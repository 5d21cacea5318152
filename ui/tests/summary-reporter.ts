import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

/** Ends the output with `N passed, N failed`, as the project's test scripts do. */
export default class Summary implements Reporter {
  private passed = 0;
  private failed = 0;

  onTestEnd(_test: TestCase, result: TestResult): void {
    if (result.status === 'passed') this.passed++;
    else this.failed++;
  }

  onEnd(_result: FullResult): void {
    console.log(`${this.passed} passed, ${this.failed} failed`);
  }
}
