/**
 * `cityloop verify [--grace M] [--json] [--queues [--peek N]] [--repair] [--table T] [--segments N]`
 *
 * Reconciliation over the whole store (see core/reconcile.ts): every accepted report (`RPT#` item) ends on exactly
 * one existing case (its own `CASE#<trackingNo>`, or its `caseId`), no two cases claim one report, every case is
 * opened by a stored report, and every case version older than the grace period is announced (`announcedVersion <
 * version` is listed as owed). With `--queues`, the department queues are peeked for events addressed to another
 * department (a routing fault). Prints each violation; exits 1 when there is one, 0 when the store is clean.
 *
 * Target: the running local stack by default (its `stack.json`); AWS with the usual credentials and `--table`
 * (or TABLE_NAME), queue URLs from `QUEUE_URL_<ID>` env (the names the functions use), the bus from EVENT_BUS_NAME.
 *
 * Cost: a paginated, parallel Scan of the table (`--segments`, default 4), reading only the report and case items'
 * key, version and document attributes. Fine for an operator tool run now and then (a million cases is a few GB
 * read, i.e. well under a dollar on demand); not something to run every minute.
 *
 * `--peek` receives up to N messages per queue with a short visibility timeout and releases them at once; each peek
 * counts as a receive (ApproximateReceiveCount), and a department queue moves a message to its DLQ after 5, so do
 * not peek the same queue in a loop.
 *
 * `--repair`: re-queues reports without a case older than the grace period to the intake queue (triage is
 * idempotent), and re-announces overdue owed versions (consumers drop repeats by eventId). Run verify again after.
 *
 * `--metrics`: 考核数据对账. Recounts the daily aggregates (办结率, 按时办结率, 当日清, satisfaction …) from the cases
 * read by the same Scan (core/sla/recount.ts) and compares them with the stored ones (one Query per month of the days
 * the cases count on). A count that was never applied (a department's step whose count failed, see
 * docs/reliability.md) shows here as AGGREGATE_MISMATCH. Items a case changed within the grace period counts on are
 * not compared. With `--repair`, each
 * mismatched item is set to the recount in one conditional UpdateItem (skipped when a live transition changed it
 * meanwhile: run again).
 *
 * Two checks on the case items themselves, always made (same Scan):
 * - `METRICS_OWED`: a case still owes the daily aggregates a transition (`metricsOwed`, see core/sla/case-metrics.ts)
 *   and its last change is older than the grace period: a count that never finished (the writer stopped between its
 *   write and its count, or the count failed). Within the grace period it is listed as 待计数 (a writer may be at it).
 *   `--repair` counts it (`countOwed`: idempotent per aggregate item by token) and drops it (`markSettled` counted).
 * - `STALE_INDEX_KEYS`: a case item whose index attributes (gsi3, due, reqday, pending) differ from what the store
 *   writes for that case today (`caseIndexAttributes`), e.g. a case written before an index existed. `--repair`
 *   rewrites the case unchanged (`replaceCase` at the same version, which recomputes the keys): the backfill to run
 *   after deploying a new index (docs/reliability.md).
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CASE_INDEX_ATTRIBUTES, caseIndexAttributes, DynamoStore, readCase } from '#adapters/dynamo/store.ts';
import { sqsClientConfig } from '#adapters/sqs/queue.ts';
import type { IsoDate } from '#core/calendar/shanghai-time.ts';
import { type Case, owesMetrics } from '#core/case.ts';
import { INTAKE_QUEUE, type IntakeMessage } from '#core/intake/accept.ts';
import type { StoredReport } from '#core/ports.ts';
import {
  type CaseFacts,
  checkQueues,
  type QueueCheck,
  type QueuedCaseMessage,
  type Reconciliation,
  type ReportFacts,
  reconcile,
} from '#core/reconcile.ts';
import { countOwed } from '#core/sla/case-metrics.ts';
import { type AggregateRecord, aggregateId } from '#core/sla/metrics.ts';
import { type AggregateMismatch, compareAggregates, type Recount, recountAggregates } from '#core/sla/recount.ts';
import { owedEvents } from '#core/sla/sweep-task.ts';
import { defaultDepartments, departmentName } from '#core/taxonomy/defaults.ts';
import { buildTopology, queueEnvName } from '#core/topology.ts';
import { int, parseArgs, str, UsageError } from '../lib/args.ts';
import { localStackInfo, useLocalStack } from '../lib/stack.ts';

export const summary = '对账 verify: every accepted report ends on exactly one case, announced; exit 1 on a violation';

export const USAGE = `用法 usage:
  cityloop verify [--grace minutes (15)] [--json] [--queues] [--peek N (50)] [--metrics] [--repair]
                  [--table T] [--segments N (4)]
  Local stack by default; AWS with --table (or TABLE_NAME), QUEUE_URL_<ID> and EVENT_BUS_NAME env.
  Codes: REPORT_WITHOUT_CASE, REPORT_ON_TWO_CASES, TRACKING_NO_REUSED, CASE_WITHOUT_REPORT, ANNOUNCEMENT_OWED,
  METRICS_OWED (考核数据未计入, older than --grace), STALE_INDEX_KEYS (索引键过期: --repair rewrites the case, the
  backfill after a new index), MISROUTED_MESSAGE (--queues), AGGREGATE_MISMATCH (--metrics).`;

export interface StoreSnapshot {
  reports: ReportFacts[];
  cases: CaseFacts[];
  /** What the case items themselves owe or lack (`METRICS_OWED`, `STALE_INDEX_KEYS`), one per readable case item. */
  caseItems: CaseItemFacts[];
  /** Items read (pages × items), for the report. */
  scanned: number;
}

