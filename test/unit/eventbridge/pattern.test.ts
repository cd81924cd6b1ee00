import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isCityLoopError } from '#core/errors.ts';
import {
  compilePattern,
  INVALID_EVENT_PATTERN,
  MAX_BRANCHES,
  matchesPattern,
  prepareEvent,
  validatePattern,
} from '#core/eventbridge/pattern.ts';

interface Case {
  name: string;
  pattern: unknown;
  event: unknown;
  match: boolean;
  source?: string;
}
interface InvalidCase {
  name: string;
  pattern: unknown;
  source: string;
}

const load = (url: URL) => JSON.parse(readFileSync(url, 'utf8')) as { cases: Case[]; invalid?: InvalidCase[] };
const shared = load(new URL('../../../../shared/data/eventbridge/pattern-cases.json', import.meta.url));
const extra = load(new URL('./pattern-cases-extra.json', import.meta.url));

describe('Function: matchesPattern (shared conformance suite)', () => {
  it('should hold all 52 shared cases', () => {
    expect(shared.cases).toHaveLength(52);
  });

  it.each(shared.cases.map((c) => [c.name, c] as const))('should decide %s', (_name, c) => {
    // Act
    const result = matchesPattern(c.pattern, c.event);

    // Assess
    expect(result).toBe(c.match);
  });
});

describe('Function: matchesPattern (cases from the user guide)', () => {
  it('should have at least 40 cases, each citing its source', () => {
    expect(extra.cases.length).toBeGreaterThanOrEqual(40);
    for (const c of extra.cases) expect(c.source, c.name).toMatch(/EventBridge User Guide/);
  });

  it.each(extra.cases.map((c) => [c.name, c] as const))('should decide %s', (_name, c) => {
    // Act
    const result = matchesPattern(c.pattern, c.event);

    // Assess
    expect(result).toBe(c.match);
  });
});

describe('Function: validatePattern', () => {
  it('should accept every pattern of both suites', () => {
    for (const c of [...shared.cases, ...extra.cases]) expect(validatePattern(c.pattern), c.name).toEqual({ ok: true });
  });

  it.each((extra.invalid ?? []).map((c) => [c.name, c] as const))('should refuse: %s', (_name, c) => {
    // Act
    const result = validatePattern(c.pattern);

    // Assess
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe(INVALID_EVENT_PATTERN);
      expect(result.message.length).toBeGreaterThan(0);
    }
  });

  it('should accept the pattern as JSON text and refuse text that is not JSON', () => {
    // Act
    const good = validatePattern('{"source":["cityloop.intake"]}');
    const bad = validatePattern('{"source":');

    // Assess
    expect(good).toEqual({ ok: true });
    expect(bad).toMatchObject({ ok: false, code: INVALID_EVENT_PATTERN });
  });

  it('should refuse a pattern that forks into too many $or branches', () => {
    // Prepare: four parallel $or of 6 branches each = 1296 branches
    const or6 = (k: string) => ({ $or: [1, 2, 3, 4, 5, 6].map((i) => ({ [`${k}${i}`]: ['x'] })) });
    const pattern = { a: or6('a'), b: or6('b'), c: or6('c'), d: or6('d') };

    // Act
    const result = validatePattern(pattern);

    // Assess
    expect(MAX_BRANCHES).toBeLessThan(6 ** 4);
    expect(result).toMatchObject({ ok: false, code: INVALID_EVENT_PATTERN });
  });
});

