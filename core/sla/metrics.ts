/**
 * 考核评价: the rates of ../shared/brief/domain.md from daily aggregates, kept by counters only so the store can apply
 * each change with atomic ADDs (no read-modify-write), and a year's report reads days, not cases.
 *
 * How a case is counted. A case contributes to a few daily buckets of its dimensions (department, category, street,
 * channel), each bucket chosen by the event that defines the rate:
 * - receipt day: 受理 `received`; 当日清 `sameDayClosed` (closed by 24:00 Asia/Shanghai on the day received);
 * - "due" day = the earlier of the deadline's day and the day it was met: `dueToClose`, `dueClosed`, `dueClosedOnTime`
 *   (应办结 = deadlines that fell due in the period + cases closed early in it), likewise `dueToSign`/`signedOnTime`
 *   and `dueToContact`/`contactedOnTime`;
 * - closure day: `closed`, handling time in ms and in working days, `reopenedClosed`;
 * - follow-up day (回访): `followUps`, `followUpResolved`, `satisfied`, `basicallySatisfied`, `dissatisfied`.
 * A transition changes the case's contributions from `before` to `after`; the difference is what is ADDed. So an
 * extension moves the case to its new due day, a re-dispatch moves it to the new department, a rejected closure takes
 * it back out of `closed`, and replaying a transition whose before/after are equal changes nothing.
 */
import * as z from 'zod/mini';
import policiesFile from '../../config/sla-policies.json' with { type: 'json' };
import { DAY_MS, type IsoDate, parseInstant, shanghaiDateOf, shanghaiDayOf } from '../calendar/shanghai-time.ts';
import type { WorkingCalendar } from '../calendar/working-calendar.ts';