/** One report item (`RPT#…`/`RPT`) as reconciliation sees it. */
export function reportFactsOf(item: Record<string, unknown>): ReportFacts | undefined {
  try {
    const doc = JSON.parse(String(item.doc)) as StoredReport;
    if (typeof doc?.trackingNo !== 'string') return undefined;
    const caseId = typeof item.caseId === 'string' ? item.caseId : doc.caseId;
    const relation = typeof item.relation === 'string' ? item.relation : doc.relation;
    return {
      trackingNo: doc.trackingNo,
      idemKey: doc.idemKey ?? String(item.pk).slice(4),
      acceptedAt: doc.acceptedAt,
      ...(caseId ? { caseId } : {}),
      ...(relation ? { relation } : {}),
    };
  } catch {
    return undefined;
  }
}

/** One case item (`CASE#…`/`CASE`) as reconciliation sees it. */
export function caseFactsOf(item: Record<string, unknown>): CaseFacts | undefined {
  try {
    const doc = JSON.parse(String(item.doc)) as Case;
    if (typeof doc?.caseId !== 'string') return undefined;
    return {
      caseId: doc.caseId,
      trackingNo: doc.trackingNo,
      version: Number(item.version ?? doc.version),
      announcedVersion: Number(item.announcedVersion ?? 0),
      updatedAt: doc.updatedAt,
      state: String(item.state ?? doc.state),
      ...(doc.department ? { department: doc.department } : {}),
      reporters: (doc.reporters ?? []).map((r) => r.trackingNo).filter((tn): tn is string => typeof tn === 'string'),
    };
  } catch {
    return undefined;
  }
}

/** A case item's own state: what it owes the daily aggregates, and which of its index attributes are stale. */
export interface CaseItemFacts {
  caseId: string;
  trackingNo: string;
  version: number;
  updatedAt: string;
  /** Transitions still owed to the daily aggregates (`metricsOwed`); 0: all counted. */
  metricsOwed: number;
  /** Index attributes whose stored value differs from what the store writes for this case now (absent counts). */
  staleKeys: string[];
}

