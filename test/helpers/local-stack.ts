/** Starting and talking to the embedded local stack from integration tests. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStack, type LocalStackOptions, ROOT, startLocalStack } from '#local/stack.ts';

export async function startTestStack(
  opts: LocalStackOptions = {},
): Promise<{ stack: LocalStack; dataDir: string; cleanup: () => Promise<void> }> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'cityloop-test-'));
  const stack = await startLocalStack({ port: 0, smtpPort: 0, scheduleMs: 0, quiet: true, ...opts, dataDir });
  return {
    stack,
    dataDir,
    cleanup: async () => {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function http(
  stack: LocalStack,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers as loose JSON and assert on their shape
): Promise<{ status: number; json: any; text: string }> {
  const isString = typeof body === 'string';
  const res = await fetch(`${stack.info.url}${path}`, {
    method,
    headers: { ...(body !== undefined && !isString ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: isString ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Polls `fn` until it returns a truthy value (bounded). */
export async function eventually<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  stepMs = 100,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Runs the real `cityloop` command in a child process against the stack's data folder. */
export function cityloop(
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'cli/run.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}
