import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultCalendar } from '#core/calendar/default.ts';
import { formatShanghai, parseInstant, shanghaiDateOf } from '#core/calendar/shanghai-time.ts';
import { NATURES } from '#core/intake/schema.ts';
import { computeDeadlines } from '#core/sla/deadlines.ts';
import { defaultPolicyBook, resolvePolicy, URGENCIES } from '#core/sla/policy.ts';
import { dueIndexKeyFor, recordFired, sweepDecision } from '#core/sla/sweep.ts';

const cal = defaultCalendar();
const FROM = parseInstant('2024-01-01T00:00:00+08:00');
// Far enough from the end of the covered range that 15 + 10 working days (complex + extension) stay inside it.
const TO = parseInstant('2026-10-15T00:00:00+08:00');
const instant = fc.integer({ min: FROM, max: TO });
const query = fc.record({
  nature: fc.constantFrom(...NATURES),
  urgency: fc.constantFrom(...URGENCIES),
  policyId: fc.constantFrom(...defaultPolicyBook().policyIds),
});

describe('Function: computeDeadlines (properties)', () => {
  it('should give ordered timelines whose working-day dues end a working day at 23:59:59.999', () => {
    fc.assert(
      fc.property(query, instant, fc.integer({ min: 0, max: 6 * 3_600_000 }), (q, received, delay) => {
        // Prepare
        const policy = resolvePolicy(q);

        // Act
        const d = computeDeadlines(policy, formatShanghai(received), cal, {
          dispatchedAt: formatShanghai(received + delay),
        });

        // Assess
        const times = d.timeline.map((t) => parseInstant(t.at));
        expect([...times].sort((a, b) => a - b)).toEqual(times);
        for (const kind of ['dispatch', 'sign', 'contact', 'resolve'] as const) {
          const steps = d.timeline.filter((t) => t.kind === kind).map((t) => t.step);
          expect([...steps].sort((a, b) => a - b)).toEqual(steps);
          expect(steps).toContain(2);
        }
        expect(parseInstant(d.resolveDue)).toBeGreaterThan(received);
        if ('workingDays' in policy.resolve.limit) {
          expect(d.resolveDue.slice(11)).toBe('23:59:59.999+08:00');
          expect(cal.isWorkingDay(d.resolveDue.slice(0, 10))).toBe(true);
          expect(shanghaiDateOf(received) < d.resolveDue.slice(0, 10)).toBe(true);
        }
        expect(d.provisional).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('should act on every timer at most once however the sweep is timed or repeated', () => {
    fc.assert(
      fc.property(
        query,
        instant,
        fc.array(fc.integer({ min: 0, max: 40 * 86_400_000 }), { minLength: 1, maxLength: 40 }),
        (q, received, offsets) => {
          // Prepare
          const policy = resolvePolicy(q);
          const at = formatShanghai(received);
          let view = {
            caseId: 'C',
            state: 'dispatched',
            deadlines: computeDeadlines(policy, at, cal, { dispatchedAt: at }),
          };
          const seen: string[] = [];
          const sweepTimes = [...offsets].sort((a, b) => a - b).flatMap((o) => [received + o, received + o]);

          // Act
          for (const now of sweepTimes) {
            const entry = dueIndexKeyFor(view, 4);
            if (!entry) break;
            const d = sweepDecision(view, entry, now);
            if (d.action === 'stale') continue;
            seen.push(`${d.timer.kind}:${d.timer.step}`);
            view = { ...view, deadlines: recordFired(view.deadlines, d.timer) };
          }

          // Assess
          expect(new Set(seen).size).toBe(seen.length);
          const first = computeDeadlines(policy, at, cal, { dispatchedAt: at }).timeline.find(
            (t) => t.kind !== 'dispatch',
          );
          if (first && sweepTimes.at(-1)! >= parseInstant(first.at)) expect(seen.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