/** One case item's `CaseItemFacts`: its owed counts, and its index attributes compared with `caseIndexAttributes`. */
export function caseItemFactsOf(item: Record<string, unknown>): CaseItemFacts | undefined {
  try {
    const c = readCase(item);
    if (typeof c?.caseId !== 'string') return undefined;
    const expected: Record<string, string | undefined> = caseIndexAttributes(c);
    const staleKeys = CASE_INDEX_ATTRIBUTES.filter((name) => (item[name] ?? undefined) !== expected[name]);
    return {
      caseId: c.caseId,
      trackingNo: c.trackingNo,
      version: Number(item.version ?? c.version),
      updatedAt: c.updatedAt,
      metricsOwed: c.metricsOwed?.length ?? 0,
      staleKeys,
    };
  } catch {
    return undefined;
  }
}

export type CaseItemViolationKind = 'METRICS_OWED' | 'STALE_INDEX_KEYS';

export interface CaseItemViolation {
  kind: CaseItemViolationKind;
  caseId: string;
  trackingNo: string;
  /** STALE_INDEX_KEYS: the attributes that differ. */
  keys?: string[];
  message: string;
}

export interface CaseItemCheck {
  violations: CaseItemViolation[];
  /** Cases that owe counts but changed within the grace period (a writer may still be counting): not violations. */
  countsPending: CaseItemFacts[];
}

/**
 * `METRICS_OWED` for a case owing counts whose last change is older than `graceMinutes` (an unreadable `updatedAt`
 * counts as old); `STALE_INDEX_KEYS` for a case item whose index attributes are stale, whatever its age (the keys are
 * written with the case in one put: no writer is ever between the two).
 */
export function checkCaseItems(
  items: readonly CaseItemFacts[],
  opts: { now: Date; graceMinutes?: number },
): CaseItemCheck {
  const since = opts.now.getTime() - (opts.graceMinutes ?? 15) * 60_000;
  const violations: CaseItemViolation[] = [];
  const countsPending: CaseItemFacts[] = [];
  for (const c of items) {
    if (c.metricsOwed > 0) {
      const changed = Date.parse(c.updatedAt);
      if (Number.isFinite(changed) && changed > since) countsPending.push(c);
      else {
        violations.push({
          kind: 'METRICS_OWED',
          caseId: c.caseId,
          trackingNo: c.trackingNo,
          message: `工单 ${c.caseId} 第 ${c.version} 版自 ${c.updatedAt} 起考核数据未计入 ${c.metricsOwed} transition(s) not counted into the daily aggregates`,
        });
      }
    }
    if (c.staleKeys.length > 0) {
      violations.push({
        kind: 'STALE_INDEX_KEYS',
        caseId: c.caseId,
        trackingNo: c.trackingNo,
        keys: c.staleKeys,
        message: `工单 ${c.caseId} 索引键过期 index attributes differ from what the store writes now: ${c.staleKeys.join(', ')}`,
      });
    }
  }
  countsPending.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
  return { violations, countsPending };
}

/**
 * `--repair` of the case items: counts what an overdue case owes (`countOwed`, idempotent by token) and marks it
 * counted; rewrites a case with stale index keys unchanged at its version (`replaceCase` recomputes the keys). Each
 * reads the case again first: one that moved on since the Scan is repaired as it is now, or skipped when it changed
 * between that read and the write (run again).
 */
export async function repairCaseItems(store: DynamoStore, violations: readonly CaseItemViolation[]): Promise<string[]> {
  const done: string[] = [];
  for (const v of violations) {
    const c = await store.getCase(v.caseId);
    if (!c) continue;
    if (v.kind === 'METRICS_OWED') {
      if (!owesMetrics(c)) continue;
      try {
        await countOwed(store, [c]);
      } catch (e) {
        done.push(`count failed ${c.caseId}: ${String(e)}`);
        continue;
      }
      await store.markSettled(c.caseId, c.version, { counted: true });
      done.push(`counted ${c.caseId} v${c.version}`);
    } else if (await store.replaceCase(c, c.version)) {
      done.push(`reindexed ${c.caseId} v${c.version}`);
    } else {
      done.push(`reindex skipped ${c.caseId} (changed meanwhile: run again)`);
    }
  }
  return done;
}

