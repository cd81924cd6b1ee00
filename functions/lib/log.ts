/**
 * Structured JSON logs with citizen data masked: phone numbers and emails inside any string field are masked before
 * they are written (CloudWatch keeps logs longer than anyone should keep a citizen's phone in clear).
 */
import { maskText } from '#core/privacy.ts';
import { readableStack } from './stack-trace.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function threshold(): number {
  return ORDER[(process.env.LOG_LEVEL as Level) ?? 'info'] ?? 20;
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      /^(phone|email|openid|name|mobile|tel|caller)$/i.test(k) && typeof v === 'string' ? '***' : scrub(v, depth + 1);
  }
  return out;
}

export let logSink: (line: string) => void = (line) => process.stdout.write(`${line}\n`);
export function setLogSink(sink: (line: string) => void): void {
  logSink = sink;
}

function write(level: Level, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold()) return;
  logSink(
    JSON.stringify({ level, time: new Date().toISOString(), msg: maskText(msg), ...(scrub(fields ?? {}) as object) }),
  );
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('error', msg, fields),
};

/**
 * The log fields of an unexpected failure: its message and, for an Error, its stack with the bundle's frames mapped to
 * the TypeScript sources (`stack-trace.ts`; the functions run without `--enable-source-maps`). Masked like any field.
 */
export function failureFields(e: unknown): { error: string; stack?: string } {
  const error = e instanceof Error ? e.message : String((e as { message?: unknown } | null)?.message ?? e);
  const stack = readableStack(e);
  return stack ? { error, stack } : { error };
}