export const COUNTER_NAMES = [
  'received',
  'sameDayClosed',
  'dueToSign',
  'signedOnTime',
  'dueToContact',
  'contactedOnTime',
  'dueToClose',
  'dueClosed',
  'dueClosedOnTime',
  'closed',
  'handlingMs',
  'handlingWorkingDays',
  'reopenedClosed',
  'followUps',
  'followUpResolved',
  'satisfied',
  'basicallySatisfied',
  'dissatisfied',
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

export const DIMENSIONS = ['department', 'category', 'street', 'channel'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** One aggregate item per (day, department, category, street, channel); '-' stands for "none". */
export interface AggregateKey {
  day: IsoDate;
  department: string;
  category: string;
  street: string;
  channel: string;
}

/** The stored aggregate: its key and its counters, flat (one attribute per counter: `ADD received :1`). */
export type AggregateRecord = AggregateKey & Counters;

export interface AggregateDelta {
  /** `aggregateId(key)`: the item's key in the store. */
  id: string;
  key: AggregateKey;
  /** Non-zero changes only, to ADD. */
  counters: Partial<Counters>;
}

export function emptyCounters(): Counters {
  const c = {} as Counters;
  for (const n of COUNTER_NAMES) c[n] = 0;
  return c;
}

const escapeKeyPart = (s: string) => s.replaceAll('%', '%25').replaceAll('#', '%23');

export function aggregateId(k: AggregateKey): string {
  return `AGG#${k.day}#${[k.department, k.category, k.street, k.channel].map(escapeKeyPart).join('#')}`;
}

/** What metrics need to know about a case (built by the lifecycle from its snapshot, before and after an action). */
export interface CaseMetricView {
  department: string | null;
  category: string | null;
  street: string | null;
  channel: string | null;
  receivedAt: string;
  /** 不予受理, or merged into another case (并案): not a work order of its own, counted nowhere. */
  excluded: boolean;
  signDue: string | null;
  signedAt: string | null;
  contactDue: string | null;
  firstContactAt: string | null;
  /** The resolve deadline in force (including approved extensions); null for cases answered directly. */
  resolveDue: string | null;
  /** 办结反馈 that stands (cleared again by a rejected closure or a reopen). */
  resolvedAt: string | null;
  /** 办结 / 直接答复: used when there is no `resolvedAt` (answered on the spot). */
  closedAt: string | null;
  reopenCount: number;
  followUpAt: string | null;
  satisfaction: '满意' | '基本满意' | '不满意' | null;
  /** 回访: "was it resolved?" */
  resolvedFlag: boolean | null;
}

export interface MetricsContext {
  /** For handling time in working days. */
  calendar: WorkingCalendar;
}

const dim = (v: string | null) => (v === null || v === '' ? '-' : v);

/** Every bucket a case adds to, as (day, counter, amount). */
function contributions(v: CaseMetricView | null, ctx: MetricsContext): [IsoDate, CounterName, number][] {
  if (!v || v.excluded) return [];
  const out: [IsoDate, CounterName, number][] = [];
  const received = parseInstant(v.receivedAt);
  const receivedDay = shanghaiDayOf(received);
  const doneIso = v.resolvedAt ?? v.closedAt;
  const done = doneIso === null ? null : parseInstant(doneIso);
  const dayOf = (ms: number) => shanghaiDateOf(ms);

  out.push([dayOf(received), 'received', 1]);
  if (done !== null && shanghaiDayOf(done) === receivedDay) out.push([dayOf(received), 'sameDayClosed', 1]);

  const dueBucket = (dueIso: string | null, metIso: string | null, due: CounterName, met: CounterName) => {
    if (dueIso === null) return;
    const dueMs = parseInstant(dueIso);
    const metMs = metIso === null ? null : parseInstant(metIso);
    const day = dayOf(metMs === null ? dueMs : Math.min(dueMs, metMs));
    out.push([day, due, 1]);
    if (metMs !== null && metMs <= dueMs) out.push([day, met, 1]);
  };
  dueBucket(v.signDue, v.signedAt, 'dueToSign', 'signedOnTime');
  dueBucket(v.contactDue, v.firstContactAt, 'dueToContact', 'contactedOnTime');
  if (v.resolveDue !== null) {
    dueBucket(v.resolveDue, doneIso, 'dueToClose', 'dueClosedOnTime');
    if (done !== null) out.push([dayOf(Math.min(done, parseInstant(v.resolveDue))), 'dueClosed', 1]);
  } else if (done !== null) {
    // Answered on the spot (直接答复): due and closed the same moment, on time.
    for (const n of ['dueToClose', 'dueClosed', 'dueClosedOnTime'] as const) out.push([dayOf(done), n, 1]);
  }

  if (done !== null) {
    const closeDay = dayOf(done);
    out.push([closeDay, 'closed', 1]);
    out.push([closeDay, 'handlingMs', Math.max(0, done - received)]);
    const wd = ctx.calendar.workingDaysBetweenDays(receivedDay, shanghaiDayOf(done)).days;
    if (wd > 0) out.push([closeDay, 'handlingWorkingDays', wd]);
    if (v.reopenCount > 0) out.push([closeDay, 'reopenedClosed', 1]);
  }

  if (v.followUpAt !== null && (v.satisfaction !== null || v.resolvedFlag !== null)) {
    const d = dayOf(parseInstant(v.followUpAt));
    out.push([d, 'followUps', 1]);
    if (v.resolvedFlag === true) out.push([d, 'followUpResolved', 1]);
    if (v.satisfaction === '满意') out.push([d, 'satisfied', 1]);
    else if (v.satisfaction === '基本满意') out.push([d, 'basicallySatisfied', 1]);
    else if (v.satisfaction === '不满意') out.push([d, 'dissatisfied', 1]);
  }
  return out;
}

function keyOf(v: CaseMetricView, day: IsoDate): AggregateKey {
  return {
    day,
    department: dim(v.department),
    category: dim(v.category),
    street: dim(v.street),
    channel: dim(v.channel),
  };
}

/**
 * The ADDs one transition needs: contributions(after) − contributions(before), grouped per aggregate item, zeros
 * dropped. `before` null: a new case; `after` null: a case withdrawn from the statistics.
 */
export function transitionDeltas(
  transition: { before: CaseMetricView | null; after: CaseMetricView | null },
  ctx: MetricsContext,
): AggregateDelta[] {
  const acc = new Map<string, AggregateDelta>();
  const add = (v: CaseMetricView, sign: 1 | -1) => {
    for (const [day, name, amount] of contributions(v, ctx)) {
      const key = keyOf(v, day);
      const id = aggregateId(key);
      let d = acc.get(id);
      if (!d) {
        d = { id, key, counters: {} };
        acc.set(id, d);
      }
      d.counters[name] = (d.counters[name] ?? 0) + sign * amount;
    }
  };
  if (transition.before) add(transition.before, -1);
  if (transition.after) add(transition.after, 1);
  const out: AggregateDelta[] = [];
  for (const d of acc.values()) {
    for (const n of Object.keys(d.counters) as CounterName[]) if (d.counters[n] === 0) delete d.counters[n];
    if (Object.keys(d.counters).length > 0) out.push(d);
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Applies deltas to an in-memory table of aggregates (id → record); returns a new table. */
export function applyDeltas(
  aggregates: Readonly<Record<string, AggregateRecord>>,
  deltas: readonly AggregateDelta[],
): Record<string, AggregateRecord> {
  const out: Record<string, AggregateRecord> = { ...aggregates };
  for (const d of deltas) {
    const rec: AggregateRecord = { ...(out[d.id] ?? { ...d.key, ...emptyCounters() }) };
    for (const [n, v] of Object.entries(d.counters) as [CounterName, number][]) rec[n] += v;
    out[d.id] = rec;
  }
  return out;
}

/** `applyTransitionToAggregates(aggregates, { before, after }, ctx)`: the incremental update, in memory. */
export function applyTransitionToAggregates(
  aggregates: Readonly<Record<string, AggregateRecord>>,
  transition: { before: CaseMetricView | null; after: CaseMetricView | null },
  ctx: MetricsContext,
): Record<string, AggregateRecord> {
  return applyDeltas(aggregates, transitionDeltas(transition, ctx));
}

export function sumCounters(records: Iterable<Partial<Counters>>): Counters {
  const sum = emptyCounters();
  for (const r of records) for (const n of COUNTER_NAMES) sum[n] += r[n] ?? 0;
  return sum;
}

export const RATE_NAMES = [
  'closeRate',
  'onTimeCloseRate',
  'sameDayRate',
  'signOnTimeRate',
  'contactOnTimeRate',
  'resolutionRate',
  'satisfactionRate',
  'reopenRate',
  'avgHandlingDays',
  'avgHandlingWorkingDays',
] as const;
export type RateName = (typeof RATE_NAMES)[number];
/** null where the denominator is zero (nothing to judge), never NaN. */
export type Rates = Record<RateName, number | null>;

export const RATE_LABELS: Readonly<Record<RateName, string>> = {
  closeRate: '办结率',
  onTimeCloseRate: '按时办结率',
  sameDayRate: '当日清率',
  signOnTimeRate: '签收及时率(响应率)',
  contactOnTimeRate: '先行联系及时率',
  resolutionRate: '解决率',
  satisfactionRate: '满意率',
  reopenRate: '重办率',
  avgHandlingDays: '平均办理时长(自然日)',
  avgHandlingWorkingDays: '平均办理时长(工作日)',
};

/** Rates where less is better. */
export const LOWER_IS_BETTER: ReadonlySet<RateName> = new Set([
  'reopenRate',
  'avgHandlingDays',
  'avgHandlingWorkingDays',
]);

export interface RateOptions {
  /** Weight of 基本满意 in 满意率 (1: counts as satisfied; some cities use 0.8 or 0.6). */
  basicallySatisfiedWeight?: number;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

export function computeRates(c: Counters, opts: RateOptions = {}): Rates {
  const w = opts.basicallySatisfiedWeight ?? 1;
  return {
    closeRate: ratio(c.dueClosed, c.dueToClose),
    onTimeCloseRate: ratio(c.dueClosedOnTime, c.dueToClose),
    sameDayRate: ratio(c.sameDayClosed, c.received),
    signOnTimeRate: ratio(c.signedOnTime, c.dueToSign),
    contactOnTimeRate: ratio(c.contactedOnTime, c.dueToContact),
    resolutionRate: ratio(c.followUpResolved, c.followUps),
    satisfactionRate: ratio(c.satisfied + w * c.basicallySatisfied, c.followUps),
    reopenRate: ratio(c.reopenedClosed, c.closed),
    avgHandlingDays: c.closed === 0 ? null : c.handlingMs / c.closed / DAY_MS,
    avgHandlingWorkingDays: ratio(c.handlingWorkingDays, c.closed),
  };
}

/** 0.961575… → `96.16%`; null → `-`. */
export function formatRate(r: number | null, digits = 2): string {
  return r === null ? '-' : `${(r * 100).toFixed(digits)}%`;
}

export interface SummaryQuery {
  from: IsoDate;
  to: IsoDate;
  by?: Dimension | 'day' | undefined;
  where?: Partial<Record<Dimension, string>> | undefined;
  rateOptions?: RateOptions | undefined;
}

export interface SummaryRow {
  /** The group's value of `by` (or `全部` without `by`). */
  group: string;
  counters: Counters;
  rates: Rates;
}

/** Sums the daily aggregates of [from, to] (inclusive), optionally filtered and grouped by one dimension or by day. */
export function summarize(records: Iterable<AggregateRecord>, q: SummaryQuery): SummaryRow[] {
  const groups = new Map<string, AggregateRecord[]>();
  for (const r of records) {
    if (r.day < q.from || r.day > q.to) continue;
    if (q.where && DIMENSIONS.some((d) => q.where?.[d] !== undefined && q.where[d] !== r[d])) continue;
    const g = q.by === undefined ? '全部' : r[q.by];
    const list = groups.get(g);
    if (list) list.push(r);
    else groups.set(g, [r]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, list]) => {
      const counters = sumCounters(list);
      return { group, counters, rates: computeRates(counters, q.rateOptions) };
    });
}

const rateValue = z.number().check(z.gte(0));
export const TargetSchema = z.object({
  year: z.number().check(z.int(), z.gte(2000), z.lte(2100)),
  scope: z.enum(['city', 'department']),
  department: z.optional(z.string()),
  rates: z.partial(
    z.object(Object.fromEntries(RATE_NAMES.map((n) => [n, rateValue])) as Record<RateName, typeof rateValue>),
  ),
});
export type Target = z.infer<typeof TargetSchema>;
export type TargetRates = Partial<Record<RateName, number>>;

/** The 年度目标 of `config/sla-policies.json` (`targets`), validated. */
export function shippedTargets(): Target[] {
  return z.array(TargetSchema).parse(policiesFile.targets ?? []);
}

/** A department's target for a year: the city's, with the department's own figures on top. */
export function targetFor(targets: readonly Target[], year: number, department?: string): TargetRates {
  const city = targets.find((t) => t.year === year && t.scope === 'city')?.rates ?? {};
  const own =
    department === undefined
      ? {}
      : (targets.find((t) => t.year === year && t.scope === 'department' && t.department === department)?.rates ?? {});
  return { ...city, ...own };
}

export interface TargetGap {
  metric: RateName;
  label: string;
  actual: number | null;
  target: number;
  /** actual − target (signed; for lower-is-better metrics a negative gap is good). */
  gap: number | null;
  met: boolean | null;
}

/** The gap to target for every metric that has a target. */
export function gapToTarget(rates: Rates, target: TargetRates): TargetGap[] {
  const out: TargetGap[] = [];
  for (const metric of RATE_NAMES) {
    const t = target[metric];
    if (t === undefined) continue;
    const actual = rates[metric];
    const gap = actual === null ? null : actual - t;
    const met = actual === null ? null : LOWER_IS_BETTER.has(metric) ? actual <= t : actual >= t;
    out.push({ metric, label: RATE_LABELS[metric], actual, target: t, gap, met });
  }
  return out;
}
