/**
 * The single-table DynamoDB store (layout in core/topology.ts). Each item keeps its full document as JSON in `doc`
 * plus the few top-level attributes that conditions and indexes need (`version`, `state`, key attributes).
 * Every change is one conditional single-item write: no transactions (they cost double, and dynalite lacks them).
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { dateOfDay, dayNumber, type IsoDate } from '#core/calendar/shanghai-time.ts';
import type { Case, MetricsOwed } from '#core/case.ts';
import { requestDayKeys } from '#core/case-index.ts';
import { badCursor, decodeCursor, encodeCursor } from '#core/cursor.ts';
import { caseIdFor } from '#core/ids.ts';
import { ENDED_STATES } from '#core/lifecycle/states.ts';
import type {
  CasePage,
  CaseStore,
  DepartmentListOptions,
  PutCaseResult,
  PutReportResult,
  ReportCursor,
  ReportStore,
  SequenceStore,
  Settled,
  StoredReport,
} from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import type { AggregateSink } from '#core/sla/case-metrics.ts';
import { caseDueKey, dueShardPk } from '#core/sla/due-key.ts';
import {
  type AggregateDelta,
  type AggregateKey,
  type AggregateRecord,
  COUNTER_NAMES,
  DIMENSIONS,
} from '#core/sla/metrics.ts';
import type { DueCursor, DuePage } from '#core/sla/sweep-task.ts';

const reportPk = (idemKey: string) => `RPT#${idemKey}`;
const casePk = (caseId: string) => `CASE#${caseId}`;

/** `<state>#<due or received>`: a department's list sorted by deadline within a state. */
export const deptSortKey = (c: Case): string => {
  const due = (c.deadlines as { resolveDue?: string } | undefined)?.resolveDue ?? c.receivedAt;
  return `${c.state}#${due}#${c.caseId}`;
};

/**
 * A department list's next page, for a client: the department index's sort key of the last case read (state, deadline
 * and case id, no personal data), base64url. The rest of the index key follows from it (`CASE#<id>`, `CASE`).
 */
function encodeDepartmentCursor(last: Record<string, unknown>): string {
  return encodeCursor(String(last.gsi3sk));
}

/**
 * The start key of a cursor from `encodeDepartmentCursor`, checked: it must be a sort key of this department's index
 * inside the range being read (`inRange`), so a cursor cannot read another state's or department's cases.
 */
