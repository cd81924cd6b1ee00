import { describe, expect, it } from 'vitest';
import { quantile } from '../../../bench/measure.ts';
import { formatTable, parseRunArgs, scaleFigures, summaryTable } from '../../../bench/run.ts';
import { submissionMix } from '../../../bench/sample-reports.ts';
import type { BenchTable } from '../../../bench/types.ts';

describe('Function: parseRunArgs', () => {
  it('should read flags, the markdown file and suite filters', () => {
    expect(parseRunArgs(['--quick', '--markdown', 'docs/bench-results.md', 'pipeline', '--json'])).toEqual({
      json: true,
      quick: true,
      markdown: 'docs/bench-results.md',
      filters: ['pipeline'],
    });
    expect(parseRunArgs(['--markdown=out.md']).markdown).toBe('out.md');
  });

  it('should refuse --markdown without a file', () => {
    expect(() => parseRunArgs(['--markdown'])).toThrow('--markdown needs a file name');
    expect(() => parseRunArgs(['--markdown', '--quick'])).toThrow();
  });
});

describe('Function: scaleFigures', () => {
  it('should read the flatness of the dedupe and SLA scale tables', () => {
    // Prepare
    const tables: BenchTable[] = [
      {
        title: 'Dedupe time per report vs open cases (in-memory store)',
        columns: ['open cases', 'mean / report', 'p99', 'vs 10k'],
        rows: [
          ['10,000', '50 µs', '90 µs', '1.00×'],
          ['1,000,000', '61 µs', '99 µs', '1.22×'],
        ],
      },
      {
        title: 'SLA sweep cost vs open cases (5,000 due)',
        columns: ['open cases'],
        rows: [['10,000'], ['1,000,000']],
        notes: ['Flatness: slowest / fastest (best of runs) = 1.41× (target ≤ 1.3×): …'],
      },
    ];
    // Act
    const figures = scaleFigures(tables);
    // Assess
    expect(figures).toEqual([
      expect.objectContaining({ value: '1.22×', met: true }),
      expect.objectContaining({ value: '1.41×', met: false }),
    ]);
    expect(figures[0]?.name).toContain('10,000 → 1,000,000');
  });

  it('should give nothing when those suites did not run', () => {
    expect(scaleFigures([])).toEqual([]);
  });
});

describe('Function: summaryTable', () => {
  it('should list every figure with its verdict', () => {
    // Prepare
    const t: BenchTable = {
      title: 'x',
      columns: [],
      rows: [],
      figures: [
        { name: 'a', value: '1', target: '≤ 2', met: true },
        { name: 'b', value: '3', target: '≤ 2', met: false },
        { name: 'c', value: '$1', target: '–' },
      ],
    };
    // Act
    const s = summaryTable([t]);
    // Assess
    expect(s.rows.map((r) => r[3])).toEqual(['met', 'MISSED', '–']);
    expect(s.notes?.[0]).toContain('1 met, 1 missed');
  });
});

describe('Function: formatTable', () => {
  it('should align columns with Chinese text two columns wide and symbols one', () => {
    // Act
    const out = formatTable({
      title: 'T',
      columns: ['名称', 'x'],
      rows: [
        ['路灯', '≤ 1'],
        ['ab', '2'],
      ],
    });
    // Assess
    const lines = out.split('\n').slice(2);
    expect(lines[0]).toBe('| 名称 | x   |');
    expect(lines[2]).toBe('| 路灯 | ≤ 1 |');
    expect(lines[3]).toBe('| ab   | 2   |');
  });
});

describe('Function: quantile', () => {
  it('should pick by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('Function: submissionMix', () => {
  it('should be deterministic and resubmit with the same key, repeat and report incidents with new ones', () => {
    // Act
    const a = submissionMix(200);
    const b = submissionMix(200);
    // Assess
    expect(a).toEqual(b);
    expect(a[0]?.kind).toBe('new');
    const keys = new Map(a.filter((s) => s.kind === 'new').map((s) => [s.idempotencyKey, s]));
    for (const s of a.filter((x) => x.kind === 'resubmission')) expect(keys.has(s.idempotencyKey)).toBe(true);
    for (const s of a.filter((x) => x.kind === 'repeat' || x.kind === 'incident')) {
      expect(keys.has(s.idempotencyKey)).toBe(false);
    }
    const share = a.filter((s) => s.kind === 'new').length / a.length;
    expect(share).toBeGreaterThan(0.45);
    expect(share).toBeLessThan(0.75);
  });
});
