/**
 * 关联到已有工单 (attach a call to an open case): `POST /api/agent/reports` with `attachTo: <caseId>`. The agent saw a
 * duplicate suggestion (重复件/并案) and files the call onto that case instead of a new one.
 *
 * 1. The call is accepted as a report like any other (durable, its own tracking number, idempotent on
 *    `<contactId>#<seq>`), with its triage message held back.
 * 2. The case takes it in ONE conditional write (`core/triage/attach.ts`: reporter, counts, history entry with the
 *    agent as actor; re-read and re-applied on a lost race), then the report is linked to the case (its tracking
 *    number now opens that case), and what the case owes the bus (`Case.IncidentGrew` past 5/20/100 reporters) is sent.
 * 3. A repeat (the case's own citizen) also becomes a 市民补充 (`citizenUpdate` by the agent, through the lifecycle),
 *    so the department hears what the caller added (`Case.CitizenUpdated` on its queue); best effort.
 * 4. The dedupe engine is told (`DedupeEngine.join`): the reporter counts there too, and the case is found at the
 *    call's place.
 * 5. The caller gets the case's tracking number (in the answer, for the agent to read out, and by SMS).
 * If the case cannot take the call (gone, concluded, or the write keeps losing), the held message is sent: triage files
 * the report as usual and nothing the agent typed is lost. A report already filed on another case is refused (409
 * ALREADY_FILED), never put on two cases.
 */
import { agentDraft, invalid, originOf, parseSubmission } from '#channels/hotline/submission.ts';
import type { Case } from '#core/case.ts';
import { trackingLink } from '#core/cases/notify.ts';
import { CityLoopError } from '#core/errors.ts';
import { caseIdFor, isTrackingNo, toShanghaiIso } from '#core/ids.ts';
import { acceptReport } from '#core/intake/accept.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import type { BusEvent, StoredReport, WorkQueue } from '#core/ports.ts';
import { attachToCase, isAttachable } from '#core/triage/attach.ts';
import type { MergeRelation } from '#core/triage/merge.ts';
import type { Actor } from '../lib/auth.ts';
import { log } from '../lib/log.ts';
import type { HotlineDeps } from './context.ts';
import { noteOnCall } from './submit.ts';

export interface AttachResult {
  /** The case's tracking number: what the caller is told and follows. */
  trackingNo: string;
  /** The call's own report (its number also opens the case). */
  reportTrackingNo: string;
  caseId: string;
  relation: MergeRelation;
  /** True when the call was attached already (a retry, a double key press). */
  duplicate: boolean;
  state: 'attached';
  reportCount: number;
  /** Whether the repeat's words reached the department as a 市民补充 (repeats only). */
  citizenUpdate?: 'added' | 'skipped' | 'failed';
}

const MERGE_ATTEMPTS = 8;

/** Holds queue messages until the caller decides to send them (same as the answered consultation). */
class HeldQueue implements WorkQueue {
  private readonly held: { queueId: string; bodies: string[] }[] = [];
  async send(queueId: string, bodies: string[]): Promise<void> {
    this.held.push({ queueId, bodies });
  }
  async release(to: WorkQueue): Promise<void> {
    for (const m of this.held.splice(0)) await to.send(m.queueId, m.bodies);
  }
}

const caseNotOpen = (c: Case) =>
  new CityLoopError(
    'CASE_NOT_OPEN',
    `工单 ${c.trackingNo} 已${c.state === 'archived' ? '归档' : '办结'}，请登记为新诉求 the case is no longer open`,
    409,
    { state: c.state },
  );

/** The target case id of a body, or undefined when the body has none. */
export function attachTargetOf(body: Record<string, unknown>): string | undefined {
  const v = body.attachTo;
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !isTrackingNo(v)) {
    throw invalid('INVALID_CASE_ID', 'attachTo 不是有效的工单编号 attachTo is not a case id');
  }
  return v;
}