function decodeDepartmentCursor(
  cursor: string,
  gsi3pk: string,
  inRange: (sk: string) => boolean,
): Record<string, string> {
  const sk = decodeCursor(cursor);
  const caseId = sk.slice(sk.lastIndexOf('#') + 1);
  if (!/^[^#\s]+#[^#\s]+#[^#\s]+$/.test(sk) || !inRange(sk)) throw badCursor();
  return { gsi3pk, gsi3sk: sk, pk: casePk(caseId), sk: 'CASE' };
}

/** The start key of a cursor of `listPendingRequests` (the pending index's sort key of the last case read), checked. */
function decodePendingCursor(cursor: string, pendPk: string): Record<string, string> {
  const sk = decodeCursor(cursor);
  if (!/^[^#\s]+#[^#\s]+$/.test(sk)) throw badCursor();
  return { pendPk, pendSk: sk, pk: casePk(sk.slice(sk.indexOf('#') + 1)), sk: 'CASE' };
}

/** Daily aggregates (考核评价): one item per (day, department, category, street, channel), read by day. */
/**
 * Daily aggregates live in one partition per month, sorted by day: a report over 30 days is one or two Queries (one
 * per day was 30 round trips, most of the metrics function's first answer). Writes of a month share a partition; at
 * two or three small updates per report that stays far below a partition's 1,000 writes a second, and DynamoDB splits
 * a hot partition on the sort key.
 */
const aggregatePk = (day: IsoDate) => `AGGMON#${day.slice(0, 7)}`;
const aggregateSk = (day: IsoDate, id: string) => `${day}#${id}`;
/** Reports read at most this many days (ten years) in one call. */
const MAX_REPORT_DAYS = 3660;

export class DynamoStore implements ReportStore, CaseStore, SequenceStore, AggregateSink {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  async putReportIfAbsent(report: StoredReport): Promise<PutReportResult> {
    const cit = citizenKey(report.request.citizen);
    const item = {
      pk: reportPk(report.idemKey),
      sk: 'RPT',
      gsi1pk: `TN#${report.trackingNo}`,
      gsi1sk: 'RPT',
      ...(cit ? { gsi2pk: `CIT#${cit}`, gsi2sk: report.acceptedAt } : {}),
      doc: JSON.stringify(report),
    };
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(item, { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(pk)',
          // A resubmission learns the stored report from the failed write itself (no read before the write).
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true, report };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const old = (e as { Item?: Record<string, AttributeValue> }).Item;
      // (Services that do not return the old item, such as dynalite, are read once.)
      const existing = old?.doc ? readReport(unmarshall(old)) : await this.getReportByIdemKey(report.idemKey);
      if (!existing) throw new Error(`report ${report.idemKey} exists but cannot be read`);
      return { created: false, report: await this.withOwnCase(existing) };
    }
  }

  /**
   * A report that opened its own case is not linked by triage (its case is named after it): when its case exists, the
   * resubmission is told so, and intake does not queue it for triage again. One small consistent read, only on a
   * resubmission, instead of a queued message and a second triage of the report.
   */
  private async withOwnCase(report: StoredReport): Promise<StoredReport> {
    if (report.caseId) return report;
    const caseId = caseIdFor(report.trackingNo);
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ pk: casePk(caseId), sk: 'CASE' }),
        ConsistentRead: true,
        ProjectionExpression: 'pk',
      }),
    );
    return out.Item ? { ...report, caseId } : report;
  }

  async getReportByIdemKey(idemKey: string): Promise<StoredReport | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ pk: reportPk(idemKey), sk: 'RPT' }),
        ConsistentRead: true,
      }),
    );
    return out.Item ? readReport(unmarshall(out.Item)) : undefined;
  }

  async getReportByTrackingNo(trackingNo: string): Promise<StoredReport | undefined> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': `TN#${trackingNo}` }),
        Limit: 1,
      }),
    );
    const item = out.Items?.[0];
    return item ? readReport(unmarshall(item)) : undefined;
  }

  async listReportsOfCitizen(key: string, limit = 20, after?: ReportCursor): Promise<StoredReport[]> {
    const pk = `CIT#${key}`;
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': pk }),
        ScanIndexForward: false,
        Limit: limit,
        // The partition is the caller's own citizen key: a cursor can only move within it.
        ...(after
          ? {
              ExclusiveStartKey: marshall({
                gsi2pk: pk,
                gsi2sk: after.acceptedAt,
                pk: reportPk(after.idemKey),
                sk: 'RPT',
              }),
            }
          : {}),
      }),
    );
    return (out.Items ?? []).map((i) => readReport(unmarshall(i)));
  }

  async linkReport(idemKey: string, caseId: string, relation: NonNullable<StoredReport['relation']>): Promise<void> {
    await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ pk: reportPk(idemKey), sk: 'RPT' }),
        UpdateExpression: 'SET caseId = :c, relation = :r',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: marshall({ ':c': caseId, ':r': relation }),
      }),
    );
  }

  async createCase(c: Case): Promise<PutCaseResult> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(caseItem(c), { removeUndefinedValues: true }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const existing = await this.getCase(c.caseId);
      if (!existing) throw new Error(`case ${c.caseId} exists but cannot be read`);
      return { created: false, existing };
    }
  }

  async getCase(caseId: string): Promise<Case | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ pk: casePk(caseId), sk: 'CASE' }),
        ConsistentRead: true,
      }),
    );
    return out.Item ? readCase(unmarshall(out.Item)) : undefined;
  }

  async replaceCase(c: Case, expectedVersion: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(caseItem(c), { removeUndefinedValues: true }),
          ConditionExpression: '#v = :expected',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: marshall({ ':expected': expectedVersion }),
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async markAnnounced(caseId: string, version: number): Promise<void> {
    await this.markSettled(caseId, version, { announced: true });
  }

  /**
   * ONE UpdateItem: `announcedVersion` to `version` and/or `metricsOwed` removed, on the condition that the case is
   * still at `version` (never marks a version a later write replaced; the mark never moves backwards).
   */
  async markSettled(caseId: string, version: number, settled: Settled): Promise<void> {
    if (!settled.announced && !settled.counted) return;
    const set = settled.announced ? ' SET announcedVersion = :v' : '';
    const remove = settled.counted ? ' REMOVE metricsOwed' : '';
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: casePk(caseId), sk: 'CASE' }),
          UpdateExpression: `${set}${remove}`.trim(),
          ConditionExpression: settled.counted
            ? '#v = :v'
            : '#v = :v AND (attribute_not_exists(announcedVersion) OR announcedVersion < :v)',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: marshall({ ':v': version }),
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  async listDepartmentCases(department: string, opts: DepartmentListOptions = {}): Promise<CasePage> {
    const range = opts.state === undefined ? opts.statesFrom : undefined;
    const limit = opts.limit ?? 100;
    const pk = `DEPT#${department}`;
    // The sort keys this read may return: a cursor must point inside them (it comes back from a client).
    const inRange = (sk: string) =>
      opts.state !== undefined
        ? sk.startsWith(`${opts.state}#`)
        : range
          ? sk >= `${range[0]}#` && sk <= `${range[1]}#\uffff`
          : true;
    const start = opts.after === undefined ? undefined : decodeDepartmentCursor(opts.after, pk, inRange);
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi3',
        KeyConditionExpression: opts.state
          ? 'gsi3pk = :pk AND begins_with(gsi3sk, :st)'
          : range
            ? 'gsi3pk = :pk AND gsi3sk BETWEEN :lo AND :hi'
            : 'gsi3pk = :pk',
        ExpressionAttributeValues: marshall({
          ':pk': pk,
          ...(opts.state ? { ':st': `${opts.state}#` } : {}),
          ...(range ? { ':lo': `${range[0]}#`, ':hi': `${range[1]}#\uffff` } : {}),
        }),
        // One more than asked: a full page then says for sure whether another follows (DynamoDB returns a
        // LastEvaluatedKey whenever Limit is reached, even on the last item).
        Limit: limit + 1,
        ScanIndexForward: !opts.newestFirst,
        ...(start ? { ExclusiveStartKey: marshall(start) } : {}),
      }),
    );
    const items = (out.Items ?? []).map((i) => unmarshall(i));
    const page = items.slice(0, limit);
    // More than asked: the next page starts after the last one kept. Fewer, with a LastEvaluatedKey: the 1 MB page
    // limit cut the read short, and it goes on from there.
    const next =
      items.length > limit ? page.at(-1) : out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey) : undefined;
    return { cases: page.map(readCase), ...(next ? { cursor: encodeDepartmentCursor(next) } : {}) };
  }

  /**
   * A department's open cases with a request waiting for a supervisor (the sparse `pending` index), the oldest
   * request first, one page; `cursor` (passed back as `after`, same department) gives the next. Eventually
   * consistent: a request decided a moment ago may still be listed (its case then has `pending` null).
   */
  async listPendingRequests(department: string, limit = 100, after?: string): Promise<CasePage> {
    const pk = `PEND#${department}`;
    const start = after === undefined ? undefined : decodePendingCursor(after, pk);
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'pending',
        KeyConditionExpression: 'pendPk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': pk }),
        // One more than asked, as in `listDepartmentCases`: a full page then says for sure whether another follows.
        Limit: limit + 1,
        ...(start ? { ExclusiveStartKey: marshall(start) } : {}),
      }),
    );
    const items = (out.Items ?? []).map((i) => unmarshall(i));
    const page = items.slice(0, limit);
    const next =
      items.length > limit ? page.at(-1) : out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey) : undefined;
    return { cases: page.map(readCase), ...(next ? { cursor: encodeCursor(String(next.pendSk)) } : {}) };
  }

  async reserveSequence(day: string, size: number): Promise<number> {
    const out = await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `SEQ#${day}`, sk: 'SEQ' }),
        UpdateExpression: 'ADD seq :n',
        ExpressionAttributeValues: marshall({ ':n': size }),
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const last = Number(out.Attributes?.seq?.N);
    if (!Number.isFinite(last)) throw new Error('sequence reservation returned no value');
    return last - size + 1;
  }

  /**
   * One page of the sparse due index (GSI `due`) of one shard: entries due at or before `upperBound`
   * (`dueQueryUpperBound(now)`), earliest first. Eventually consistent: the sweep re-reads each case.
   */
  async queryDue(shard: number, upperBound: string, limit: number, after?: DueCursor): Promise<DuePage> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'due',
        KeyConditionExpression: 'duePk = :pk AND dueSk <= :ub',
        ProjectionExpression: 'pk, sk, duePk, dueSk, #v',
        ExpressionAttributeNames: { '#v': 'version' },
        ExpressionAttributeValues: marshall({ ':pk': dueShardPk(shard), ':ub': upperBound }),
        Limit: limit,
        ...(after ? { ExclusiveStartKey: marshall(after) } : {}),
      }),
    );
    const entries = (out.Items ?? []).map((i) => {
      const item = unmarshall(i);
      const pk = String(item.pk);
      return {
        sk: String(item.dueSk),
        caseId: pk.startsWith('CASE#') ? pk.slice(5) : pk,
        version: typeof item.version === 'number' ? item.version : undefined,
      };
    });
    return { entries, cursor: out.LastEvaluatedKey ? unmarshall(out.LastEvaluatedKey) : undefined };
  }

  /**
   * ADDs each delta to its daily aggregate item (`AGGMON#<month>` / `<day>#<aggregate id>`), one UpdateItem per item, no
   * read. With a `token` (`<caseId>@<version>`), an item that already counted that transition, or a later one of the
   * same case, is skipped, so a retried transition counts once (`@<caseId>`, see `addToAggregate`).
   */
  async addToAggregates(
    deltas: readonly AggregateDelta[],
    token?: string,
  ): Promise<{ applied: number; skipped: number }> {
    let applied = 0;
    let skipped = 0;
    await Promise.all(
      deltas.map(async (d) => {
        if (!Object.values(d.counters).some(Boolean)) return;
        if (await this.addToAggregate(d, d.counters, token ? [token] : [])) applied++;
        else skipped++;
      }),
    );
    return { applied, skipped };
  }

  /**
   * The aggregates of several transitions (a triage batch's new cases, the steps a case owes): the deltas that fall on
   * one aggregate item are summed into ONE UpdateItem, on the condition that, for each case in it, the item has seen
   * none of the case's versions from the lowest one here on (`@<caseId>` absent or below it); it records the
   * highest. When that fails (a retry: some of them counted there before), that item is applied transition by
   * transition instead, IN VERSION ORDER per case (as the outbox owes them), each skipped where it or a later version of
   * its case is already counted: the same once-only result as `addToAggregates` per transition. The order matters:
   * applying version 5 before 4 would mark 4 as seen without counting it. A part that throws stops its item there
   * (later versions stay uncounted; the next try adds them).
   */
  async addTransitionsToAggregates(
    transitions: readonly { deltas: readonly AggregateDelta[]; token: string }[],
  ): Promise<{ applied: number; skipped: number }> {
    const byItem = new Map<string, { delta: AggregateDelta; parts: { delta: AggregateDelta; token: string }[] }>();
    for (const t of transitions) {
      for (const d of t.deltas) {
        if (!Object.values(d.counters).some(Boolean)) continue;
        const k = `${d.key.day}\n${d.id}`;
        const g = byItem.get(k) ?? { delta: d, parts: [] };
        g.parts.push({ delta: d, token: t.token });
        byItem.set(k, g);
      }
    }
    let applied = 0;
    let skipped = 0;
    await Promise.all(
      [...byItem.values()].map(async (g) => {
        const tokens = g.parts.map((p) => p.token);
        const sum: Record<string, number> = {};
        for (const p of g.parts) {
          for (const [name, n] of Object.entries(p.delta.counters)) if (n) sum[name] = (sum[name] ?? 0) + n;
        }
        // The same transition twice (a case listed twice) is never summed: one by one, the second is skipped.
        if (new Set(tokens).size === tokens.length && (await this.addToAggregate(g.delta, sum, tokens))) {
          applied += g.parts.length;
          return;
        }
        if (g.parts.length === 1) {
          skipped++;
          return;
        }
        // Stable: the parts of one case by version; other tokens (no version) first, as they were.
        const order = (token: string) => parseTransitionToken(token)?.version ?? 0;
        for (const p of [...g.parts].sort((a, b) => order(a.token) - order(b.token))) {
          if (await this.addToAggregate(p.delta, p.delta.counters, [p.token])) applied++;
          else skipped++;
        }
      }),
    );
    return { applied, skipped };
  }

  /**
   * ONE UpdateItem on the daily aggregate item of `d` (`AGGMON#<month>` / `<day>#<aggregate id>`) that ADDs the
   * counters, no read. False: skipped.
   *
   * Once-only: the item keeps, per case it counted, the highest version counted there, as a top-level attribute
   * `@<caseId>` (about 18 bytes per CASE with a 14-digit case id, where a token per transition grew it by about 17
   * bytes per TRANSITION: a case makes 3–8 transitions on its received-day item). A case's transitions reach an item in
   * version order (the outbox), so a transition to version v of case c applies iff `@c` is absent or below v, and sets
   * `@c = v` in the same update (condition + SET + ADD). A top-level attribute, not an entry of a map: DynamoDB refuses
   * to SET a path inside a map that does not exist yet, which would cost a second call on every item's first count.
   * Tokens that are not `<caseId>@<digits>` (a withdrawal's, ending in `-`) keep the former string set `applied`, and
   * every token is still checked against `applied` (absent: passes), so what items of the former scheme counted is
   * not counted again.
   */
  private async addToAggregate(
    d: AggregateDelta,
    counters: Readonly<Record<string, number | undefined>>,
    tokens: readonly string[],
  ): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    const add: string[] = [];
    for (const [i, [name, amount]] of Object.entries(counters).entries()) {
      if (!amount) continue;
      names[`#c${i}`] = name;
      values[`:c${i}`] = amount;
      add.push(`#c${i} :c${i}`);
    }
    if (add.length === 0) return false;
    // Per case: the lowest version here (the condition) and the highest (what the item records).
    const cases = new Map<string, { lo: number; hi: number }>();
    const unversioned: string[] = [];
    for (const t of tokens) {
      const p = parseTransitionToken(t);
      if (!p) {
        unversioned.push(t);
        continue;
      }
      const c = cases.get(p.caseId);
      cases.set(p.caseId, { lo: Math.min(c?.lo ?? p.version, p.version), hi: Math.max(c?.hi ?? p.version, p.version) });
    }
    const conditions: string[] = [];
    [...cases].forEach(([caseId, { lo, hi }], j) => {
      names[`#s${j}`] = `${SEEN_PREFIX}${caseId}`;
      values[`:v${j}`] = lo;
      conditions.push(`(attribute_not_exists(#s${j}) OR #s${j} < :v${j})`);
      if (hi === lo) set.push(`#s${j} = :v${j}`);
      else {
        values[`:w${j}`] = hi;
        set.push(`#s${j} = :w${j}`);
      }
    });
    if (tokens.length > 0) {
      names['#applied'] = 'applied';
      tokens.forEach((t, i) => {
        const name = tokens.length === 1 ? ':t' : `:t${i}`;
        values[name] = t;
        conditions.push(`NOT contains(#applied, ${name})`);
      });
    }
    if (unversioned.length > 0) {
      values[':tok'] = new Set(unversioned);
      add.push('#applied :tok');
    }
    return this.updateAggregate(d.key, d.id, { set, add, conditions, names, values });
  }

  /**
   * ONE UpdateItem `SET … ADD …` on the daily aggregate item `id` of `key`, which also SETs the key's day and dimensions
   * (an item is created by its first update), under `conditions` (if any); false when they failed.
   */
  private async updateAggregate(
    key: AggregateKey,
    id: string,
    u: {
      set: readonly string[];
      add: readonly string[];
      conditions: readonly string[];
      names: Record<string, string>;
      values: Record<string, unknown>;
    },
  ): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    for (const [i, f] of (['day', ...DIMENSIONS] as const).entries()) {
      names[`#k${i}`] = f;
      values[`:k${i}`] = key[f];
      set.push(`#k${i} = :k${i}`);
    }
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: aggregatePk(key.day), sk: aggregateSk(key.day, id) }),
          UpdateExpression: `SET ${[...set, ...u.set].join(', ')} ADD ${u.add.join(', ')}`,
          ...(u.conditions.length ? { ConditionExpression: u.conditions.join(' AND ') } : {}),
          ExpressionAttributeNames: { ...names, ...u.names },
          ExpressionAttributeValues: marshall({ ...values, ...u.values }),
        }),
      );
      return true;
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      return false;
    }
  }

  /**
   * Sets counters of one aggregate item to what a recount says (`cityloop verify --metrics --repair`): ONE UpdateItem
   * that ADDs each difference, on the condition that every counter still holds the value the recount compared with
   * (an item a live transition changed meanwhile is left alone: false, recount again). No token: a correction is not
   * a transition.
   */
  async correctAggregate(
    id: string,
    key: AggregateKey,
    counters: Readonly<Partial<Record<string, { expected: number; stored: number }>>>,
  ): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    const add: string[] = [];
    const conditions: string[] = [];
    for (const [i, [name, c]] of Object.entries(counters).entries()) {
      if (!c || c.expected === c.stored) continue;
      names[`#c${i}`] = name;
      values[`:d${i}`] = c.expected - c.stored;
      values[`:s${i}`] = c.stored;
      add.push(`#c${i} :d${i}`);
      conditions.push(c.stored === 0 ? `(attribute_not_exists(#c${i}) OR #c${i} = :s${i})` : `#c${i} = :s${i}`);
    }
    if (add.length === 0) return true;
    return this.updateAggregate(key, id, { set, add, conditions, names, values });
  }

  /**
   * Every daily aggregate of the days `from`..`to` (inclusive, YYYY-MM-DD): one Query per month touched (a sort-key
   * range of days), pages followed, months read in parallel; never a case read.
   */
  async listAggregates(from: IsoDate, to: IsoDate): Promise<AggregateRecord[]> {
    const first = dayNumber(from);
    const last = dayNumber(to);
    if (last < first) return [];
    if (last - first >= MAX_REPORT_DAYS) throw new RangeError(`at most ${MAX_REPORT_DAYS} days per report`);
    const fields = ['day', ...DIMENSIONS, ...COUNTER_NAMES];
    const names = Object.fromEntries(fields.map((f, i) => [`#f${i}`, f]));
    // The months of the period, each with its first and last day inside the period.
    const months = new Map<string, { from: IsoDate; to: IsoDate }>();
    for (let n = first; n <= last; n++) {
      const day = dateOfDay(n) as IsoDate;
      const m = months.get(day.slice(0, 7));
      if (m) m.to = day;
      else months.set(day.slice(0, 7), { from: day, to: day });
    }
    const out = await Promise.all(
      [...months.values()].map(async (range) => {
        const rows: AggregateRecord[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          const page = await this.db.send(
            new QueryCommand({
              TableName: this.table,
              // '$' sorts right after '#': every `<to>#<id>` is below `<to>$`.
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
              ProjectionExpression: Object.keys(names).join(', '),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: marshall({
                ':pk': aggregatePk(range.from),
                ':from': `${range.from}#`,
                ':to': `${range.to}$`,
              }),
              ...(start ? { ExclusiveStartKey: marshall(start) } : {}),
            }),
          );
          for (const item of page.Items ?? []) rows.push(readAggregate(unmarshall(item)));
          start = page.LastEvaluatedKey ? unmarshall(page.LastEvaluatedKey) : undefined;
        } while (start);
        return rows;
      }),
    );
    return out.flat();
  }
}