/** Reads every report and case item: a paginated Scan in `segments` parallel segments. */
export async function scanStore(
  db: DynamoDBClient,
  table: string,
  segments = 4,
  /** Called with every readable case document (`--metrics` recounts from them). */
  onCase?: (c: Case) => void,
): Promise<StoreSnapshot> {
  const reports: ReportFacts[] = [];
  const cases: CaseFacts[] = [];
  const caseItems: CaseItemFacts[] = [];
  let scanned = 0;
  const unreadable: string[] = [];
  const segment = async (n: number) => {
    let start: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const page: ScanCommandOutput = await db.send(
        new ScanCommand({
          TableName: table,
          Segment: n,
          TotalSegments: segments,
          FilterExpression: '#sk = :rpt OR #sk = :case',
          ProjectionExpression: ['#pk, #sk, #doc, #v, #av, #st, #cid, #rel, #mo', ...INDEX_NAMES.keys()].join(', '),
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#sk': 'sk',
            '#doc': 'doc',
            '#v': 'version',
            '#av': 'announcedVersion',
            '#st': 'state',
            '#cid': 'caseId',
            '#rel': 'relation',
            '#mo': 'metricsOwed',
            ...Object.fromEntries(INDEX_NAMES),
          },
          ExpressionAttributeValues: { ':rpt': { S: 'RPT' }, ':case': { S: 'CASE' } },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      scanned += page.ScannedCount ?? 0;
      for (const raw of page.Items ?? []) {
        const item = unmarshall(raw);
        if (item.sk === 'RPT' && String(item.pk).startsWith('RPT#')) {
          const r = reportFactsOf(item);
          if (r) reports.push(r);
          else unreadable.push(String(item.pk));
        } else if (item.sk === 'CASE' && String(item.pk).startsWith('CASE#')) {
          const c = caseFactsOf(item);
          const own = c ? caseItemFactsOf(item) : undefined;
          if (c && own) {
            cases.push(c);
            caseItems.push(own);
            if (onCase) onCase(JSON.parse(String(item.doc)) as Case);
          } else unreadable.push(String(item.pk));
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
  };
  await Promise.all(Array.from({ length: segments }, (_, n) => segment(n)));
  if (unreadable.length > 0) {
    process.stderr.write(
      `无法解析的记录 unreadable items (${unreadable.length}): ${unreadable.slice(0, 5).join(', ')}\n`,
    );
  }
  return { reports, cases, caseItems, scanned };
}

/** Placeholder names of the case items' index attributes in the Scan's projection (`#i0` → `gsi3pk` …). */
const INDEX_NAMES = new Map<string, string>(CASE_INDEX_ATTRIBUTES.map((name, i) => [`#i${i}`, name]));

/** Department of a department queue id (`dept-<id>`), from the topology. */
function queueDepartments(): Map<string, string> {
  const topology = buildTopology(defaultDepartments);
  return new Map(
    topology.queues.filter((q) => q.kind === 'department' && q.department).map((q) => [q.id, q.department!]),
  );
}

/** Reads an EventBridge envelope (as a rule target receives it) into what the routing check needs. */
export function queuedMessageOf(queueId: string, queueDepartment: string | undefined, body: string): QueuedCaseMessage {
  const out: QueuedCaseMessage = { queueId, ...(queueDepartment ? { queueDepartment } : {}) };
  try {
    const e = JSON.parse(body) as { 'detail-type'?: unknown; detail?: Record<string, unknown> };
    const d = e.detail ?? {};
    if (typeof d.eventId === 'string') out.eventId = d.eventId;
    if (typeof d.caseId === 'string') out.caseId = d.caseId;
    if (typeof d.department === 'string') out.department = d.department;
    if (typeof e['detail-type'] === 'string') out.detailType = e['detail-type'];
  } catch {
    // not an event: counted as unknown
  }
  return out;
}

/**
 * Messages looked at are made visible again after this many seconds rather than 0: the local SQS emulator (fauxqs
 * 2.4 with persistence) drops a message released with a visibility timeout of 0 (its SQLite update fails); 1 s works
 * the same everywhere.
 */
const RELEASE_SECONDS = 1;

/**
 * Receives up to `max` messages with a short visibility timeout, then makes them visible again at once.
 * Each peek counts as a receive on the message (see the header).
 */
export async function peekQueue(sqs: SQSClient, url: string, max: number): Promise<string[]> {
  const bodies: string[] = [];
  const handles: string[] = [];
  try {
    for (let round = 0; bodies.length < max && round < Math.ceil(max / 10) + 2; round++) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, max - bodies.length),
          VisibilityTimeout: 30,
          WaitTimeSeconds: 0,
        }),
      );
      const got = out.Messages ?? [];
      if (got.length === 0) break;
      for (const m of got) {
        bodies.push(m.Body ?? '');
        if (m.ReceiptHandle) handles.push(m.ReceiptHandle);
      }
    }
  } finally {
    for (let i = 0; i < handles.length; i += 10) {
      await sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: url,
            Entries: handles
              .slice(i, i + 10)
              .map((h, k) => ({ Id: String(k), ReceiptHandle: h, VisibilityTimeout: RELEASE_SECONDS })),
          }),
        )
        .catch(() => undefined);
    }
  }
  return bodies;
}