export async function attachCall(
  deps: HotlineDeps,
  actor: Actor,
  body: Record<string, unknown>,
  caseId: string,
): Promise<AttachResult> {
  const sub = parseSubmission(body);
  if (sub.answer !== undefined) {
    throw invalid('ATTACH_WITH_ANSWER', '关联已有工单时不能直接答复 an attached call cannot be answered directly');
  }
  const target = await deps.store.getCase(caseId);
  if (!target) throw new CityLoopError('CASE_NOT_FOUND', `未找到工单 ${caseId} no such case`, 404);
  if (!isAttachable(target)) throw caseNotOpen(target);
  const origin = originOf(sub, actor.id);
  const call = origin.contactId ? await deps.calls.get(origin.contactId) : undefined;
  const { draft } = agentDraft(sub, origin, { agentId: actor.id, now: deps.clock.now(), ...(call ? { call } : {}) });
  const request = normalizeIntake(draft);

  const held = new HeldQueue();
  const accepted = await acceptReport({ ...deps, queue: held }, request);
  const report = accepted.report;
  // Filed before: on this case (a retry) → the same answer; anywhere else → refused, never on two cases.
  if (report.caseId !== undefined && report.caseId !== caseId) throw alreadyFiled(report.caseId);
  if (report.caseId === undefined && !accepted.created) {
    const own = await deps.store.getCase(caseIdFor(report.trackingNo));
    if (own) throw alreadyFiled(own.caseId);
  }

  let written: { c: Case; events: BusEvent[]; relation: MergeRelation; duplicate: boolean };
  try {
    written = await merge(deps, actor, report, caseId);
  } catch (e) {
    // Not attached: the report is triaged like any other (it has its tracking number; nothing is lost).
    await held
      .release(deps.queue)
      .catch((sendError: Error) =>
        log.error('triage message not sent', { trackingNo: report.trackingNo, error: sendError.message }),
      );
    throw e;
  }
  await deps.store.linkReport(report.idemKey, caseId, written.relation);
  await announce(deps, written.c, written.events);
  await tellDedupe(deps, report, written.c, written.relation);

  const result: AttachResult = {
    trackingNo: written.c.trackingNo,
    reportTrackingNo: report.trackingNo,
    caseId,
    relation: written.relation,
    duplicate: written.duplicate,
    state: 'attached',
    reportCount: written.c.reportCount,
  };
  if (written.relation === 'repeat') result.citizenUpdate = await repeatAsUpdate(deps, actor, report, caseId);
  await noteOnCall(deps, origin.contactId, origin.seq, report, actor);
  if (!written.duplicate) await tellCaller(deps, written.c, report, written.relation);
  log.info('hotline call attached', {
    trackingNo: report.trackingNo,
    caseId,
    relation: written.relation,
    duplicate: written.duplicate,
    agent: actor.id,
  });
  return result;
}

function alreadyFiled(otherCase: string): CityLoopError {
  return new CityLoopError(
    'ALREADY_FILED',
    `该诉求已登记在工单 ${otherCase} this request was already filed on another case`,
    409,
    { caseId: otherCase },
  );
}

async function merge(
  deps: HotlineDeps,
  actor: Actor,
  report: StoredReport,
  caseId: string,
): Promise<{ c: Case; events: BusEvent[]; relation: MergeRelation; duplicate: boolean }> {
  for (let attempt = 0; attempt < MERGE_ATTEMPTS; attempt++) {
    const current = await deps.store.getCase(caseId);
    if (!current) throw new CityLoopError('CASE_NOT_FOUND', `未找到工单 ${caseId} no such case`, 404);
    const attached = attachToCase(current, {
      report,
      agentId: actor.id,
      now: toShanghaiIso(deps.clock.now()),
      departmentName: (id) => (id ? deps.departmentName(id) : undefined),
    });
    if (!attached) {
      // On the case already: re-send only what the case still owes.
      const owed = current.announcedVersion < current.version ? (current.pendingEvents ?? []) : [];
      const relation = current.reporters.find((r) => r.trackingNo === report.trackingNo)?.relation;
      return {
        c: current,
        events: owed,
        relation: relation === 'repeat' ? 'repeat' : 'incident',
        duplicate: true,
      };
    }
    if (!isAttachable(current)) throw caseNotOpen(current);
    if (await deps.store.replaceCase(attached.next, current.version)) {
      return { c: attached.next, events: attached.events, relation: attached.relation, duplicate: false };
    }
  }
  throw new CityLoopError('CONFLICT', `工单 ${caseId} 正在被频繁更新，请重试 the case kept changing`, 409);
}

