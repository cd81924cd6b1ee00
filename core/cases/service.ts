/**
 * The case lifecycle against the ports: load → map to the machine's snapshot → `applyAction` → ONE conditional write
 * of the whole case (expected version) with the audit record appended, the owed events and the owed counts recorded →
 * count → publish → mark both settled (one write) → tell the citizen when the step concerns them.
 *
 * - A lost race (someone changed the case since it was read, or since the caller read it: `expectedVersion`) is a
 *   409 CONFLICT and changes nothing; the caller re-reads and decides again.
 * - At-least-once announcements: events owed by an earlier version whose bus call failed are carried into the next
 *   write and published again with the new one, so a quick follow-up action never buries an unannounced re-dispatch.
 *   Each event keeps its deterministic `eventId` (`<caseId>:<version>:<detailType>`) for consumers to drop repeats.
 * - Every entry into `dispatched` (派单, 人工分拨, 改派, 重办) is `Case.Dispatched` with `detail.department`: the same
 *   per-department EventBridge rule routes it to the new department's queue.
 * - Who may see a case: a department only its own (another department's case is NOT_FOUND, exactly like a missing
 *   one, so ids do not leak); a citizen only the case they filed (same contact digest); supervisors, agents and the
 *   system all.
 */
import { type Case, owesMetrics } from '../case.ts';
import { CityLoopError } from '../errors.ts';
import { toShanghaiIso } from '../ids.ts';
import type { Action } from '../lifecycle/actions.ts';
import { applyAction } from '../lifecycle/machine.ts';
import { CASE_STATES, ENDED_STATES as ENDED, OPEN_STATES } from '../lifecycle/states.ts';
import type { Actor, AuditRecord, TimeWindows } from '../lifecycle/types.ts';
import type { Bus, BusEvent, CasePage, CaseStore, Clock, OutboundMessage, Outbox } from '../ports.ts';
import type { CaseMetricsPort } from '../sla/case-metrics.ts';
import type { Category, Department } from '../taxonomy/types.ts';
import { caseEvent } from '../triage/triage.ts';
import { applySnapshot, citizenRefOf, toSnapshot } from './mapping.ts';
import { buildNotice, type NoticeContext, noticeForOpenedCase, noticeKindOf } from './notify.ts';

/** Recomputes the SLA record after a step (see `./sla.ts`); undefined → deadlines unchanged. */
export type DeadlinesHook = (
  before: Case,
  after: Case,
  audit: AuditRecord,
) => { deadlines: Record<string, unknown>; windows: TimeWindows } | undefined;

