/**
 * 录入辅助 (draft assistance), called while the agent types: the suggested category with its confidence and the
 * runners-up (the triage classifier), the caller's open cases (a repeat caller usually calls about one of them), a
 * title as agents write it, and possible duplicates (重复件/并案, from the dedupe engine through the
 * `duplicateSuggestions` extension point). No writes. A failing duplicate lookup leaves the list empty and says so
 * (`duplicates: 'unavailable'`): it never costs the agent the rest of the answer.
 */
import { CONTACT_ID_PATTERN } from '#channels/hotline/connect.ts';
import { invalid } from '#channels/hotline/submission.ts';
import type { DuplicateSuggestion } from '#core/dedupe/engine.ts';
import { toShanghaiIso } from '#core/ids.ts';
import { cleanAddress, cleanLine, cleanText, deriveTitle, normalizePhone } from '#core/intake/normalize.ts';
import { type Citizen, LIMITS, type Location } from '#core/intake/schema.ts';
import type { CaseSummary } from '#core/views/staff.ts';
import { log } from '../lib/log.ts';
import { casesOfCitizen } from './caller.ts';
import type { HotlineDeps } from './context.ts';

export interface CategorySuggestion {
  category: string;
  categoryName: string;
  confidence: number;
}

export interface AssistResult {
  /** The classifier's pick; null when it has none (or is unavailable: see `classifier`). */
  suggestion: (CategorySuggestion & { decision: 'auto' | 'manual'; label?: string; reason: string }) | null;
  alternatives: CategorySuggestion[];
  classifier: 'ok' | 'unavailable';
  duplicates: 'ok' | 'unavailable';
  title: string;
  caller: { phone?: string; from: 'telephony' | 'typed' | 'none' };
  knownReports: number;
  /** More reports than were read: `knownReports` is a lower bound. */
  knownReportsMore: boolean;
  openCases: CaseSummary[];
  duplicateSuggestions: DuplicateSuggestion[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export async function assistDraft(deps: HotlineDeps, body: Record<string, unknown>): Promise<AssistResult> {
  const text = cleanText(str(body.text) ?? '');
  if (text === '') throw invalid('TEXT_REQUIRED', '请先输入诉求内容 type the request first');
  if ([...text].length > LIMITS.text) throw invalid('FIELD_TOO_LONG', `内容超过 ${LIMITS.text} 字 text too long`);
  const title = str(body.title) ? cleanLine(str(body.title) as string) : '';
  const location = locationOf(body.location);

  // The caller: telephony's number for a call, else a number the agent typed.
  const caller: AssistResult['caller'] = { from: 'none' };
  const contactId = str(body.contactId);
  if (contactId !== undefined) {
    if (!CONTACT_ID_PATTERN.test(contactId))
      throw invalid('INVALID_CONTACT_ID', 'contactId 格式不正确 malformed contact id');
    const call = await deps.calls.get(contactId);
    if (call?.callerPhone) Object.assign(caller, { phone: call.callerPhone, from: 'telephony' });
  }
  if (!caller.phone && str(body.phone)?.trim()) {
    Object.assign(caller, { phone: normalizePhone(str(body.phone) as string), from: 'typed' });
  }
  const citizen: Citizen | undefined = caller.phone ? { phone: caller.phone } : undefined;

  const classify = await deps.classifier();
  const named = (code: string | undefined, confidence: number): CategorySuggestion | undefined => {
    const c = code ? deps.categories.get(code) : undefined;
    return c ? { category: c.code, categoryName: c.name, confidence } : undefined;
  };
  const hint = str(body.category);
  let suggestion: AssistResult['suggestion'] = null;
  let alternatives: CategorySuggestion[] = [];
  if (classify) {
    const verdict = classify({ ...(title ? { title } : {}), text, ...(hint ? { categoryHint: hint } : {}) });
    const top = named(verdict.category, verdict.confidence);
    if (top) {
      suggestion = {
        ...top,
        decision: verdict.decision,
        reason: verdict.reason,
        ...(verdict.label ? { label: verdict.label } : {}),
      };
    }
    const seen = new Set(top ? [top.category] : []);
    for (const alt of verdict.alternatives ?? []) {
      const a = named(alt.category, alt.confidence);
      if (a && !seen.has(a.category)) {
        seen.add(a.category);
        alternatives.push(a);
      }
    }
    alternatives = alternatives.slice(0, 5);
  }
  const category = suggestion?.category ?? (hint && deps.categories.has(hint) ? hint : undefined);
  let duplicates: AssistResult['duplicates'] = 'ok';
  const [history, duplicateSuggestions] = await Promise.all([
    casesOfCitizen(deps.store, citizen, deps.departmentName),
    deps
      .duplicateSuggestions({
        text,
        ...(title ? { title } : {}),
        ...(location ? { location } : {}),
        ...(citizen ? { citizen } : {}),
        ...(category ? { category } : {}),
        at: toShanghaiIso(deps.clock.now()),
      })
      .catch((e: Error) => {
        log.warn('duplicate suggestions unavailable', { error: e.message });
        duplicates = 'unavailable';
        return [];
      }),
  ]);
  return {
    suggestion,
    alternatives,
    classifier: classify ? 'ok' : 'unavailable',
    duplicates,
    title: title || deriveTitle(text),
    caller,
    knownReports: history.knownReports,
    knownReportsMore: history.knownReportsMore === true,
    openCases: history.open,
    duplicateSuggestions,
  };
}

function locationOf(v: unknown): Location | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const l = v as Record<string, unknown>;
  const out: Location = {};
  const address = str(l.address) ? cleanAddress(str(l.address) as string) : '';
  if (address) out.address = address.slice(0, LIMITS.address);
  const street = str(l.street) ? cleanAddress(str(l.street) as string) : '';
  if (street) out.street = street.slice(0, 50);
  if (l.datum === 'WGS84' || l.datum === 'GCJ02') out.datum = l.datum;
  for (const k of ['lat', 'lon'] as const) {
    const n = typeof l[k] === 'number' ? l[k] : Number(l[k]);
    if (l[k] !== undefined && l[k] !== '' && Number.isFinite(n)) out[k] = n as number;
  }
  return Object.keys(out).length ? out : undefined;
}
