/**
 * 话务员关联 (an agent attaches a call to an open case): the agent saw a duplicate suggestion, asked the caller, and
 * files the call as a repeat (重复件, the same citizen) or an incident report (并案, another citizen, the same event)
 * of that case instead of opening a new one. Pure: the same case change as triage's merge (`mergeIntoCase`: the
 * report joins the reporters, counts, one history entry, owed events), with the agent as the actor of the entry.
 *
 * The relation is not the agent's to choose: the same contact as the case's citizen is a repeat, anyone else (or an
 * anonymous caller) an incident report, so `reportCount` ("N 位市民反映") stays right whatever was clicked.
 */
import type { Case } from '../case.ts';
import { citizenRefOf } from '../cases/mapping.ts';
import { crossedThresholds } from '../dedupe/config.ts';
import type { Citizen } from '../intake/schema.ts';
import { type CaseState, CONCLUDED_STATES } from '../lifecycle/states.ts';
import type { BusEvent, StoredReport } from '../ports.ts';
import { citizenKey } from '../privacy.ts';
import { type MergeRelation, mergeIntoCase } from './merge.ts';

/** States a call can no longer be attached to: concluded or archived (the agent files a new request, or 重办). */
const NOT_OPEN: ReadonlySet<CaseState> = new Set([...CONCLUDED_STATES, 'archived']);

/** How much of the caller's words the case history keeps in the entry (the report itself keeps all of them). */
export const ATTACH_TEXT_EXCERPT = 200;

export function isAttachable(c: Pick<Case, 'state'>): boolean {
  return !NOT_OPEN.has(c.state);
}

/** 重复件 when the caller is the case's own citizen (same contact digest), else 并案. */
export function attachRelation(c: Pick<Case, 'citizen'>, caller: Citizen | undefined): MergeRelation {
  const ref = citizenRefOf(c);
  const mine = caller && !caller.anonymous ? citizenKey(caller) : undefined;
  return ref !== null && mine !== undefined && mine === ref ? 'repeat' : 'incident';
}

export interface AttachInput {
  report: StoredReport;
  /** The agent who attached it (from the credential). */
  agentId: string;
  /** ISO time of the write. */
  now: string;
  departmentName?: (id: string | undefined) => string | undefined;
  /** Growth thresholds of `Case.IncidentGrew` (the dedupe config's; default 5, 20, 100). */
  thresholds?: readonly number[];
}

export interface Attached {
  next: Case;
  events: BusEvent[];
  relation: MergeRelation;
}

const excerpt = (s: string) => {
  const chars = [...s];
  return chars.length > ATTACH_TEXT_EXCERPT ? `${chars.slice(0, ATTACH_TEXT_EXCERPT).join('')}…` : s;
};

/**
 * The case after the agent attached `report` to it, or undefined when the report is on it already (a retry, a
 * double key press). The caller writes it with `replaceCase(next, c.version)` and re-reads on a lost race.
 */
export function attachToCase(c: Case, input: AttachInput): Attached | undefined {
  const relation = attachRelation(c, input.report.request.citizen);
  const before = typeof c.reporterCount === 'number' ? c.reporterCount : c.reportCount;
  const reporterCount = before + (relation === 'incident' ? 1 : 0);
  const crossed = relation === 'incident' ? crossedThresholds(before, reporterCount, input.thresholds) : [];
  const label = relation === 'repeat' ? '重复件（同一市民再次反映）' : '并案（其他市民反映同一事件）';
  const merged = mergeIntoCase(c, {
    report: input.report,
    relation,
    dedupe: { reporterCount, crossed, explanation: `话务员 ${input.agentId} 关联`, score: 1 },
    now: input.now,
    ...(input.departmentName ? { departmentName: input.departmentName } : {}),
  });
  if (!merged) return undefined;
  const { next, events } = merged;
  const last = next.history.at(-1);
  if (last && next.history.length > c.history.length) {
    const r = input.report.request;
    next.history = [
      ...next.history.slice(0, -1),
      {
        ...last,
        actor: { role: 'agent', id: input.agentId },
        text: `经12345热线受理，受理编号 ${input.report.trackingNo}，话务员关联为${label}：${excerpt(r.text)}`,
        details: { ...(last.details ?? {}), attachedBy: input.agentId },
      },
    ];
  }
  return { next, events, relation };
}