/** The attribute of an aggregate item holding the highest version of a case it counted: `@<caseId>`. */
const SEEN_PREFIX = '@';

/**
 * A transition's token `<caseId>@<version>` (`owedTransitions`, `metricsToken`) as the case and the version it wrote;
 * undefined for any other token (a withdrawal's ends in `-`), which keeps the string set `applied`.
 */
function parseTransitionToken(token: string): { caseId: string; version: number } | undefined {
  const m = /^(.+)@(\d{1,15})$/.exec(token);
  return m ? { caseId: m[1]!, version: Number(m[2]) } : undefined;
}

function readAggregate(item: Record<string, unknown>): AggregateRecord {
  const r = {
    day: String(item.day),
    department: String(item.department ?? '-'),
    category: String(item.category ?? '-'),
    street: String(item.street ?? '-'),
    channel: String(item.channel ?? '-'),
  } as AggregateRecord;
  for (const n of COUNTER_NAMES) r[n] = typeof item[n] === 'number' ? (item[n] as number) : 0;
  return r;
}

function caseItem(c: Case): Record<string, unknown> {
  const { announcedVersion, metricsOwed, ...doc } = c;
  return {
    pk: casePk(c.caseId),
    sk: 'CASE',
    version: c.version,
    state: c.state,
    announcedVersion,
    // Outside the document so that `markSettled` can drop it without rewriting the case.
    ...(metricsOwed?.length ? { metricsOwed } : {}),
    ...caseIndexAttributes(c),
    doc: JSON.stringify(doc),
  };
}