export interface ServiceLog {
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface CaseServiceDeps {
  cases: CaseStore;
  bus: Bus;
  clock: Clock;
  departments: readonly Department[];
  categories: ReadonlyMap<string, Category>;
  /** Notices to citizens; without it nobody is told. */
  outbox?: Outbox;
  notices?: NoticeContext;
  deadlines?: DeadlinesHook;
  /** 考核评价: the daily aggregates; without it no step is counted. */
  metrics?: CaseMetricsPort;
  /**
   * 纠错样本: sees every written step (after the write; best effort, never fails the step). The wiring keeps a labelled
   * example when a person set the category (`./corrections.ts`).
   */
  corrections?: (before: Case, after: Case, audit: AuditRecord) => Promise<void>;
  log?: ServiceLog;
}

export interface ActOptions {
  /** The version the caller based its decision on; another version → 409 CONFLICT. */
  expectedVersion?: number;
}

export interface ActResult {
  case: Case;
  audit: AuditRecord;
  event: BusEvent;
  /** False when the bus call failed: the events stay owed on the case (re-sent by the next step or the sweep). */
  announced: boolean;
  /** The notice sent to the citizen, if this step owed one and it went out. */
  notice?: { channel: OutboundMessage['channel']; kind: string };
}

export const caseNotFound = (): CityLoopError => new CityLoopError('NOT_FOUND', '未找到该工单 no such case', 404);

export const conflict = (current: number): CityLoopError =>
  new CityLoopError(
    'CONFLICT',
    '工单已被他人更新，请刷新后重试 the case changed meanwhile; re-read it and retry',
    409,
    {
      version: current,
    },
  );

/** Whether `actor` may read the case at all (before any action-specific rule). */
export function canSee(
  c: Pick<Case, 'department' | 'citizen'>,
  actor: Pick<Actor, 'role' | 'department' | 'id'>,
): boolean {
  if (actor.role === 'department') return actor.department !== undefined && c.department === actor.department;
  if (actor.role === 'citizen') return citizenRefOf(c) !== null && citizenRefOf(c) === actor.id;
  return actor.role === 'supervisor' || actor.role === 'agent' || actor.role === 'system';
}

const silent: ServiceLog = { warn: () => undefined, error: () => undefined };

/** One page per state of a department's list (`CaseService.listDepartment`). */
export interface DepartmentList {
  cases: Case[];
  /** State → the cursor of its next page, for the states with more cases than returned. */
  more: Record<string, string>;
}

/** How many of each ended state a workbench gets, newest first. */
export const ENDED_SHOWN = 50;
/**
 * The open states as runs of the department index, which sorts by state name: each run is the first and the last
 * name of open states with no ended state between them (`rejected` sorts among the open ones, and a read of one
 * range across it would fill its pages with rejected cases).
 */
export const OPEN_RANGES: readonly (readonly [string, string])[] = (() => {
  const open = new Set<string>(OPEN_STATES);
  const runs: [string, string][] = [];
  let run: [string, string] | undefined;
  for (const s of [...CASE_STATES].sort()) {
    if (!open.has(s)) run = undefined;
    else if (run) run[1] = s;
    else {
      run = [s, s];
      runs.push(run);
    }
  }
  return runs;
})();

/** A case's place in the department index (`<state>#<deadline>#<caseId>`, as `DynamoStore` keys it). */
const departmentIndexKey = (c: Case): string =>
  `${c.state}#${(c.deadlines as { resolveDue?: string } | undefined)?.resolveDue ?? c.receivedAt}#${c.caseId}`;

const byDepartmentIndex = (a: Case, b: Case): number => {
  const ka = departmentIndexKey(a);
  const kb = departmentIndexKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/**
 * The requests waiting for a supervisor on a page of the sparse pending index that the department's lists did not
 * already hold (`seen`), in the department index's order. The index is eventually consistent: an entry whose request
 * was decided since (`pending` null again), whose case ended or moved to another department, is dropped.
 */
function waitingOf(page: CasePage | undefined, department: string, seen: ReadonlySet<string>): Case[] {
  return (page?.cases ?? [])
    .filter((c) => c.department === department && !ENDED.has(c.state) && c.pending != null && !seen.has(c.caseId))
    .sort(byDepartmentIndex);
}

export class CaseService {
  private readonly log: ServiceLog;

  constructor(private readonly deps: CaseServiceDeps) {
    this.log = deps.log ?? silent;
  }

  departmentName = (id: string | undefined): string | undefined =>
    id === undefined ? undefined : this.deps.departments.find((d) => d.id === id)?.name;

  /** The case if `actor` may see it; NOT_FOUND otherwise (missing and foreign look the same). */
  async get(caseId: string, actor: Actor): Promise<Case> {
    const c = await this.deps.cases.getCase(caseId);
    if (!c || !canSee(c, actor)) throw caseNotFound();
    return c;
  }

  /**
   * A department's cases, by deadline within each state, a page per state. In one state: up to `limit` of it, from
   * `after` (a cursor of `more`) on. In every state (a workbench): each state read on its own, the cases still being
   * worked on first (up to `limit` of each), then the latest `ENDED_SHOWN` of each ended state. `more` holds, per
   * state that has more cases than were returned, the cursor of its next page (ask again with `state` and `after`).
   * One read of the whole index would return the states in the index's (alphabetical) order, so a department with
   * hundreds of 办结/归档 cases would see those and none of its 待签收 ones; and a cap on the total would hide every
   * state after one with more than `limit` cases. When a page of a state still being worked on was cut, the
   * department's requests waiting for a supervisor are read too (`listPendingRequests`, as `listDepartmentOpen` does),
   * so a 延期申请 on a case beyond the cut of its state is still in the answer: once (merged by case id), after the
   * cases read of its state.
   */
  async listDepartment(
    department: string,
    opts: { state?: string; limit?: number; after?: string } = {},
  ): Promise<DepartmentList> {
    const limit = opts.limit ?? 100;
    // The index is eventually consistent on AWS: drop entries that moved on since.
    const current = (state: string) => (c: Case) => c.department === department && c.state === state;
    if (opts.state !== undefined) {
      const page = await this.deps.cases.listDepartmentCases(department, {
        state: opts.state,
        limit,
        ...(ENDED.has(opts.state) ? { newestFirst: true } : {}),
        ...(opts.after !== undefined ? { after: opts.after } : {}),
      });
      return { cases: page.cases.filter(current(opts.state)), more: page.cursor ? { [opts.state]: page.cursor } : {} };
    }
    if (opts.after !== undefined) {
      throw new CityLoopError('CURSOR_NEEDS_STATE', '翻页须指定状态 (a cursor reads one state: give `state`)', 400);
    }
    const pages = await Promise.all(
      [...OPEN_STATES, ...ENDED].map(async (state) => {
        const ended = ENDED.has(state);
        const page = await this.deps.cases.listDepartmentCases(department, {
          state,
          limit: ended ? Math.min(limit, ENDED_SHOWN) : limit,
          ...(ended ? { newestFirst: true } : {}),
        });
        return { state, cases: page.cases.filter(current(state)), cursor: page.cursor };
      }),
    );
    const more: Record<string, string> = {};
    for (const p of pages) if (p.cursor) more[p.state] = p.cursor;
    const store = this.deps.cases;
    const cut = pages.some((p) => p.cursor !== undefined && !ENDED.has(p.state));
    if (!cut || !store.listPendingRequests) return { cases: pages.flatMap((p) => p.cases), more };
    const seen = new Set(pages.flatMap((p) => p.cases.map((c) => c.caseId)));
    const waiting = waitingOf(await store.listPendingRequests(department, limit), department, seen);
    // Beyond the cut of their state: after the cases read of it, in the department index's order.
    const cases = pages.flatMap((p) => [...p.cases, ...waiting.filter((c) => c.state === p.state)]);
    return { cases, more };
  }

  /**
   * The cases of a department still being worked on (an overview of every department: a read per state and
   * department would be a few hundred). First one read from the first open state's name to the last: when that holds
   * the whole range, it is the answer (ended states inside it, `rejected`, dropped). When it does not, one read per
   * run of open state names (`OPEN_RANGES`), up to `limit` of each: a cut over the whole range would let hundreds of
   * 待签收 hide the 办结反馈 and 退单申请 waiting for approval, or 100 rejected cases the 人工分拨 ones. A cut read also
   * reads the department's requests waiting for a supervisor (`listPendingRequests`, the sparse `pending` index, when
   * the store has it), so a 延期申请 on a case in hand, or a 退单申请, behind more than `limit` others is still in the
   * answer (once: merged by case id). By state, then deadline (the most urgent of each state first); `truncated` when
   * a run, or the pending requests, had more cases than were read.
   */
  async listDepartmentOpen(department: string, limit = 100): Promise<{ cases: Case[]; truncated: boolean }> {
    const open = (c: Case) => c.department === department && !ENDED.has(c.state);
    const whole: readonly [string, string] = [OPEN_RANGES[0]![0], OPEN_RANGES.at(-1)![1]];
    const first = await this.deps.cases.listDepartmentCases(department, { statesFrom: whole, limit });
    if (first.cursor === undefined) return { cases: first.cases.filter(open), truncated: false };
    const store = this.deps.cases;
    const [pending, ...pages] = await Promise.all([
      store.listPendingRequests ? store.listPendingRequests(department, limit) : undefined,
      ...OPEN_RANGES.map((range) => store.listDepartmentCases(department, { statesFrom: range, limit })),
    ]);
    const cases = pages.flatMap((p) => p?.cases ?? []).filter(open);
    const truncated = pages.some((p) => p?.cursor !== undefined) || pending?.cursor !== undefined;
    const waiting = waitingOf(pending, department, new Set(cases.map((c) => c.caseId)));
    if (waiting.length === 0) return { cases, truncated };
    // In the department index's order, which the runs were read in.
    return { cases: [...cases, ...waiting].sort(byDepartmentIndex), truncated };
  }

  /** Applies one action; throws a CityLoopError (4xx) when it is refused or the race is lost. */
  async act(caseId: string, action: Action, actor: Actor, opts: ActOptions = {}): Promise<ActResult> {
    const c = await this.deps.cases.getCase(caseId);
    if (!c || !canSee(c, actor)) throw caseNotFound();
    if (opts.expectedVersion !== undefined && opts.expectedVersion !== c.version) throw conflict(c.version);

    const now = toShanghaiIso(this.deps.clock.now());
    const result = applyAction(toSnapshot(c), action, actor, now);
    if (!result.ok) {
      if (result.error.code === 'NOT_YOUR_CASE') throw caseNotFound();
      throw result.error;
    }
    this.checkReferences(action);

    const next = applySnapshot(c, result.next, result.audit, {
      categoryName: (code) => this.deps.categories.get(code)?.name,
    });
    const sla = this.deps.deadlines?.(c, next, result.audit);
    if (sla) {
      next.deadlines = sla.deadlines;
      next.windows = sla.windows;
    }
    const base = caseEvent(next, result.event.detailType, this.departmentName(next.department));
    const event: BusEvent = {
      detailType: result.event.detailType,
      resources: [next.caseId],
      detail: { ...base.detail, ...result.event.detail },
    };
    next.pendingEvents = [...this.owedBy(c), event];
    next.announcedVersion = c.announcedVersion;
    this.deps.metrics?.owe(c, next);

    if (!(await this.deps.cases.replaceCase(next, c.version))) {
      const now2 = await this.deps.cases.getCase(caseId);
      throw conflict(now2?.version ?? c.version);
    }
    // The counts and the bus call side by side; the announcement is marked as soon as the bus answered (with the
    // counts when they are done by then, else in a second write once they are).
    const count = this.count(next);
    if (this.deps.corrections) {
      await this.deps.corrections(c, next, result.audit).catch((e: unknown) =>
        this.log.warn('training example not recorded', {
          caseId: next.caseId,
          version: next.version,
          error: String(e),
        }),
      );
    }
    const announced = await this.announce(next);
    const early = await Promise.race([count, Promise.resolve(undefined)]);
    await this.settle(next, { announced, counted: early === true });
    if (early === undefined && (await count)) await this.settle(next, { announced: false, counted: true });
    const notice = await this.notify(next, result.audit);
    return { case: next, audit: result.audit, event, announced, ...(notice ? { notice } : {}) };
  }

  /**
   * The SQS-free hook for the triage path: tells the citizen of a case triage just opened and dispatched
   * automatically. Returns what was sent (undefined: nothing owed, no contact, or no outbox).
   */
  async notifyOpened(c: Case): Promise<{ channel: OutboundMessage['channel']; kind: string } | undefined> {
    if (!this.deps.outbox || !this.deps.notices) return undefined;
    const message = noticeForOpenedCase(c, this.deps.notices);
    return message ? this.send(message) : undefined;
  }

  /** Department and category named by a (re-)dispatch must exist; checked after the machine accepted the step. */
  private checkReferences(action: Action): void {
    if ('department' in action && typeof action.department === 'string' && action.department !== '') {
      const d = this.deps.departments.find((x) => x.id === action.department);
      if (!d || d.kind === 'centre') {
        throw new CityLoopError('UNKNOWN_DEPARTMENT', `承办单位不存在 unknown department: ${action.department}`, 422);
      }
    }
    if ('category' in action && typeof action.category === 'string' && action.category !== '') {
      if (!this.deps.categories.has(action.category)) {
        throw new CityLoopError('UNKNOWN_CATEGORY', `事项类别不存在 unknown category: ${action.category}`, 422);
      }
    }
  }

  /** Events an earlier version still owes the bus (a failed publish, or triage not yet marked). */
  private owedBy(c: Case): BusEvent[] {
    if (c.announcedVersion >= c.version) return [];
    if (c.pendingEvents?.length) return c.pendingEvents;
    return [
      caseEvent(c, c.state === 'triage' ? 'Case.TriageRequired' : 'Case.Dispatched', this.departmentName(c.department)),
    ];
  }

  /** Publishes what the written case owes the bus; false when it stays owed (the next step or the sweep re-sends). */
  private async announce(c: Case): Promise<boolean> {
    const events = c.pendingEvents ?? [];
    try {
      const { failed } = await this.deps.bus.publish(events);
      if (failed.length > 0) {
        this.log.warn('case events not announced yet', { caseId: c.caseId, version: c.version, failed: failed.length });
        return false;
      }
    } catch (e) {
      this.log.warn('case events not announced yet', { caseId: c.caseId, version: c.version, error: String(e) });
      return false;
    }
    return true;
  }

  /** Counts what the written case owes the daily aggregates; false when it stays owed (best effort, logged). */
  private async count(c: Case): Promise<boolean> {
    if (!this.deps.metrics || !owesMetrics(c)) return false;
    try {
      await this.deps.metrics.count(c);
      return true;
    } catch (e) {
      this.log.warn('case metrics not counted yet', { caseId: c.caseId, version: c.version, error: String(e) });
      return false;
    }
  }

  /** One write for both marks. A failure only means a repeat later: consumers drop it by eventId, counts by token. */
  private async settle(c: Case, settled: { announced: boolean; counted: boolean }): Promise<void> {
    if (!settled.announced && !settled.counted) return;
    try {
      await this.deps.cases.markSettled(c.caseId, c.version, settled);
    } catch (e) {
      this.log.warn('could not mark the case settled', { caseId: c.caseId, error: String(e) });
    }
  }

  private async notify(c: Case, audit: AuditRecord): Promise<ActResult['notice']> {
    if (!this.deps.outbox || !this.deps.notices) return undefined;
    const kind = noticeKindOf(audit);
    if (!kind) return undefined;
    const message = buildNotice(c, kind, this.deps.notices, audit);
    return message ? this.send(message) : undefined;
  }

  /** Best effort: the step is durable already; a failed notice is logged, never turns the answer into an error. */
  private async send(message: OutboundMessage): Promise<ActResult['notice']> {
    try {
      await this.deps.outbox?.send(message);
      return { channel: message.channel, kind: message.kind };
    } catch (e) {
      this.log.error('citizen notice failed', { trackingNo: message.trackingNo, kind: message.kind, error: String(e) });
      return undefined;
    }
  }
}