interface Target {
  table: string;
  queueUrl: (queueId: string) => string | undefined;
  local: boolean;
}

function resolveTarget(tableFlag: string | undefined): Target {
  if (tableFlag) {
    return { table: tableFlag, queueUrl: (id) => process.env[queueEnvName(id)], local: false };
  }
  const info = localStackInfo();
  if (!info) {
    if (process.env.TABLE_NAME) {
      return { table: process.env.TABLE_NAME, queueUrl: (id) => process.env[queueEnvName(id)], local: false };
    }
    throw new UsageError(
      '找不到本地运行的系统 no local stack found (run `npm start`, or set CITYLOOP_DATA_DIR); for AWS pass --table',
    );
  }
  useLocalStack(info);
  for (const [id, url] of Object.entries(info.queues)) process.env[queueEnvName(id)] ??= url;
  return { table: info.tableName, queueUrl: (id) => process.env[queueEnvName(id)] ?? info.queues[id], local: true };
}

async function checkDepartmentQueues(
  target: Target,
  cases: CaseFacts[],
  peek: number,
): Promise<QueueCheck & { peeked: number; missing: string[] }> {
  const sqs = new SQSClient(sqsClientConfig());
  const departments = queueDepartments();
  const messages: QueuedCaseMessage[] = [];
  const missing: string[] = [];
  for (const [queueId, department] of departments) {
    const url = target.queueUrl(queueId);
    if (!url) {
      missing.push(queueId);
      continue;
    }
    for (const body of await peekQueue(sqs, url, peek)) messages.push(queuedMessageOf(queueId, department, body));
  }
  const byId = new Map(cases.map((c) => [c.caseId, c]));
  return { ...checkQueues(messages, byId), peeked: messages.length, missing };
}

async function repair(target: Target, rec: Reconciliation, snapshot: StoreSnapshot): Promise<string[]> {
  const { getRuntime } = await import('#functions/lib/runtime.ts');
  process.env.TABLE_NAME ??= target.table;
  const intakeUrl = target.queueUrl(INTAKE_QUEUE);
  if (intakeUrl) process.env[queueEnvName(INTAKE_QUEUE)] = intakeUrl;
  const rt = getRuntime();
  const done: string[] = [];
  const byTn = new Map(snapshot.reports.map((r) => [r.trackingNo, r]));
  for (const v of rec.violations) {
    if (v.kind === 'REPORT_WITHOUT_CASE' && v.trackingNo) {
      if (!intakeUrl) throw new UsageError(`--repair needs the intake queue URL (${queueEnvName(INTAKE_QUEUE)})`);
      const facts = byTn.get(v.trackingNo);
      const report = facts ? await rt.store.getReportByIdemKey(facts.idemKey) : undefined;
      if (!report) continue;
      const msg: IntakeMessage = { report };
      await rt.queue.send(INTAKE_QUEUE, [JSON.stringify(msg)]);
      done.push(`requeued ${v.trackingNo}`);
    } else if (v.kind === 'ANNOUNCEMENT_OWED' && v.caseId) {
      const c = await rt.store.getCase(v.caseId);
      const events = c ? owedEvents(c, departmentName) : [];
      if (!c || events.length === 0) continue;
      const { failed } = await rt.bus.publish(events);
      if (failed.length > 0) {
        done.push(`announce failed ${c.caseId}`);
        continue;
      }
      try {
        await rt.store.markAnnounced(c.caseId, c.version);
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      }
      done.push(`announced ${c.caseId} v${c.version}`);
    }
  }
  return done;
}

