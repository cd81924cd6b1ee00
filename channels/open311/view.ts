/**
 * What Open311 publishes of a case: the spec's service request fields and the mySociety `servicerequestupdates`,
 * derived from the case and its public history. Published GET answers are open data, so:
 * - no citizen contact ever (name, phone, email, openid, device_id, account_id are not even read here);
 * - the citizen's text only with phone numbers and emails masked (config `publish.description`);
 * - addresses cut before the building/unit/flat part (和平路88号3栋502 → 和平路88号), coordinates rounded;
 * - history entries written by citizens are not updates (they are the reporter's own words, and echoing them back
 *   to FixMyStreet would come back as a council comment); internal entries never leave.
 */

import { toWgs84 } from '#channels/wechat/gcj02.ts';
import type { Case, CaseState, HistoryEntry } from '#core/case.ts';
import type { Location } from '#core/intake/schema.ts';
import { ACTION_LABELS, PUBLIC_STATE_LABELS } from '#core/lifecycle/states.ts';
import type { StoredReport } from '#core/ports.ts';
import { maskText } from '#core/privacy.ts';
import type { Open311Config } from './config.ts';
import { toW3c } from './datetime.ts';
import type { ServiceCatalog } from './services.ts';

export type OpenClosed = 'open' | 'closed';

/** Concluded for the citizen: the spec's `closed`. Everything else is still `open`. */
const CLOSED: ReadonlySet<string> = new Set(['closed', 'answered', 'rejected', 'archived']);

export const openClosed = (state: string): OpenClosed => (CLOSED.has(state) ? 'closed' : 'open');

/**
 * mySociety update statuses (FixMyStreet maps them case-insensitively, `_` as space): 派单 is action scheduled,
 * the department's work and the centre's review of it are in progress, 待回访 means fixed, 不予受理 not ours.
 */
export const UPDATE_STATUS: Readonly<Record<CaseState, string>> = {
  received: 'OPEN',
  triage: 'OPEN',
  dispatched: 'ACTION_SCHEDULED',
  signed: 'IN_PROGRESS',
  returnRequested: 'IN_PROGRESS',
  resolved: 'IN_PROGRESS',
  followUp: 'FIXED',
  closed: 'CLOSED',
  answered: 'CLOSED',
  archived: 'CLOSED',
  rejected: 'NOT_COUNCILS_RESPONSIBILITY',
};

export interface PublicRequest {
  service_request_id: string;
  status: OpenClosed;
  status_notes?: string;
  service_name?: string;
  service_code?: string;
  description?: string;
  agency_responsible?: string;
  service_notice?: string;
  requested_datetime?: string;
  updated_datetime?: string;
  expected_datetime?: string;
  address?: string;
  address_id?: string;
  zipcode?: string;
  lat?: number;
  long?: number;
  media_url?: string;
}

export interface RequestUpdate {
  update_id: string;
  service_request_id: string;
  status: string;
  updated_datetime: string;
  description: string;
  media_url?: string;
  /** CityLoop's own state id (FixMyStreet can key response templates on it). */
  external_status_code?: string;
}

export interface PublishContext {
  catalog: ServiceCatalog;
  departmentName: (id: string) => string | undefined;
  publish: Open311Config['publish'];
}

const UNIT = /[0-9０-９A-Za-z一二三四五六七八九十百零〇]+\s*(栋|幢|座|单元|号楼|层|楼|室)/;

/** The address up to the building: what identifies the place of a problem, not a household. */
export function publicAddress(address: string): string {
  const m = UNIT.exec(address);
  const cut = m ? address.slice(0, m.index).trim() : address.trim();
  return cut.replace(/[，,、\s]+$/, '');
}

function round(n: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(n * f) / f;
}

function publicLocation(loc: Location | undefined, decimals: number): Pick<PublicRequest, 'address' | 'lat' | 'long'> {
  if (!loc) return {};
  const out: Pick<PublicRequest, 'address' | 'lat' | 'long'> = {};
  if (loc.address) {
    const a = publicAddress(loc.address);
    if (a) out.address = a;
  }
  if (typeof loc.lat === 'number' && typeof loc.lon === 'number') {
    // Open311 coordinates are WGS-84; WeChat's are GCJ-02.
    const p = toWgs84({ lat: loc.lat, lon: loc.lon, ...(loc.datum ? { datum: loc.datum } : {}) });
    out.lat = round(p.lat, decimals);
    out.long = round(p.lon, decimals);
  }
  return out;
}

/** Public entries by staff or the system: the ones that tell a reporter what happened. */
const isStatusEntry = (h: HistoryEntry): boolean => h.visibility === 'public' && h.actor.role !== 'citizen';

/** The words of an entry meant for the citizen (reasons only where they are addressed to the citizen). */
function entryWords(h: HistoryEntry): string {
  const words = h.action === 'reject' || h.action === 'reopen' ? h.reason : h.text;
  if (words && words.trim() !== '') return maskText(words.trim());
  const label = h.action === 'triageRequired' ? '转人工分拨' : (ACTION_LABELS as Record<string, string>)[h.action];
  const state = h.to ? PUBLIC_STATE_LABELS[h.to] : undefined;
  return [label ?? h.action, state].filter(Boolean).join('：');
}

