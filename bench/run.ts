/**
 * `npm run bench [-- --json] [-- --quick] [-- --markdown <file>] [-- <filter>]`: runs every `bench/*.bench.ts` in turn
 * and prints its tables, then a summary of every figure against its target. `--markdown docs/bench-results.md` also
 * writes the machine, the summary and all tables to that file (the README quotes it).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './measure.ts';
import type { BenchFigure, BenchSuite, BenchTable } from './types.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface RunArgs {
  json: boolean;
  quick: boolean;
  markdown?: string;
  filters: string[];
}

export function parseRunArgs(args: readonly string[]): RunArgs {
  const out: RunArgs = { json: false, quick: false, filters: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') out.json = true;
    else if (a === '--quick') out.quick = true;
    else if (a === '--markdown') {
      const file = args[++i];
      if (!file || file.startsWith('--')) throw new Error('--markdown needs a file name');
      out.markdown = file;
    } else if (a.startsWith('--markdown=')) out.markdown = a.slice('--markdown='.length);
    else if (!a.startsWith('--')) out.filters.push(a);
  }
  return out;
}

/** East Asian wide and full-width characters (CJK, kana, hangul, full-width forms) take two columns in a terminal. */
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/;

function widthOf(s: string): number {
  return [...s].reduce((w, ch) => w + (WIDE.test(ch) ? 2 : 1), 0);
}

function pad(s: string, n: number): string {
  return s + ' '.repeat(Math.max(0, n - widthOf(s)));
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

/** A number with a `×` after it in a cell or a note (`1.12×`). */
const ratioIn = (s: string): number | undefined => {
  const m = /([\d.]+)\s*×/.exec(s);
  return m ? Number(m[1]) : undefined;
};

/**
 * The scale figures measured by the dedupe and SLA suites (their tables, read back here rather than measured twice):
 * dedupe time per report and SLA sweep time from 10k to 1M open cases, flat within 1.3×.
 */
export function scaleFigures(tables: readonly BenchTable[]): BenchFigure[] {
  const figures: BenchFigure[] = [];
  const dedupe = tables.find((t) => t.title.startsWith('Dedupe time per report vs open cases'));
  const col = dedupe?.columns.indexOf('vs 10k') ?? -1;
  if (dedupe && col >= 0) {
    const ratios = dedupe.rows.map((r) => ratioIn(String(r[col]))).filter((x): x is number => x !== undefined);
    const sizes = dedupe.rows.map((r) => String(r[0]));
    if (ratios.length > 0) {
      const worst = Math.max(...ratios);
      figures.push({
        name: `scale: dedupe time per report, ${sizes[0]} → ${sizes.at(-1)} open cases`,
        value: `${worst.toFixed(2)}×`,
        target: '≤ 1.3×',
        met: worst <= 1.3,
      });
    }
  }
  const sweep = tables.find((t) => t.title.startsWith('SLA sweep cost vs open cases'));
  const flat = sweep?.notes?.find((n) => n.startsWith('Flatness'));
  const r = flat ? /=\s*([\d.]+)×/.exec(flat) : null;
  if (sweep && r) {
    const worst = Number(r[1]);
    figures.push({
      name: `scale: SLA sweep time, ${sweep.rows[0]?.[0]} → ${sweep.rows.at(-1)?.[0]} open cases`,
      value: `${worst.toFixed(2)}×`,
      target: '≤ 1.3×',
      met: worst <= 1.3,
    });
  }
  return figures;
}

export function summaryTable(tables: readonly BenchTable[]): BenchTable {
  const figures = [...tables.flatMap((t) => t.figures ?? []), ...scaleFigures(tables)];
  const verdict = (f: BenchFigure) => (f.met === undefined ? '–' : f.met ? 'met' : 'MISSED');
  return {
    title: 'Summary: every figure against its target',
    columns: ['figure', 'result', 'target', 'verdict'],
    rows: figures.map((f) => [f.name, f.value, f.target, verdict(f)]),
    notes: [
      `${figures.filter((f) => f.met === true).length} met, ${figures.filter((f) => f.met === false).length} missed. ` +
        'Each figure is explained in its own table below.',
    ],
  };
}

export function machineTable(m = machine()): BenchTable {
  return {
    title: 'Machine',
    columns: ['cpu', 'cores', 'node', 'os', 'memory', 'load at start (1 min)'],
    rows: [[m.cpu, m.cores, m.node, m.os, `${m.memoryGb} GB`, m.load]],
  };
}

async function main(): Promise<void> {
  const opts = parseRunArgs(process.argv.slice(2));
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => opts.filters.length === 0 || opts.filters.some((x) => f.includes(x)))
    .sort();
  const head = machineTable();
  if (!opts.json) process.stdout.write(`${formatTable(head)}\n\n`);
  const all: BenchTable[] = [];
  const timings: (string | number)[][] = [];
  const started = Date.now();
  for (const f of files) {
    const t0 = Date.now();
    let tables: BenchTable[];
    try {
      const suite = (await import(join(here, f))).default as BenchSuite;
      tables = await suite({ quick: opts.quick });
    } catch (e) {
      // One broken suite must not hide the others' figures.
      tables = [{ title: `${f} failed`, columns: ['error'], rows: [[String((e as Error)?.stack ?? e).slice(0, 500)]] }];
    }
    timings.push([f, ((Date.now() - t0) / 1000).toFixed(1)]);
    all.push(...tables);
    if (!opts.json) for (const t of tables) process.stdout.write(`${formatTable(t)}\n\n`);
  }
  const seconds = (Date.now() - started) / 1000;
  const summary = summaryTable(all);
  const suites: BenchTable = {
    title: `Suites (${seconds.toFixed(1)} s in all${opts.quick ? ', --quick' : ''})`,
    columns: ['suite', 'seconds'],
    rows: timings,
  };
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ machine: machine(), summary, tables: all, suites: timings, seconds }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(
      `${formatTable(summary)}\n\n${formatTable(suites)}\n\nbench finished in ${seconds.toFixed(1)} s\n`,
    );
  }
  if (opts.markdown) {
    const doc = [
      '# Benchmark results',
      '',
      `Generated by \`npm run bench -- --markdown ${opts.markdown}\`${opts.quick ? ' (--quick: smaller sizes)' : ''}` +
        ` on ${new Date().toISOString().slice(0, 10)}${opts.filters.length ? ` (suites: ${opts.filters.join(', ')})` : ''}.`,
      'Figures come from one run on the machine below; timings move with the machine and its load.',
      '',
      formatTable(head),
      '',
      formatTable(summary),
      '',
      ...all.flatMap((t) => [formatTable(t), '']),
      formatTable(suites),
      '',
    ].join('\n');
    const file = resolve(process.cwd(), opts.markdown);
    writeFileSync(file, doc);
    // The repository's Markdown style (Biome), so a regenerated file keeps `npm run lint` clean.
    spawnSync('npx', ['biome', 'format', '--write', file], { stdio: 'ignore' });
    if (!opts.json) process.stdout.write(`written to ${opts.markdown}\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
