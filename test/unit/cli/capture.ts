/** What a CLI command writes, captured per test: call `captureOutput()` at the top of a test file. */
import { afterEach, beforeEach, vi } from 'vitest';

export interface Captured {
  /** Chunks written to stdout by the current test. */
  readonly stdout: string[];
  /** Chunks written to stderr by the current test. */
  readonly stderr: string[];
}

export function captureOutput(): Captured {
  const captured = { stdout: [] as string[], stderr: [] as string[] };
  beforeEach(() => {
    captured.stdout.length = 0;
    captured.stderr.length = 0;
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      captured.stdout.push(String(s));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      captured.stderr.push(String(s));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return captured;
}