/** Publishes what the case owes; on failure the events stay owed (the next step or the sweep re-sends them). */
async function announce(deps: HotlineDeps, c: Case, events: BusEvent[]): Promise<void> {
  if (events.length === 0) return;
  try {
    const { failed } = await deps.bus.publish(events);
    if (failed.length > 0) {
      log.warn('case events not announced yet', { caseId: c.caseId, failed: failed.length });
      return;
    }
    await deps.store.markAnnounced(c.caseId, c.version);
  } catch (e) {
    log.warn('case events not announced yet', { caseId: c.caseId, error: (e as Error).message });
  }
}

/** The repeat's words as a 市民补充 entered by the agent; skipped when already on the case (a retry). */
async function repeatAsUpdate(
  deps: HotlineDeps,
  actor: Actor,
  report: StoredReport,
  caseId: string,
): Promise<'added' | 'skipped' | 'failed'> {
  const text = `来电补充（受理编号 ${report.trackingNo}）：${report.request.text}`.slice(0, 4000);
  try {
    const c = await deps.store.getCase(caseId);
    if (!c || !isAttachable(c)) return 'skipped';
    if (c.history.some((h) => h.action === 'citizenUpdate' && h.text === text)) return 'skipped';
    await deps.cases.act(caseId, { type: 'citizenUpdate', text }, { role: 'agent', id: actor.id });
    return 'added';
  } catch (e) {
    log.warn('repeat not added as a citizen update', { caseId, error: (e as Error).message });
    return 'failed';
  }
}

/** The case's number by SMS; the link opens the caller's own report (an incident's co-reporter sees steps only). */
/**
 * The dedupe engine learns of the call as if it had merged it (its reporters, the case's keys at the call's place):
 * later reports there find the case, and a redelivered copy of the report is answered with it. Best effort, as
 * idempotent as the engine's own merges; a failure only leaves the engine's reporter count one short.
 */
async function tellDedupe(deps: HotlineDeps, report: StoredReport, c: Case, relation: MergeRelation): Promise<void> {
  if (!deps.dedupeJoin) return;
  try {
    await deps.dedupeJoin(report, c, relation);
  } catch (e) {
    log.warn('attached call not registered with dedupe', { caseId: c.caseId, error: (e as Error).message });
  }
}

async function tellCaller(deps: HotlineDeps, c: Case, report: StoredReport, relation: MergeRelation): Promise<void> {
  const phone = report.request.citizen.phone;
  if (!deps.notices || !phone || report.request.citizen.anonymous) return;
  const how = relation === 'repeat' ? '已并入您此前反映的工单' : '已与其他市民反映的同一问题合并办理';
  const link = trackingLink(deps.notices.context, report.trackingNo);
  try {
    await deps.notices.outbox.send({
      channel: 'sms',
      to: phone,
      text: `【12345】您反映的问题${how}，工单受理编号 ${c.trackingNo}（本次来电编号 ${report.trackingNo}）。查询进度：${link}`,
      trackingNo: report.trackingNo,
      caseId: c.caseId,
      kind: 'case-attached',
    });
  } catch (e) {
    log.error('citizen notice failed', {
      trackingNo: report.trackingNo,
      kind: 'case-attached',
      error: (e as Error).message,
    });
  }
}
