/**
 * `npm run bench [-- --json] [-- --quick] [-- <filter>]`: runs every `bench/*.bench.ts` in turn and prints its tables.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSuite, BenchTable } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const filters = args.filter((a) => !a.startsWith('--'));

function pad(s: string, n: number): string {
  // CJK characters take two columns in a terminal.
  const width = [...s].reduce((w, ch) => w + (/[\u1100-\uFFFF]/.test(ch) ? 2 : 1), 0);
  return s + ' '.repeat(Math.max(0, n - width));
}

function widthOf(s: string): number {
  return [...s].reduce((w, ch) => w + (/[\u1100-\uFFFF]/.test(ch) ? 2 : 1), 0);
}

export function formatTable(t: BenchTable): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(String))];
  const widths = t.columns.map((_, i) => Math.max(...cells.map((r) => widthOf(r[i] ?? ''))));
  const line = (r: string[]) => `| ${r.map((c, i) => pad(c, widths[i] ?? 0)).join(' | ')} |`;
  const sep = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const out = [`### ${t.title}`, '', line(cells[0] ?? []), sep, ...cells.slice(1).map(line)];
  for (const n of t.notes ?? []) out.push('', n);
  return out.join('\n');
}

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
const all: BenchTable[] = [];
const started = Date.now();
for (const f of files) {
  const suite = (await import(join(here, f))).default as BenchSuite;
  const tables = await suite({ quick });
  all.push(...tables);
  if (!json) for (const t of tables) process.stdout.write(`${formatTable(t)}\n\n`);
}
if (json) process.stdout.write(`${JSON.stringify({ tables: all, seconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
else process.stdout.write(`bench finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
