/**
 * 考核指标 for the supervisor dashboard, read-only: `GET /api/supervisor/metrics?from=YYYY-MM-DD&to=YYYY-MM-DD`
 * (default: the 30 days up to today, Asia/Shanghai; at most 366 days). The rates of core/sla (办结率, 按时办结率,
 * 当日清率, 签收及时率 = 响应率, 解决率, 满意率, average handling time …) from the daily aggregates the store keeps:
 * one query per day, never a case read. Answers the whole period, per department (with the gap to the year's
 * targets) and per day (the charts' time series).
 */
import middy from '@middy/core';
import { dayNumber, isIsoDate, shanghaiDateOf } from '#core/calendar/shanghai-time.ts';
import { CityLoopError } from '#core/errors.ts';
import { type AggregateRecord, RATE_LABELS, shippedTargets, summarize } from '#core/sla/metrics.ts';
import { buildReport } from '#core/sla/report.ts';
import { departmentName } from '#core/taxonomy/defaults.ts';
import { requireStaff } from '../lib/auth.ts';
import { type HttpEvent, type HttpResult, httpErrors, json } from '../lib/http.ts';
import { getRuntime } from '../lib/runtime.ts';

export const MAX_DAYS = 366;
export const DEFAULT_DAYS = 30;

export interface MetricsDeps {
  listAggregates(from: string, to: string): Promise<AggregateRecord[]>;
  now(): Date;
}

function period(event: HttpEvent, now: Date): { from: string; to: string } {
  const q = event.queryStringParameters ?? {};
  const to = q.to || shanghaiDateOf(now.getTime());
  if (!isIsoDate(to)) throw new CityLoopError('INVALID_PERIOD', 'to 须为 YYYY-MM-DD  to must be YYYY-MM-DD', 400);
  const from = q.from || shanghaiDateOf(now.getTime() - (DEFAULT_DAYS - 1) * 86_400_000);
  if (!isIsoDate(from)) throw new CityLoopError('INVALID_PERIOD', 'from 须为 YYYY-MM-DD  from must be YYYY-MM-DD', 400);
  const span = dayNumber(to) - dayNumber(from);
  if (span < 0) throw new CityLoopError('INVALID_PERIOD', 'from 晚于 to  from is after to', 400);
  if (span >= MAX_DAYS) {
    throw new CityLoopError('INVALID_PERIOD', `最多 ${MAX_DAYS} 天 at most ${MAX_DAYS} days per request`, 400);
  }
  return { from, to };
}

export async function metrics(event: HttpEvent, deps: MetricsDeps): Promise<HttpResult> {
  requireStaff(event, 'supervisor');
  const { from, to } = period(event, deps.now());
  const records = await deps.listAggregates(from, to);
  const report = buildReport(records, { from, to, by: 'department' }, shippedTargets(), {
    department: departmentName,
  });
  const byDay = summarize(records, { from, to, by: 'day' });
  return json(200, {
    from,
    to,
    targetYear: report.targetYear,
    labels: RATE_LABELS,
    total: report.total,
    byDepartment: report.rows,
    byDay,
    items: report.items,
  });
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(httpErrors())
  .handler(async function supervisorMetricsHandler(event) {
    const rt = getRuntime();
    return metrics(event, { listAggregates: (f, t) => rt.store.listAggregates(f, t), now: () => rt.clock.now() });
  });