function expectedOf(c: Case): string | undefined {
  const due = c.windows?.dueAt ?? (c.deadlines as { resolveDue?: unknown } | undefined)?.resolveDue;
  return typeof due === 'string' ? toW3c(due) : undefined;
}

function caseFields(c: Case, ctx: PublishContext): Omit<PublicRequest, 'service_request_id'> {
  const last = c.history.findLast(isStatusEntry);
  const handled = c.state !== 'received' && c.state !== 'triage' && c.department && c.department !== 'centre';
  const agency = handled && c.department ? ctx.departmentName(c.department) : undefined;
  const service = c.category ? ctx.catalog.get(c.category)?.service : undefined;
  const expected = CLOSED.has(c.state) ? undefined : expectedOf(c);
  const updated = toW3c(c.updatedAt);
  return {
    status: openClosed(c.state),
    status_notes: last ? entryWords(last) : PUBLIC_STATE_LABELS[c.state],
    ...(c.category ? { service_code: c.category } : {}),
    ...(service || c.classification.categoryName
      ? { service_name: service?.service_name ?? c.classification.categoryName }
      : {}),
    ...(agency ? { agency_responsible: agency } : {}),
    ...(updated ? { updated_datetime: updated } : {}),
    ...(expected ? { expected_datetime: expected } : {}),
  };
}

/** A case as one entry of GET requests (the id is the case's: the 受理编号 of its first report). */
export function requestFromCase(c: Case, ctx: PublishContext): PublicRequest {
  const requested = toW3c(c.receivedAt);
  return {
    service_request_id: c.caseId,
    ...caseFields(c, ctx),
    ...(ctx.publish.description ? { description: maskText(c.text) } : {}),
    ...(requested ? { requested_datetime: requested } : {}),
    ...publicLocation(c.location, ctx.publish.coordinateDecimals),
  };
}

/** One report by its own 受理编号 (GET requests/{id}): its own words and place, its case's progress. */
export function requestFromReport(report: StoredReport, c: Case | undefined, ctx: PublishContext): PublicRequest {
  const r = report.request;
  const requested = toW3c(r.receivedAt);
  const base: PublicRequest = c
    ? { service_request_id: report.trackingNo, ...caseFields(c, ctx) }
    : {
        service_request_id: report.trackingNo,
        status: 'open',
        status_notes: '已受理，正在分拨',
        ...(toW3c(report.acceptedAt) ? { updated_datetime: toW3c(report.acceptedAt) } : {}),
      };
  if (!base.service_code && r.categoryHint && ctx.catalog.get(r.categoryHint)) {
    base.service_code = r.categoryHint;
    base.service_name = ctx.catalog.get(r.categoryHint)?.service.service_name;
  }
  return {
    ...base,
    ...(ctx.publish.description ? { description: maskText(r.text) } : {}),
    ...(requested ? { requested_datetime: requested } : {}),
    ...publicLocation(r.location, ctx.publish.coordinateDecimals),
  };
}

/**
 * The ids under which a case's updates are published, with the instant each reporter joined: the case's own id,
 * and the 受理编号 of every Open311 report merged into it (FixMyStreet knows its request by that number).
 */
export function updateIdsOf(c: Case, scope: Open311Config['publish']['updatesScope']): Map<string, number> {
  const ids = new Map<string, number>();
  if (scope === 'all' || c.channel === 'open311') ids.set(c.caseId, Number.NEGATIVE_INFINITY);
  for (const r of c.reporters) {
    if (r.channel !== 'open311' || ids.has(r.trackingNo)) continue;
    const joined = r.trackingNo === c.caseId ? Number.NEGATIVE_INFINITY : Date.parse(r.receivedAt);
    ids.set(r.trackingNo, Number.isFinite(joined) ? joined : Number.NEGATIVE_INFINITY);
  }
  return ids;
}

/** The updates of a case inside [fromMs, toMs]: each public staff/system history entry is one update. */
export function updatesOf(
  c: Case,
  window: { fromMs: number; toMs: number },
  scope: Open311Config['publish']['updatesScope'],
): RequestUpdate[] {
  const ids = updateIdsOf(c, scope);
  if (ids.size === 0) return [];
  const out: RequestUpdate[] = [];
  c.history.forEach((h, index) => {
    if (!isStatusEntry(h)) return;
    const at = Date.parse(h.at);
    if (!Number.isFinite(at) || at < window.fromMs || at > window.toMs) return;
    const state = (h.to ?? c.state) as CaseState;
    const updated = toW3c(h.at);
    if (!updated) return;
    for (const [id, joined] of ids) {
      if (at < joined) continue;
      out.push({
        update_id: `${id}-${index}`,
        service_request_id: id,
        status: UPDATE_STATUS[state] ?? 'OPEN',
        updated_datetime: updated,
        description: entryWords(h),
        external_status_code: state,
      });
    }
  });
  return out;
}
