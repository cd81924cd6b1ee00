/**
 * 巡检 (sweep), every minute: the place where timers fire. Later features register their sweeps here.
 * Registered: `sla` (deadlines: warnings, breaches, 催办 chases, provisional-calendar alarms; and announcements owed
 * by the cases it touches), see `core/sla/sweep-task.ts`. The instant is the runtime's clock (tests inject one).
 */
import middy from '@middy/core';
import { defaultCalendar } from '#core/calendar/default.ts';
import { countOwed } from '#core/sla/case-metrics.ts';
import { defaultSlaEnv, type SlaEnv } from '#core/sla/case-sla.ts';
import { defaultPolicyBook } from '#core/sla/policy.ts';
import { runSlaSweep } from '#core/sla/sweep-task.ts';
import { departmentName } from '#core/taxonomy/defaults.ts';
import { SLA_METRICS_NAMESPACE } from '#core/topology.ts';
import { failureFields, log, logSink } from './lib/log.ts';
import { getRuntime } from './lib/runtime.ts';

export interface SweepResult {
  checked: number;
  emitted: number;
  /** Task-specific counts (fired, stale, lost …). */
  [detail: string]: number;
}

export type SweepTask = (now: Date) => Promise<SweepResult>;

const tasks: { name: string; run: SweepTask }[] = [];

export function registerSweep(name: string, run: SweepTask): void {
  if (!tasks.some((t) => t.name === name)) tasks.push({ name, run });
}

/** `defaultSlaEnv()`, each part built on its first read (each is built once per process anyway). */
const lazySlaEnv: SlaEnv = {
  get calendar() {
    return defaultCalendar();
  },
  get book() {
    return defaultPolicyBook();
  },
  get categories() {
    return defaultSlaEnv().categories;
  },
};

registerSweep('sla', async (now) => {
  const rt = getRuntime();
  const result = await runSlaSweep(
    {
      queryDue: (shard, bound, limit, after) => rt.store.queryDue(shard, bound, limit, after),
      getCase: (id) => rt.store.getCase(id),
      replaceCase: (c, v) => rt.store.replaceCase(c, v),
      markSettled: (id, v, settled) => rt.store.markSettled(id, v, settled),
      publish: (events) => rt.bus.publish(events),
      departmentName,
      // 考核数据 a writer stopped before counting: the sweep counts what the cases it meets still owe.
      metrics: { count: (c) => countOwed(rt.store, [c]) },
    },
    now,
    {
      // Read only for a provisional deadline or a recompute: built then (the shipped calendar and the policy book
      // with all its combinations checked take ~20 ms), not on every cold start with nothing due.
      get coveredUntil() {
        return defaultCalendar().coveredUntil;
      },
      env: lazySlaEnv,
      onError: (caseId, e) => log.error('sla sweep failed for a case', { caseId, ...failureFields(e) }),
    },
  );
  if (result.checked > 0) log.info('sla sweep', { ...result });
  emitSlaMetrics(result);
  return { ...result };
});

/**
 * 督办 numbers as CloudWatch metrics through the Embedded Metric Format: one structured log line per run, which Lambda's
 * log pipeline turns into `CityLoop/SlaBreaches` etc. (no PutMetricData call); the stack alarms on the breach count.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export function emitSlaMetrics(r: { warnings: number; breaches: number; chases: number }, now = Date.now()): void {
  logSink(
    JSON.stringify({
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          {
            Namespace: SLA_METRICS_NAMESPACE,
            Dimensions: [[]],
            Metrics: [
              { Name: 'SlaWarnings', Unit: 'Count' },
              { Name: 'SlaBreaches', Unit: 'Count' },
              { Name: 'SlaChases', Unit: 'Count' },
            ],
          },
        ],
      },
      SlaWarnings: r.warnings,
      SlaBreaches: r.breaches,
      SlaChases: r.chases,
    }),
  );
}

export async function sweepHandler(): Promise<Record<string, SweepResult>> {
  const now = getRuntime().clock.now();
  const out: Record<string, SweepResult> = {};
  for (const t of tasks) {
    try {
      out[t.name] = await t.run(now);
    } catch (e) {
      log.error('sweep task failed', { task: t.name, ...failureFields(e) });
    }
  }
  return out;
}

export const handler = middy().handler(sweepHandler);