/** Index attributes of a case item (`CASE_INDEX_ATTRIBUTES`), absent when the case is not in that index. */
export type CaseIndexAttributes = Partial<Record<(typeof CASE_INDEX_ATTRIBUTES)[number], string>>;

/** Every index attribute a case item may carry (`cityloop verify` compares them, `local/provision.ts` re-derives them). */
export const CASE_INDEX_ATTRIBUTES = [
  'gsi3pk',
  'gsi3sk',
  'duePk',
  'dueSk',
  'reqDayPk',
  'reqDaySk',
  'pendPk',
  'pendSk',
] as const;

/**
 * The index attributes a case item carries, derived from the case alone (pure): what every write of the case stores,
 * so an item written before an index existed can be told (and rewritten) by comparing with it.
 */
export function caseIndexAttributes(c: Case): CaseIndexAttributes {
  return {
    ...(c.department ? { gsi3pk: `DEPT#${c.department}`, gsi3sk: deptSortKey(c) } : {}),
    // Sparse due index: only cases with a timer to come (or an alarm owed) carry a key; the sweep reads those.
    ...dueAttributes(c),
    // Listing by request day, newest change first (Open311 GET requests and servicerequestupdates).
    ...requestDayKeys(c),
    ...pendingAttributes(c),
  };
}

