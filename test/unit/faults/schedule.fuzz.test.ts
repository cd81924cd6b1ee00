/**
 * Random fault schedules (fast-check): every kind of fault at once, at random rates, with double submissions. Two
 * properties: while faults last, nothing accepted is ever out of reach (each accepted tracking number is on a case
 * or its report is in the intake queue or its DLQ); once they stop and the operator redrives and repairs, the store
 * is exactly what the same submissions give without faults.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus } from '#core/ports.ts';
import { mulberry32 } from '#core/random.ts';
import { getRuntime, setRuntime } from '#functions/lib/runtime.ts';
import { run as verify } from '../../../cli/commands/verify.ts';
import type { Fault } from './fake-aws.ts';
import { runCli, submissions, TABLE, World } from './world.ts';

const N = 10;
/** Runs per `npm test`; the soak sets more (CITYLOOP_FAULT_RUNS). */
const RUNS = Number(process.env.CITYLOOP_FAULT_RUNS ?? 12);

/** A deterministic pseudo-random source, so a failing scenario can be replayed. */
const rng = mulberry32;

const schedule = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  ddb: fc.double({ min: 0, max: 0.2, noNaN: true }),
  entries: fc.double({ min: 0, max: 0.3, noNaN: true }),
  putLost: fc.double({ min: 0, max: 0.2, noNaN: true }),
  crash: fc.double({ min: 0, max: 0.2, noNaN: true }),
  loseDelete: fc.double({ min: 0, max: 0.4, noNaN: true }),
  copy: fc.double({ min: 0, max: 0.3, noNaN: true }),
  refuse: fc.double({ min: 0, max: 0.2, noNaN: true }),
  twice: fc.array(fc.integer({ min: 0, max: N - 1 }), { maxLength: 4 }),
});

function groups(w: World, caseOf: Map<string, string>): string[][] {
  const keyOf = new Map([...w.accepted].flatMap(([key, tns]) => [...tns].map((tn) => [tn, key] as const)));
  const byCase = new Map<string, string[]>();
  for (const [tn, caseId] of caseOf) byCase.set(caseId, [...(byCase.get(caseId) ?? []), keyOf.get(tn) ?? tn]);
  return [...byCase.values()].map((g) => g.sort()).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

describe('Faults: random schedules of every fault at once (fast-check)', () => {
  let expected: string[][];
  beforeAll(async () => {
    const clean = await new World().start();
    for (const s of submissions(N, 'f')) await clean.submit(s);
    await clean.pump();
    expected = groups(clean, (await clean.verify()).rec.caseOf);
    clean.stop();
  });
  afterAll(() => undefined);

  it('should never lose an accepted report, and end with the fault-free cases', async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(schedule, async (f) => {
        tried++;
        const w = await new World().start();
        try {
          const r = rng(f.seed);
          const kinds: Fault[] = ['throttle', 'timeout-before', 'timeout-after'];
          w.ddb.plan = () => (r() < f.ddb ? kinds[Math.floor(r() * 3)]! : 'none');
          w.eb.failEntries = (n) => [...Array(n).keys()].filter(() => r() < f.entries);
          w.eb.plan = () => (r() < f.putLost ? 'timeout-after' : 'none');
          w.sqs.refuseEntries = (q, n) => (q === 'intake' ? [...Array(n).keys()].filter(() => r() < f.refuse) : []);
          const real = getRuntime().bus;
          const crashing: Bus = {
            publish: async (events) => {
              if (r() < f.crash) throw new Error('injected: crash before the bus call returned');
              const out = await real.publish(events);
              if (r() < f.crash) throw new Error('injected: crash after the bus call');
              return out;
            },
          };
          setRuntime({ bus: crashing as never });

          const subs = submissions(N, 'f');
          for (const s of subs) expect(await w.submit(s)).toBeDefined();
          for (const i of f.twice) await w.submit(subs[i]!);
          await w.pump({ loseDelete: () => r() < f.loseDelete, concurrentCopy: () => r() < f.copy });

          // Property 1: reachable at every quiet point, faults still on.
          const mid = await w.verify();
          const inQueues = new Set(
            [...w.sqs.bodies('intake'), ...w.sqs.bodies('intake-dlq')].map((b) => {
              try {
                return JSON.parse(b).report.trackingNo as string;
              } catch {
                return '';
              }
            }),
          );
          for (const tns of w.accepted.values()) {
            for (const tn of tns) expect(mid.rec.caseOf.has(tn) || inQueues.has(tn)).toBe(true);
          }
          expect(mid.duplicated).toEqual([]);

          // The outage ends: redrive the DLQ, drain, repair what is owed.
          w.ddb.plan = () => 'none';
          w.eb.plan = () => 'none';
          w.eb.failEntries = undefined;
          w.sqs.refuseEntries = undefined;
          setRuntime({ bus: real });
          w.redrive('intake-dlq');
          await w.pump();
          await runCli(verify, ['--table', TABLE, '--grace', '0', '--repair']);

          // Property 2: exactly the fault-free outcome, each case announced into exactly its own queue.
          const end = await w.verify();
          expect(end.rec.violations).toEqual([]);
          expect(end.lost).toEqual([]);
          expect(end.duplicated).toEqual([]);
          expect(groups(w, end.rec.caseOf)).toEqual(expected);
          for (const p of end.placements) expect(p.queues).toEqual([p.expected]);
        } finally {
          w.stop();
        }
      }),
      { numRuns: RUNS },
    );
    expect(tried).toBeGreaterThanOrEqual(RUNS);
  });
});