describe('Function: compilePattern', () => {
  it('should throw a CityLoopError with the AWS reason for an invalid pattern', () => {
    // Act
    let caught: unknown;
    try {
      compilePattern({ detail: { n: [{ numeric: ['<', 1, '>', 0] }] } });
    } catch (e) {
      caught = e;
    }

    // Assess
    expect(isCityLoopError(caught)).toBe(true);
    expect(caught).toMatchObject({ code: INVALID_EVENT_PATTERN });
    expect((caught as Error).message).toMatch(/^Event pattern is not valid\. Reason: /);
  });

  it('should match a prepared event against many patterns the same way as a raw one', () => {
    // Prepare
    const event = { source: 'cityloop.intake', 'detail-type': 'Case.Dispatched', detail: { department: 'dept-07' } };
    const prepared = prepareEvent(event);
    const matchers = ['dept-01', 'dept-07', 'dept-09'].map((d) =>
      compilePattern({ 'detail-type': ['Case.Dispatched'], detail: { department: [d] } }),
    );

    // Act
    const onPrepared = matchers.map((m) => m(prepared));
    const onRaw = matchers.map((m) => m(event));

    // Assess
    expect(onPrepared).toEqual([false, true, false]);
    expect(onRaw).toEqual(onPrepared);
  });

  it('should not match anything that is not a JSON object, not even an exists:false pattern', () => {
    // Prepare
    const match = compilePattern({ a: [{ exists: false }] });

    // Act & Assess
    expect(match('text')).toBe(false);
    expect(match([{ b: 1 }])).toBe(false);
    expect(match(null)).toBe(false);
    expect(match({})).toBe(true);
  });

  it('should let a later mention of a path inside $or replace the earlier one, as EventBridge does', () => {
    // Prepare
    const match = compilePattern({ a: ['1'], $or: [{ a: ['2'] }, { b: ['3'] }] });

    // Act & Assess
    expect(match({ a: '2' })).toBe(true);
    expect(match({ a: '1', b: '3' })).toBe(true);
    expect(match({ a: '1' })).toBe(false);
  });

  it('should check exists:false against array elements picked by fields that sort before it', () => {
    // Prepare: "a.x" sorts before "a.y" (picks the element), "a.0" sorts before "a.x" (checked over every element)
    const picked = compilePattern({ a: { x: ['1'], y: [{ exists: false }] } });
    const global = compilePattern({ a: { x: ['1'], '0': [{ exists: false }] } });
    const event = { a: [{ x: '1' }, { x: '2', y: 'here', '0': 'zero' }] };

    // Act & Assess
    expect(picked(event)).toBe(true);
    expect(global(event)).toBe(false);
  });

  it('should stay linear when two large arrays feed one pattern that cannot match', () => {
    // Prepare: 2000 x 2000 combinations if explored naively
    const n = 2000;
    const event = {
      a: Array.from({ length: n }, (_, i) => ({ v: i })),
      b: Array.from({ length: n }, (_, i) => ({ v: i })),
      c: 'no',
    };
    const match = compilePattern({ a: { v: [{ exists: true }] }, b: { v: [{ exists: true }] }, c: ['yes'] });

    // Act
    const result = match(event);

    // Assess
    expect(result).toBe(false);
  });

  it('should not treat numbers with more than six decimals as comparable', () => {
    // Prepare
    const match = compilePattern({ n: [{ numeric: ['>', 0] }] });

    // Act & Assess
    expect(match({ n: 0.000001 })).toBe(true);
    expect(match({ n: 0.0000001 })).toBe(false);
    expect(match({ n: 5e9 })).toBe(true);
    expect(match({ n: 5e9 + 1 })).toBe(false);
  });

  it('should apply anything-but to any present leaf whatever its type', () => {
    // Prepare
    const strings = compilePattern({ v: [{ 'anything-but': ['x'] }] });
    const numbers = compilePattern({ v: [{ 'anything-but': [111, 222] }] });

    // Act & Assess
    expect(strings({ v: 5 })).toBe(true);
    expect(strings({ v: null })).toBe(true);
    expect(strings({ v: 'x' })).toBe(false);
    expect(numbers({ v: '111' })).toBe(true);
    expect(numbers({ v: 111.0 })).toBe(false);
  });

  it('should match IPv4-in-IPv6 and compressed IPv6 forms in cidr', () => {
    // Prepare
    const match = compilePattern({ ip: [{ cidr: '::ffff:10.0.0.0/120' }] });
    const v6 = compilePattern({ ip: [{ cidr: 'fe80::/10' }] });

    // Act & Assess
    expect(match({ ip: '::ffff:10.0.0.7' })).toBe(true);
    expect(match({ ip: '10.0.0.7' })).toBe(false);
    expect(v6({ ip: 'FE80:0:0:0:1:2:3:4' })).toBe(true);
    expect(v6({ ip: 'fe80::1::2' })).toBe(false);
  });
});