/**
 * Sparse index of the requests waiting for a supervisor (退单申请, 延期申请): only an open case of a department with a
 * pending request carries the keys, so the decision (approve or reject: `pending` back to null) takes it out.
 */
function pendingAttributes(c: Case): { pendPk?: string; pendSk?: string } {
  if (!c.pending || !c.department || ENDED_STATES.has(c.state)) return {};
  return { pendPk: `PEND#${c.department}`, pendSk: `${c.pending.requestedAt}#${c.caseId}` };
}

function dueAttributes(c: Case): { duePk?: string; dueSk?: string } {
  const due = caseDueKey(c);
  return due ? { duePk: due.pk, dueSk: due.sk } : {};
}

/** The case an item holds (an unmarshalled case item): the document, its announcement mark and the counts it owes. */
export function readCase(item: Record<string, unknown>): Case {
  const doc = JSON.parse(String(item.doc)) as Case;
  doc.announcedVersion = Number(item.announcedVersion ?? 0);
  if (Array.isArray(item.metricsOwed) && item.metricsOwed.length > 0)
    doc.metricsOwed = item.metricsOwed as MetricsOwed[];
  return doc;
}

function readReport(item: Record<string, unknown>): StoredReport {
  const doc = JSON.parse(String(item.doc)) as StoredReport;
  if (typeof item.caseId === 'string') doc.caseId = item.caseId;
  if (typeof item.relation === 'string') doc.relation = item.relation as StoredReport['relation'];
  return doc;
}
