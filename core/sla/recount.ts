/**
 * 考核数据对账: the daily aggregates recounted from the cases themselves, against the stored ones (`cityloop verify
 * --metrics`). Aggregates are ADDed after each case write: triage hands a batch back when its counts fail, but a
 * department's step whose count fails is not counted (docs/reliability.md). Counting every case from scratch, as if
 * each were created as it stands now, gives what every aggregate item must hold; the difference is what was lost (or
 * counted twice).
 *
 * A case changed within the grace period may have its aggregate update still in flight: the items its current view
 * counts on are left out of the comparison (`unsettled`).
 */
import type { Case } from '../case.ts';
import { type CaseMetricsContext, caseTransitionDeltas, defaultMetricsContext } from './case-metrics.ts';
import { type AggregateKey, type AggregateRecord, COUNTER_NAMES, type CounterName, emptyCounters } from './metrics.ts';

export interface Recount {
  /** Aggregate id → the record the cases say it should hold. */
  expected: Map<string, AggregateRecord>;
  /** Ids of the items a recently changed case counts on (not compared). */
  unsettled: Set<string>;
  cases: number;
}

/** Adds up every case's contributions (its creation as it stands now). `unsettled(c)`: leave its items out. */
export function recountAggregates(
  cases: Iterable<Case>,
  opts: { unsettled?: (c: Case) => boolean; ctx?: CaseMetricsContext } = {},
): Recount {
  const ctx = opts.ctx ?? defaultMetricsContext();
  const expected = new Map<string, AggregateRecord>();
  const unsettled = new Set<string>();
  let n = 0;
  for (const c of cases) {
    n++;
    const recent = opts.unsettled?.(c) === true;
    for (const d of caseTransitionDeltas(null, c, ctx)) {
      if (recent) unsettled.add(d.id);
      let rec = expected.get(d.id);
      if (!rec) {
        rec = { ...d.key, ...emptyCounters() };
        expected.set(d.id, rec);
      }
      for (const [name, v] of Object.entries(d.counters) as [CounterName, number][]) rec[name] += v;
    }
  }
  return { expected, unsettled, cases: n };
}

export interface AggregateMismatch {
  id: string;
  key: AggregateKey;
  /** Each counter that differs: what the cases say and what the item holds. */
  counters: Partial<Record<CounterName, { expected: number; stored: number }>>;
}

/** Every settled item where a counter differs, the stored item missing or an item no case counts on, by id. */
export function compareAggregates(recount: Recount, stored: ReadonlyMap<string, AggregateRecord>): AggregateMismatch[] {
  const out: AggregateMismatch[] = [];
  const ids = new Set([...recount.expected.keys(), ...stored.keys()]);
  for (const id of [...ids].sort()) {
    if (recount.unsettled.has(id)) continue;
    const want = recount.expected.get(id);
    const have = stored.get(id);
    const counters: AggregateMismatch['counters'] = {};
    for (const name of COUNTER_NAMES) {
      const e = want?.[name] ?? 0;
      const s = have?.[name] ?? 0;
      if (e !== s) counters[name] = { expected: e, stored: s };
    }
    if (Object.keys(counters).length > 0) out.push({ id, key: keyOf((want ?? have) as AggregateRecord), counters });
  }
  return out;
}

const keyOf = (r: AggregateRecord): AggregateKey => ({
  day: r.day,
  department: r.department,
  category: r.category,
  street: r.street,
  channel: r.channel,
});
