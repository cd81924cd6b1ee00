/**
 * The measured part of `pipeline.bench.ts`: one report through normalize (the web form → the one form) + classify (the
 * classifier triage uses, `functions/lib/triage-context.ts`) + dedupe signature (text sketch, place and citizen keys,
 * the candidate keys to read) + routing (category → department, street backstop). Pure CPU, no I/O.
 *
 * The suite bundles this module the way a Lambda is bundled (`bundleLambda`) and runs the bundle in a fresh Node
 * process, which prints `measurePipeline`'s result as JSON (`node index.mjs <reports> <rounds>`); it also calls
 * `measurePipeline` in its own process, unbundled, for reference.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDedupeConfig } from '#core/dedupe/defaults.ts';
import { candidateKeys, prepareReport } from '#core/dedupe/features.ts';
import { createGroupResolver } from '#core/dedupe/groups.ts';
import { formatTrackingNo, shanghaiDay } from '#core/ids.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import { routeCase } from '#core/routing.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { openCase } from '#core/triage/triage.ts';
import { webDraft } from '#functions/http/requests.ts';
import { triageContext } from '#functions/lib/triage-context.ts';
import { median, quantile } from './measure.ts';
import { sampleBodies, type WebBody } from './sample-reports.ts';

const NOW = new Date('2026-03-10T02:00:00Z');

export const STAGES = ['normalize', 'classify', 'signature', 'route', 'openCase'] as const;
export type Stage = (typeof STAGES)[number];

export interface Timing {
  /** ms */
  median: number;
  /** ms */
  p99: number;
}

export interface PipelineResult {
  reports: number;
  rounds: number;
  /** The four steps together, per report. */
  whole: Timing;
  /** The whole loop without per-report timers, best round. */
  perSecond: number;
  /** Each step alone (openCase: for reference, not in the whole). */
  stages: Record<Stage, Timing>;
  /** What the classifier answered for a street-light report (shows which classifier ran). */
  classifierReason: string;
}

interface Stages {
  normalize: (b: WebBody, i: number) => IntakeRequest;
  classify: (r: IntakeRequest) => ReturnType<ReturnType<typeof triageContext>['classify']>;
  signature: (r: IntakeRequest, i: number, category: string | undefined) => number;
  route: (r: IntakeRequest, category: string | undefined, auto: boolean) => string;
}

function timeEach<T>(items: readonly T[], fn: (x: T, i: number) => unknown): number[] {
  const times = new Array<number>(items.length);
  for (let i = 0; i < items.length; i++) {
    const t0 = performance.now();
    fn(items[i] as T, i);
    times[i] = performance.now() - t0;
  }
  return times;
}

const timing = (xs: readonly number[]): Timing => ({ median: median(xs), p99: quantile(xs, 0.99) });

export function measurePipeline(n: number, rounds: number): PipelineResult {
  const groups = createGroupResolver(defaultDedupeConfig, defaultTaxonomy);
  const day = shanghaiDay(NOW);
  const stages: Stages = {
    normalize: (b, i) => normalizeIntake(webDraft(b as unknown as Record<string, unknown>, NOW, `bench-key-${i}`)),
    classify: (r) => triageContext(NOW).classify({ title: r.title, text: r.text, categoryHint: r.categoryHint }),
    signature: (r, i, category) => {
      const f = prepareReport(
        {
          id: formatTrackingNo(day, i + 1),
          receivedAt: r.receivedAt,
          text: r.text,
          title: r.title,
          ...(category ? { category } : {}),
          channel: r.channel,
          channelMessageId: r.channelMessageId,
          ...(r.location ? { location: r.location } : {}),
          citizen: r.citizen,
        },
        defaultDedupeConfig,
        groups,
      );
      return candidateKeys(f, defaultDedupeConfig).length;
    },
    route: (r, category, auto) => {
      const ctx = triageContext(NOW);
      const cat = category && auto ? ctx.categories.get(category) : undefined;
      return routeCase(cat, r.location, r.text, ctx.departments).department;
    },
  };
  /** One report through the four steps; returns something derived so nothing is optimized away. */
  const pipeline = (b: WebBody, i: number): number => {
    const r = stages.normalize(b, i);
    const v = stages.classify(r);
    const keys = stages.signature(r, i, v.category);
    const dept = stages.route(r, v.category, v.decision === 'auto');
    return keys + dept.length;
  };

  const bodies = sampleBodies(n);
  let sink = 0;
  for (let w = 0; w < 2; w++) for (let i = 0; i < n; i++) sink += pipeline(bodies[i] as WebBody, i);
  const per: number[] = [];
  let bestLoopMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    per.push(...timeEach(bodies, pipeline));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) sink += pipeline(bodies[i] as WebBody, i);
    bestLoopMs = Math.min(bestLoopMs, performance.now() - t0);
  }

  const requests = bodies.map((b, i) => stages.normalize(b, i));
  const verdicts = requests.map((r) => stages.classify(r));
  const times: Record<Stage, number[]> = { normalize: [], classify: [], signature: [], route: [], openCase: [] };
  const ctx = triageContext(NOW);
  for (let r = 0; r < rounds; r++) {
    times.normalize.push(...timeEach(bodies, (b, i) => stages.normalize(b, i)));
    times.classify.push(...timeEach(requests, (q) => stages.classify(q)));
    times.signature.push(...timeEach(requests, (q, i) => stages.signature(q, i, verdicts[i]?.category)));
    times.route.push(
      ...timeEach(requests, (q, i) => stages.route(q, verdicts[i]?.category, verdicts[i]?.decision === 'auto')),
    );
    times.openCase.push(
      ...timeEach(requests, (q, i) =>
        openCase(
          { trackingNo: formatTrackingNo(day, i + 1), idemKey: `web#${i}`, request: q, acceptedAt: q.receivedAt },
          ctx,
        ),
      ),
    );
  }
  if (sink === 0) throw new Error('pipeline produced nothing');
  return {
    reports: n,
    rounds,
    whole: timing(per),
    perSecond: (n / bestLoopMs) * 1000,
    stages: Object.fromEntries(STAGES.map((s) => [s, timing(times[s])])) as Record<Stage, Timing>,
    classifierReason: triageContext(NOW).classify({ title: '路灯不亮', text: '和平路88号门口的路灯坏了' }).reason,
  };
}

// Run as a program (the bundle in its own process): `<reports> <rounds>`, the result as one line of JSON.
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const n = Number(process.argv[2] ?? 1000);
  const rounds = Number(process.argv[3] ?? 3);
  process.stdout.write(`${JSON.stringify(measurePipeline(n, rounds))}\n`);
}
