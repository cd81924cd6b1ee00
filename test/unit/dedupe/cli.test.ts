import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runDedupe } from '../../../cli/commands/dedupe.ts';

async function runWith(
  lines: string[],
  args: string[] = [],
  classify: ((i: { text: string }) => Promise<string | undefined>) | null = null,
) {
  const output = new PassThrough();
  const errput = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  output.on('data', (c) => out.push(String(c)));
  errput.on('data', (c) => err.push(String(c)));
  const code = await runDedupe(
    args,
    { input: Readable.from(lines.map((l) => `${l}\n`)), output, errput },
    { classify },
  );
  return {
    code,
    lines: out
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
    err: err.join(''),
  };
}

const burst = (id: string, min: number, extra: object = {}) =>
  JSON.stringify({
    id,
    receivedAt: new Date(Date.parse('2025-06-01T00:00:00Z') + min * 60_000).toISOString(),
    text: '和平路12号门口自来水管爆裂，水喷得很高',
    location: { lat: 22.69, lon: 114.35 },
    ...extra,
  });

describe('Command: cityloop dedupe', () => {
  it('should write one line per input with id, caseId and relation, in input order', async () => {
    // Act
    const r = await runWith([
      burst('a', 0, { citizen: { phone: '13800000001' } }),
      burst('b', 5, { citizen: { phone: '13800000002' } }),
      burst('c', 6, { citizen: { phone: '13800000002' } }),
      burst('d', 60, { citizen: { phone: '13800000001' }, text: '和平路12号门口水管还在喷水，没人来修' }),
    ]);
    // Assess
    expect(r.code).toBe(0);
    expect(r.lines).toEqual([
      { id: 'a', caseId: 'a', relation: 'new' },
      { id: 'b', caseId: 'a', relation: 'incident' },
      { id: 'c', caseId: 'a', relation: 'resubmission' },
      { id: 'd', caseId: 'a', relation: 'repeat' },
    ]);
    expect(r.err).toMatch(/1 cases/);
  });

  it('should report bad lines as errors with their line number and go on', async () => {
    // Act
    const r = await runWith(['{not json', JSON.stringify({ id: 'x', text: 'no time' }), burst('ok', 0)]);
    // Assess
    expect(r.code).toBe(1);
    expect(r.lines[0]).toMatchObject({ id: null, line: 1, error: { code: 'INVALID_JSON' } });
    expect(r.lines[1]).toMatchObject({ id: 'x', line: 2, error: { code: 'INVALID_INPUT' } });
    expect(r.lines[2]).toEqual({ id: 'ok', caseId: 'ok', relation: 'new' });
  });

  it('should use the classifier for reports without a category', async () => {
    // Prepare: a classifier that files everything under 路灯 (so the two texts fall in one group)
    const calls: string[] = [];
    const classify = async (i: { text: string }) => {
      calls.push(i.text);
      return 'SZ-01';
    };
    // Act
    const r = await runWith([burst('a', 0), burst('b', 1, { category: 'GY-01' })], ['--explain'], classify);
    // Assess
    expect(calls).toHaveLength(1);
    expect(r.lines[0]).toMatchObject({ group: 'streetlight' });
    expect(r.lines[1]).toMatchObject({ relation: 'new', group: 'water' });
  });

  it('should take thresholds from --config', async () => {
    // Prepare: a radius of 10 m everywhere: the two reports 100 m apart no longer merge
    const file = join(tmpdir(), `dedupe-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ defaults: { incident: { radiusMeters: 10 } } }));
    // Act
    const far = { location: { lat: 22.6909, lon: 114.35 }, text: '自来水管爆裂，水喷得很高' };
    const r = await runWith(
      [burst('a', 0, { text: '自来水管爆裂，水喷得很高' }), burst('b', 5, far)],
      ['--config', file],
    );
    const bad = await runWith([], ['--config', join(tmpdir(), 'missing-dedupe.json')]);
    // Assess
    expect(r.lines.map((l) => l.relation)).toEqual(['new', 'new']);
    expect(bad.code).toBe(2);
  });
});
