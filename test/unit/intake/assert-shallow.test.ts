import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertShallow, MAX_DRAFT_DEPTH } from '#core/intake/normalize.ts';

/** The earlier form: a stack of [value, depth] pairs and `Object.values`; true when it accepts. */
function reference(draft: unknown, max = MAX_DRAFT_DEPTH): boolean {
  const stack: [unknown, number][] = [[draft, 0]];
  for (let seen = 0; stack.length > 0; seen++) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max || seen > 10_000) return false;
    for (const x of Object.values(v)) if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
  }
  return true;
}

const accepts = (v: unknown, max?: number) => {
  try {
    assertShallow(v, max);
    return true;
  } catch (e) {
    expect((e as { code?: string }).code).toBe('VALIDATION_FAILED');
    return false;
  }
};

const nest = (depth: number, asArray: boolean): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
};

describe('Function: assertShallow', () => {
  it('should accept and refuse what the pair-stack form did, at the depth and size limits', () => {
    // Prepare
    const inherited = Object.create({ deep: nest(20, false) }) as Record<string, unknown>;
    inherited.own = 1;
    const wide = { xs: Array.from({ length: 10_001 }, () => ({})) };
    const cases: unknown[] = [
      null,
      'x',
      3,
      {},
      [],
      inherited,
      wide,
      { xs: Array.from({ length: 9_999 }, () => ({})) },
      ...[7, 8, 9].flatMap((d) => [nest(d, false), nest(d, true)]),
      { a: [{ b: { c: [1, 2, { d: null }] } }], e: new Date(0), f: new Map([[1, { g: 1 }]]) },
    ];
    // Act & Assess
    for (const v of cases) expect(accepts(v)).toBe(reference(v));
    expect(accepts(inherited)).toBe(true);
    expect(accepts(wide)).toBe(false);
  });

  it('should agree with the pair-stack form on random JSON values and limits', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), fc.integer({ min: 1, max: 10 }), (v, max) => {
        expect(accepts(v, max)).toBe(reference(v, max));
      }),
      { numRuns: 400, seed: 7 },
    );
  });
});