interface MetricsCheck {
  cases: number;
  items: number;
  unsettled: number;
  mismatches: AggregateMismatch[];
}

/** The stored aggregates of every day the recount counts on (a Query per month), compared with it. */
async function checkMetrics(db: DynamoDBClient, table: string, recount: Recount): Promise<MetricsCheck> {
  const days = [...recount.expected.values()].map((r) => r.day).sort();
  const stored = new Map<string, AggregateRecord>();
  if (days.length > 0) {
    const store = new DynamoStore(db, table);
    for (const r of await store.listAggregates(days[0] as IsoDate, days.at(-1) as IsoDate)) {
      stored.set(aggregateId(r), r);
    }
  }
  return {
    cases: recount.cases,
    items: new Set([...recount.expected.keys(), ...stored.keys()]).size,
    unsettled: recount.unsettled.size,
    mismatches: compareAggregates(recount, stored),
  };
}

function mismatchLine(m: AggregateMismatch): string {
  const where = [m.key.department, m.key.category, m.key.street, m.key.channel].join('/');
  const what = Object.entries(m.counters)
    .map(([name, c]) => `${name} 存 stored ${c?.stored} ≠ 应 recount ${c?.expected}`)
    .join('，');
  return `✗ AGGREGATE_MISMATCH ${m.key.day} ${where}: ${what}`;
}

