/**
 * 录入 (agent submission): the agent's form → `normalizeIntake` → `acceptReport`, idempotent on the channel message id
 * (`<contactId>#<seq>`, `walkin:<agent>:<uuid>`, `letter:<ref>`; see channels/hotline/submission.ts). The agent id
 * from the credential becomes the report's `enteredBy`, which triage writes into the case's first trace record.
 *
 * 咨询 直接答复: with `answer`, the consultation is closed at once. The report is accepted first (durable, with its
 * tracking number) with its triage message held back, and the case is written once, already `answered`
 * (channels/hotline/consultation.ts). Triage then has nothing to do with the report, so the held message is dropped,
 * unless the case still owes the bus its events (a failed publish): then it is sent and triage re-announces them.
 * If the case cannot be written, the message is sent and the request is triaged like any other: nothing the agent
 * typed is lost. An answer to a case that already exists (the same submission sent earlier without the answer) goes
 * through the lifecycle service.
 */
import { addReport } from '#channels/hotline/call-record.ts';
import { answeredConsultation } from '#channels/hotline/consultation.ts';
import {
  agentDraft,
  type CallerFrom,
  invalid,
  originOf,
  parseSubmission,
  type Source,
} from '#channels/hotline/submission.ts';
import { type Case, oweCreation, owesMetrics } from '#core/case.ts';
import { buildNotice } from '#core/cases/notify.ts';
import { CityLoopError } from '#core/errors.ts';
import { toShanghaiIso } from '#core/ids.ts';
import { type Accepted, acceptReport } from '#core/intake/accept.ts';
import { cleanText, normalizeIntake } from '#core/intake/normalize.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import { LIMITS } from '#core/intake/schema.ts';
import type { AuditRecord } from '#core/lifecycle/types.ts';
import type { StoredReport, WorkQueue } from '#core/ports.ts';
import type { Category } from '#core/taxonomy/types.ts';
import type { Actor } from '../lib/auth.ts';
import { log } from '../lib/log.ts';
import type { HotlineDeps } from './context.ts';

export interface SubmitResult {
  trackingNo: string;
  /** True when this submission was already filed (a retry, a double click, the same letter again). */
  duplicate: boolean;
  /** `received` (queued for triage) or `answered` (consultation closed on the call). */
  state: 'received' | 'answered';
  channelMessageId: string;
  source: Source;
  /** Where the citizen's number came from: telephony (the call record), typed by the agent, or none. */
  callerFrom: CallerFrom;
}

/** Holds queue messages until the caller decides to send them. */
class HeldQueue implements WorkQueue {
  readonly held: { queueId: string; bodies: string[] }[] = [];
  async send(queueId: string, bodies: string[]): Promise<void> {
    this.held.push({ queueId, bodies });
  }
  async release(to: WorkQueue): Promise<void> {
    for (const m of this.held.splice(0)) await to.send(m.queueId, m.bodies);
  }
}

export async function submitReport(
  deps: HotlineDeps,
  actor: Actor,
  body: Record<string, unknown>,
): Promise<SubmitResult> {
  const sub = parseSubmission(body);
  const origin = originOf(sub, actor.id);
  const now = deps.clock.now();
  let answer: string | undefined;
  let category: Category | undefined;
  if (sub.answer !== undefined) {
    answer = cleanText(sub.answer);
    if (answer === '') throw invalid('TEXT_REQUIRED', '答复内容为空 the answer is empty');
    if ([...answer].length > LIMITS.text) throw invalid('FIELD_TOO_LONG', `答复超过 ${LIMITS.text} 字 answer too long`);
    if (sub.nature && sub.nature !== '咨询') {
      throw invalid('NOT_A_CONSULTATION', '只有咨询件可以直接答复 only a consultation (咨询) can be answered directly');
    }
    if (sub.category) {
      category = deps.categories.get(sub.category);
      if (!category) {
        throw new CityLoopError('UNKNOWN_CATEGORY', `事项类别不存在 unknown category: ${sub.category}`, 422);
      }
    }
  }
  const call = origin.contactId ? await deps.calls.get(origin.contactId) : undefined;
  const { draft, callerFrom } = agentDraft(answer === undefined ? sub : { ...sub, nature: '咨询' }, origin, {
    agentId: actor.id,
    now,
    ...(call ? { call } : {}),
  });
  const request = normalizeIntake(draft);
  const base = { channelMessageId: origin.channelMessageId, source: origin.source, callerFrom };

  if (answer === undefined) {
    const accepted = await acceptReport(deps, request);
    await noteOnCall(deps, origin.contactId, origin.seq, accepted.report, actor);
    log.info('hotline report accepted', {
      trackingNo: accepted.trackingNo,
      source: origin.source,
      created: accepted.created,
      agent: actor.id,
    });
    return { ...base, trackingNo: accepted.trackingNo, duplicate: !accepted.created, state: 'received' };
  }

  const held = new HeldQueue();
  const accepted = await acceptReport({ ...deps, queue: held }, request);
  let outcome: Answered;
  try {
    outcome = await answerCase(deps, actor, accepted, request, answer, category);
  } catch (e) {
    // Not answered: the report is triaged like any other. Should even that send fail, the error tells the agent to
    // retry, and the retry (same id) queues the stored report again.
    await held
      .release(deps.queue)
      .catch((sendError: Error) =>
        log.error('triage message not sent', { trackingNo: accepted.trackingNo, error: sendError.message }),
      );
    throw e;
  }
  // Announced: dedupe and triage must not see the report again (it would be grouped with other cases).
  if (outcome.owed) {
    try {
      await held.release(deps.queue);
    } catch (e) {
      // The case is answered; only its announcement waits (for the next step on it).
      log.warn('triage message not sent for an answered consultation', {
        trackingNo: accepted.trackingNo,
        error: (e as Error).message,
      });
    }
  }
  await noteOnCall(deps, origin.contactId, origin.seq, accepted.report, actor);
  log.info('hotline consultation answered', {
    trackingNo: accepted.trackingNo,
    source: origin.source,
    duplicate: outcome.duplicate,
    agent: actor.id,
  });
  return { ...base, trackingNo: accepted.trackingNo, duplicate: outcome.duplicate, state: 'answered' };
}

