import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCityLoopError } from '#core/errors.ts';
import { compilePattern, matchesPattern, validatePattern } from '#core/eventbridge/pattern.ts';

/** Small value alphabets so that generated patterns and events meet often. */
const word = fc.constantFrom('', 'x', 'y', 'xy', 'Xy', 'a*b', '10.0.0.1');
const leafValue = fc.oneof(
  word,
  fc.integer({ min: -3, max: 3 }),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
);
const operator = fc.oneof(
  fc.record({ prefix: word }),
  fc.record({ suffix: word }),
  fc.record({ 'equals-ignore-case': word }),
  fc.record({ wildcard: fc.constantFrom('x*', '*y', 'x*y', '*', '', 'a\\*b', 'x\\\\*') }),
  fc.record({
    'anything-but': fc.oneof(word, fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 3 })),
  }),
  fc.record({ numeric: fc.tuple(fc.constantFrom('>', '>=', '<', '<=', '='), fc.integer({ min: -3, max: 3 })) }),
  fc.record({ exists: fc.boolean() }),
  fc.record({ cidr: fc.constantFrom('10.0.0.0/8', '::/0', '192.168.1.0/24') }),
);
const key = fc.constantFrom('a', 'b', 'c', 'detail');
/** Patterns shaped like real ones (mostly valid), so that matching itself is exercised. */
const pattern: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc
    .tuple(
      fc.dictionary(key, fc.oneof({ depthSize: 'small' }, tie('list'), tie('node')), { minKeys: 1, maxKeys: 2 }),
      fc.oneof({ arbitrary: fc.constant(null), weight: 5 }, { arbitrary: tie('or'), weight: 1 }),
    )
    .map(([fields, or]) => (or === null ? fields : { ...fields, $or: or })),
  list: fc.array(fc.oneof(leafValue, operator), { minLength: 1, maxLength: 4 }),
  or: fc.array(tie('node'), { minLength: 2, maxLength: 3 }),
})).node;

/** Wraps every leaf of a JSON value in a one-element array: EventBridge sees the same leaves. */
function wrapLeaves(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(wrapLeaves);
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wrapLeaves(x)]));
  }
  return [v];
}

const eventShaped = fc.dictionary(
  fc.constantFrom('a', 'b', 'c', 'detail', 'zzz'),
  fc.oneof(
    leafValue,
    fc.array(leafValue, { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.oneof(leafValue, fc.array(leafValue, { maxLength: 3 })), {
      maxKeys: 3,
    }),
  ),
  { minKeys: 2, maxKeys: 5 },
);

describe('Fuzz: event patterns', () => {
  it('should never throw while matching arbitrary JSON events', () => {
    fc.assert(
      fc.property(pattern, fc.jsonValue({ maxDepth: 4 }), (p, event) => {
        const verdict = validatePattern(p);
        if (!verdict.ok) return;
        const match = compilePattern(p);
        expect(typeof match(event)).toBe('boolean');
      }),
      { numRuns: 400 },
    );
  });

  it('should never throw in validatePattern on arbitrary JSON, and compile exactly what it accepts', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), pattern), (p) => {
        const verdict = validatePattern(p);
        let compiled = true;
        try {
          compilePattern(p);
        } catch (e) {
          expect(isCityLoopError(e)).toBe(true);
          compiled = false;
        }
        expect(compiled).toBe(verdict.ok);
      }),
      { numRuns: 400 },
    );
  });

  it('should match an event built from an exact-match pattern', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.oneof(fc.string({ maxLength: 6 }), fc.integer()), {
          minKeys: 1,
        }),
        (fields) => {
          const p = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, [v]]));
          expect(matchesPattern({ detail: p }, { source: 's', detail: fields })).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('should give the same answer when each event leaf is wrapped in a one-element array', () => {
    fc.assert(
      fc.property(pattern, eventShaped, (p, event) => {
        if (!validatePattern(p).ok) return;
        const match = compilePattern(p);
        expect(match(wrapLeaves(event))).toBe(match(event));
      }),
      { numRuns: 400 },
    );
  });

  it('should give the same answer when a field no pattern names is added', () => {
    fc.assert(
      fc.property(pattern, eventShaped, leafValue, (p, event, extra) => {
        if (!validatePattern(p).ok) return;
        const match = compilePattern(p);
        expect(match({ ...event, unrelated: extra })).toBe(match(event));
      }),
      { numRuns: 300 },
    );
  });
});
