/**
 * In-memory ports for the Open311 handler, so contract tests run without AWS: a store with the DynamoStore's
 * semantics (idempotent reports, versioned cases), a feed that uses the real GSI key function, and a stand-in triage
 * that opens cases with the production `openCase` (the classifier is replaced by "trust the hint": these tests are
 * about Open311, not classification).
 */

import { type CaseFeed, requestDayKeys } from '#channels/open311/feed.ts';
import { TokenBuckets } from '#channels/open311/rate-limit.ts';
import type { Case } from '#core/case.ts';
import { toShanghaiIso } from '#core/ids.ts';
import { acceptReport } from '#core/intake/accept.ts';
import { TrackingNumbers } from '#core/intake/tracking.ts';
import type {
  CaseStore,
  PutCaseResult,
  PutReportResult,
  ReportStore,
  SequenceStore,
  StoredReport,
  WorkQueue,
} from '#core/ports.ts';
import { defaultDepartments, defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { openCase } from '#core/triage/triage.ts';
import type { HttpEvent } from '#functions/lib/http.ts';
import type { Open311Deps } from '#functions/open311/api.ts';
import { loadOpen311Settings } from '#functions/open311/config.ts';
import { FMS_API_KEY } from './fixtures/fixmystreet.ts';

export class MemoryDb implements ReportStore, CaseStore, SequenceStore {
  readonly reports = new Map<string, StoredReport>();
  readonly cases = new Map<string, Case>();
  private readonly seq = new Map<string, number>();
  writes = 0;

  async putReportIfAbsent(report: StoredReport): Promise<PutReportResult> {
    const existing = this.reports.get(report.idemKey);
    if (existing) return { created: false, report: structuredClone(existing) };
    this.reports.set(report.idemKey, structuredClone(report));
    return { created: true, report };
  }
  async getReportByTrackingNo(tn: string) {
    const r = [...this.reports.values()].find((x) => x.trackingNo === tn);
    return r ? structuredClone(r) : undefined;
  }
  async getReportByIdemKey(key: string) {
    const r = this.reports.get(key);
    return r ? structuredClone(r) : undefined;
  }
  async linkReport(idemKey: string, caseId: string, relation: NonNullable<StoredReport['relation']>) {
    const r = this.reports.get(idemKey);
    if (r) Object.assign(r, { caseId, relation });
  }
  async createCase(c: Case): Promise<PutCaseResult> {
    const existing = this.cases.get(c.caseId);
    if (existing) return { created: false, existing: structuredClone(existing) };
    this.cases.set(c.caseId, structuredClone(c));
    return { created: true };
  }
  async getCase(caseId: string) {
    const c = this.cases.get(caseId);
    return c ? structuredClone(c) : undefined;
  }
  async replaceCase(c: Case, expectedVersion: number) {
    const cur = this.cases.get(c.caseId);
    if (!cur || cur.version !== expectedVersion) return false;
    this.writes++;
    this.cases.set(c.caseId, structuredClone(c));
    return true;
  }
  async markAnnounced() {}
  async markSettled() {}
  async listDepartmentCases() {
    return { cases: [] };
  }
  async reserveSequence(day: string, size: number) {
    const last = (this.seq.get(day) ?? 0) + size;
    this.seq.set(day, last);
    return last - size + 1;
  }
}

/** The feed over the memory store, keyed exactly as the GSI is (requestDayKeys). */
export class MemoryFeed implements CaseFeed {
  queries = 0;
  constructor(private readonly db: MemoryDb) {}
  async requestedOn(day: string) {
    this.queries++;
    return [...this.db.cases.values()]
      .filter((c) => requestDayKeys(c).reqDayPk === `REQDAY#${day}`)
      .map((c) => structuredClone(c));
  }
  async changedSince(day: string, since: string) {
    this.queries++;
    return [...this.db.cases.values()]
      .filter((c) => {
        const k = requestDayKeys(c);
        return k.reqDayPk === `REQDAY#${day}` && (k.reqDaySk ?? '') >= since;
      })
      .map((c) => structuredClone(c));
  }
}

export class MemoryQueue implements WorkQueue {
  readonly sent: { queue: string; body: string }[] = [];
  async send(queueId: string, bodies: string[]) {
    for (const body of bodies) this.sent.push({ queue: queueId, body });
  }
}

export class MemoryBlobs {
  readonly items = new Map<string, string>();
  async put(key: string, body: Uint8Array) {
    this.items.set(key, Buffer.from(body).toString('utf8'));
  }
  async get(key: string) {
    const v = this.items.get(key);
    return v === undefined ? undefined : Buffer.from(v, 'utf8');
  }
}

export interface Harness {
  deps: Open311Deps;
  db: MemoryDb;
  feed: MemoryFeed;
  queue: MemoryQueue;
  blobs: MemoryBlobs;
  clock: { t: number };
  /** Opens a case for every report that has none (production openCase, the hint as the category). */
  triage(): void;
  /** Moves a case to a state with a public history entry, as the lifecycle would (one versioned write). */
  change(caseId: string, to: Case['state'], text: string, minutesLater?: number): Promise<Case>;
}

export async function harness(opts: { env?: Record<string, string>; now?: string } = {}): Promise<Harness> {
  const db = new MemoryDb();
  const feed = new MemoryFeed(db);
  const queue = new MemoryQueue();
  const blobs = new MemoryBlobs();
  const clock = { t: Date.parse(opts.now ?? '2025-11-28T10:00:00+08:00') };
  const clockPort = { now: () => new Date(clock.t) };
  const settings = await loadOpen311Settings({ OPEN311_API_KEY: FMS_API_KEY, ...opts.env });
  const trackingNumbers = new TrackingNumbers(db);
  const names = new Map(defaultDepartments.map((d) => [d.id, d.name]));
  const categories = new Map(defaultTaxonomy.categories.map((c) => [c.code, c]));
  const deps: Open311Deps = {
    clock: clockPort,
    settings,
    limiter: new TokenBuckets(() => clock.t),
    accept: (request) => acceptReport({ store: db, queue, trackingNumbers, clock: clockPort }, request),
    store: db,
    feed,
    blobs,
    departmentName: (id) => names.get(id),
  };
  return {
    deps,
    db,
    feed,
    queue,
    blobs,
    clock,
    triage() {
      for (const r of db.reports.values()) {
        if (db.cases.has(r.caseId ?? r.trackingNo)) continue;
        const opened = openCase(r, {
          classify: (i) => ({ category: i.categoryHint, confidence: 0.9, decision: 'auto', reason: 'hint (test)' }),
          categories,
          departments: defaultDepartments,
          now: toShanghaiIso(new Date(clock.t)),
        });
        db.cases.set(opened.case.caseId, opened.case);
      }
    },
    async change(caseId, to, text, minutesLater = 30) {
      clock.t += minutesLater * 60_000;
      const c = db.cases.get(caseId);
      if (!c) throw new Error(`no case ${caseId}`);
      const at = toShanghaiIso(new Date(clock.t));
      const next: Case = {
        ...c,
        state: to,
        version: c.version + 1,
        updatedAt: at,
        history: [
          ...c.history,
          {
            at,
            version: c.version + 1,
            actor: { role: 'department', id: 'staff-007' },
            action: to === 'closed' ? 'approveClosure' : to === 'signed' ? 'sign' : 'resolve',
            from: c.state,
            to,
            department: c.department ?? null,
            text,
            visibility: 'public',
          },
          {
            at,
            version: c.version + 1,
            actor: { role: 'department', id: 'staff-007' },
            action: 'addNote',
            to,
            text: '内部备注：联系了张三 13912345678',
            visibility: 'internal',
          },
        ],
      };
      if (!(await db.replaceCase(next, c.version))) throw new Error('conflict');
      return next;
    },
  };
}

export function httpEvent(
  method: string,
  path: string,
  opts: { query?: string; body?: string; headers?: Record<string, string>; sourceIp?: string; base64?: boolean } = {},
): HttpEvent {
  return {
    version: '2.0',
    routeKey: `${method} /open311/v2/{proxy+}`,
    rawPath: `/open311/v2/${path}`,
    rawQueryString: opts.query ?? '',
    headers: { host: '127.0.0.1:8787', ...(opts.headers ?? {}) },
    pathParameters: { proxy: path },
    requestContext: {
      http: { method, path: `/open311/v2/${path}`, sourceIp: opts.sourceIp ?? '127.0.0.1' },
    } as HttpEvent['requestContext'],
    isBase64Encoded: opts.base64 ?? false,
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  };
}