interface Answered {
  duplicate: boolean;
  /**
   * The case still owes the bus events (announcement failed) or its counts: triage must see the report to re-send
   * and count them.
   */
  owed: boolean;
}

async function answerCase(
  deps: HotlineDeps,
  actor: Actor,
  accepted: Accepted,
  request: IntakeRequest,
  answer: string,
  picked: Category | undefined,
): Promise<Answered> {
  const caseId = accepted.report.caseId ?? accepted.trackingNo;
  let existing = await deps.store.getCase(caseId);
  if (!existing) {
    const chosen = picked ? { category: picked } : await classified(deps, request);
    const built = answeredConsultation({
      report: accepted.report,
      answer,
      actor: { role: actor.role, id: actor.id },
      now: toShanghaiIso(deps.clock.now()),
      ...chosen,
    });
    if (!built.ok) throw built.error;
    // 考核数据: a consultation answered on the call counts like any case (受理, 当日办结).
    if (deps.metrics) oweCreation(built.case);
    const put = await deps.store.createCase(built.case);
    if (put.created) {
      const counted = await count(deps, built.case);
      const announced = await announce(deps, built.case);
      await settle(deps, built.case, { announced, counted });
      await notify(deps, built.case, built.audit);
      return { duplicate: false, owed: !announced || (deps.metrics !== undefined && !counted) };
    }
    existing = put.existing;
  }
  // Answered already: the same submission again (a retry, or two agents on one letter).
  if (existing.state === 'answered') {
    return { duplicate: true, owed: existing.announcedVersion < existing.version || owesMetrics(existing) };
  }
  // The case exists in another state (filed earlier without the answer): the lifecycle decides (received/triage only).
  const done = await deps.cases.act(caseId, { type: 'answer', text: answer }, { role: actor.role, id: actor.id });
  return { duplicate: false, owed: !done.announced };
}

/** The classifier's category when it is sure (decision `auto`); none otherwise. */
async function classified(
  deps: HotlineDeps,
  request: IntakeRequest,
): Promise<{ category?: Category; categoryReason?: string; categoryConfidence?: number }> {
  const classify = await deps.classifier();
  if (!classify) return {};
  const verdict = classify({ title: request.title, text: request.text });
  const category = verdict.category ? deps.categories.get(verdict.category) : undefined;
  if (verdict.decision !== 'auto' || !category) return {};
  return { category, categoryReason: `自动分类 ${verdict.reason}`, categoryConfidence: verdict.confidence };
}

/** Publishes the events the new case owes; false when they stay owed (triage or the next step re-sends them). */
async function announce(deps: HotlineDeps, c: Case): Promise<boolean> {
  try {
    const { failed } = await deps.bus.publish(c.pendingEvents ?? []);
    if (failed.length > 0) {
      log.warn('case events not announced yet', { caseId: c.caseId, failed: failed.length });
      return false;
    }
  } catch (e) {
    log.warn('case events not announced yet', { caseId: c.caseId, error: (e as Error).message });
    return false;
  }
  return true;
}

/** Counts the new case into the daily aggregates; false when it stays owed (triage counts it from the report). */
async function count(deps: HotlineDeps, c: Case): Promise<boolean> {
  if (!deps.metrics) return false;
  try {
    await deps.metrics.count(c);
    return true;
  } catch (e) {
    log.warn('case metrics not counted yet', { caseId: c.caseId, error: (e as Error).message });
    return false;
  }
}

/** Both marks in one write; a failure only means a repeat later (consumers drop it by eventId, counts by token). */
async function settle(deps: HotlineDeps, c: Case, settled: { announced: boolean; counted: boolean }): Promise<void> {
  if (!settled.announced && !settled.counted) return;
  try {
    await deps.store.markSettled(c.caseId, c.version, settled);
  } catch (e) {
    log.warn('could not mark the case settled', { caseId: c.caseId, error: (e as Error).message });
  }
}

/** The answer in writing to the citizen (SMS for a caller); best effort, never fails the submission. */
async function notify(deps: HotlineDeps, c: Case, audit: AuditRecord): Promise<void> {
  if (!deps.notices) return;
  const message = buildNotice(c, 'case-answered', deps.notices.context, audit);
  if (!message) return;
  try {
    await deps.notices.outbox.send(message);
  } catch (e) {
    log.error('citizen notice failed', { trackingNo: c.trackingNo, kind: message.kind, error: (e as Error).message });
  }
}

/** Lists the report on its call record, for the console; best effort (the report is what matters). */
export async function noteOnCall(
  deps: HotlineDeps,
  contactId: string | undefined,
  seq: number | undefined,
  report: StoredReport,
  actor: Actor,
): Promise<void> {
  if (!contactId || seq === undefined) return;
  try {
    await deps.calls.update(contactId, (rec) =>
      rec
        ? addReport(rec, {
            seq,
            trackingNo: report.trackingNo,
            enteredBy: report.request.enteredBy ?? actor.id,
            at: report.acceptedAt,
          })
        : undefined,
    );
  } catch (e) {
    log.warn('report not listed on its call record', { contactId, error: (e as Error).message });
  }
}
