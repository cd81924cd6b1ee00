/** Small helpers shared by the benchmarks: percentiles, the machine they ran on, number formats. */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

/** The q-quantile (0..1) of `xs` by nearest rank; `xs` need not be sorted. NaN for an empty list. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i]!;
}

export const median = (xs: readonly number[]): number => quantile(xs, 0.5);

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  os: string;
  memoryGb: number;
  /** 1-minute load average when the run started: other work on the machine slows every figure. */
  load: number;
}

/** CPU model from /proc/cpuinfo (`os.cpus()` as a fallback), usable cores, Node version. */
export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpu,
    cores: availableParallelism(),
    node: process.version,
    os: `${process.platform} ${release()}`,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    load: Number(loadavg()[0]?.toFixed(2) ?? 0),
  };
}

export const us = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`;
export const ms1 = (ms: number): string => `${ms.toFixed(1)} ms`;
export const kB = (bytes: number): string => `${(bytes / 1024).toFixed(0)} kB`;
export const int = (n: number): string => Math.round(n).toLocaleString('en');