export async function run(args: string[]): Promise<number> {
  let p: ReturnType<typeof parseArgs>;
  try {
    p = parseArgs(args, {
      values: ['grace', 'peek', 'table', 'segments'],
      booleans: ['json', 'queues', 'repair', 'metrics'],
    });
    if (p.positionals.length > 0) throw new UsageError(`unexpected argument ${p.positionals[0]}`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const grace = int(p, 'grace', 15);
    const peek = int(p, 'peek', 50);
    const segments = Math.max(1, Math.min(int(p, 'segments', 4), 64));
    const asJson = p.flags.json === true;
    const target = resolveTarget(str(p, 'table'));
    const db = new DynamoDBClient({ maxAttempts: 8 });
    const now = new Date();
    const wantMetrics = p.flags.metrics === true;
    const casesForMetrics: Case[] = [];
    const snapshot = await scanStore(
      db,
      target.table,
      segments,
      wantMetrics ? (c) => casesForMetrics.push(c) : undefined,
    );
    const rec = reconcile(snapshot.reports, snapshot.cases, { now, graceMinutes: grace });
    const own = checkCaseItems(snapshot.caseItems, { now, graceMinutes: grace });
    const queues = p.flags.queues === true ? await checkDepartmentQueues(target, snapshot.cases, peek) : undefined;
    const repaired = p.flags.repair === true ? await repair(target, rec, snapshot) : [];
    // Before `--metrics` compares: a count made here is then in the stored aggregates.
    if (p.flags.repair === true) {
      repaired.push(...(await repairCaseItems(new DynamoStore(db, target.table), own.violations)));
    }
    const violations = [...rec.violations, ...own.violations];
    const owedCounts = own.violations.filter((v) => v.kind === 'METRICS_OWED').length;
    const staleIndex = own.violations.length - owedCounts;
    let metrics: MetricsCheck | undefined;
    if (wantMetrics) {
      const since = now.getTime() - grace * 60_000;
      const recount = recountAggregates(casesForMetrics, {
        unsettled: (c) => !(Date.parse(c.updatedAt) <= since),
      });
      metrics = await checkMetrics(db, target.table, recount);
      if (p.flags.repair === true && metrics.mismatches.length > 0) {
        const store = new DynamoStore(db, target.table);
        const left: AggregateMismatch[] = [];
        for (const m of metrics.mismatches) {
          if (await store.correctAggregate(m.id, m.key, m.counters)) repaired.push(`recounted ${m.id}`);
          else left.push(m);
        }
        metrics.mismatches = left;
      }
    }
    const misrouted = queues?.misrouted.length ?? 0;
    const failed = violations.length + misrouted + (metrics?.mismatches.length ?? 0);
    if (asJson) {
      process.stdout.write(
        `${JSON.stringify({
          ok: failed === 0,
          table: target.table,
          reports: rec.reports,
          cases: rec.cases,
          settled: rec.settled,
          pending: rec.pending,
          owed: rec.owed,
          countsPending: own.countsPending.map((c) => ({
            caseId: c.caseId,
            version: c.version,
            updatedAt: c.updatedAt,
          })),
          violations,
          ...(queues
            ? {
                queues: {
                  peeked: queues.peeked,
                  misrouted: queues.misrouted,
                  stale: queues.stale.length,
                  unknown: queues.unknown.length,
                  repeats: queues.repeats,
                  missing: queues.missing,
                },
              }
            : {}),
          ...(metrics ? { metrics } : {}),
          ...(repaired.length ? { repaired } : {}),
        })}\n`,
      );
    } else {
      for (const v of violations) process.stdout.write(`✗ ${v.kind} ${v.message}\n`);
      for (const m of queues?.misrouted ?? []) {
        process.stdout.write(
          `✗ MISROUTED_MESSAGE 队列 ${m.queueId} 收到发往 ${m.department} 的事件 ${m.eventId ?? '?'} (case ${m.caseId ?? '?'})\n`,
        );
      }
      for (const o of rec.owed.filter((x) => !x.overdue)) {
        process.stdout.write(
          `… 待通知 owed ${o.caseId} v${o.version} (announced ${o.announcedVersion}) since ${o.updatedAt}\n`,
        );
      }
      for (const c of own.countsPending) {
        process.stdout.write(
          `… 待计数 counts owed ${c.caseId} v${c.version} (${c.metricsOwed}) since ${c.updatedAt}\n`,
        );
      }
      for (const m of metrics?.mismatches ?? []) process.stdout.write(`${mismatchLine(m)}\n`);
      for (const r of repaired) process.stdout.write(`↻ ${r}\n`);
      const q = queues
        ? `；队列 peeked ${queues.peeked}, 错投 misrouted ${misrouted}, 已改派 stale ${queues.stale.length}, 重复投递 repeats ${queues.repeats}${queues.missing.length ? `, no URL for ${queues.missing.join(' ')}` : ''}`
        : '';
      const mq = metrics
        ? `；考核数据 aggregates ${metrics.items} items from ${metrics.cases} cases, 不符 mismatched ${metrics.mismatches.length}, 未结 unsettled ${metrics.unsettled}`
        : '';
      process.stdout.write(
        `${failed === 0 ? '✓' : '✗'} 诉求 reports ${rec.reports}，工单 cases ${rec.cases}，已落实 settled ${rec.settled}，` +
          `待分拨 pending ${rec.pending.length}，待通知 owed ${rec.owed.length}，` +
          `考核未计 metrics owed ${owedCounts + own.countsPending.length} (overdue ${owedCounts})，` +
          `索引过期 stale index ${staleIndex}，违规 violations ${failed}${q}${mq} ` +
          `(table ${target.table}, ${snapshot.scanned} items scanned, grace ${grace} min)\n`,
      );
    }
    return failed === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}
