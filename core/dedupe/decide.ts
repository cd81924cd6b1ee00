/**
 * The one place where the relation of a report to what exists is decided, pure and synchronous:
 * 1 resubmission (the same submission again), 2 repeat 重复件 (same citizen, same problem), 3 incident 并案 (other
 * citizens, same problem, near in space and time), else new. The explanation goes into the case history, in Chinese
 * and English, with the numbers that led to it (so a supervisor can judge the merge).
 */
import { isPreciseKey, isRoadKey } from './address.ts';
import { type DedupeConfig, settingsFor } from './config.ts';
import type { ReportFeatures } from './features.ts';
import { haversineMeters } from './geo.ts';
import type { CandidateEntry, CaseState } from './store.ts';
import { compareSketches, textScore } from './text.ts';

export type Relation = 'new' | 'resubmission' | 'repeat' | 'incident';

export type Candidate =
  | { kind: 'submission'; reportId: string; caseId: string; match: 'message-id' | 'content-hash' }
  | { kind: 'case'; entry: CandidateEntry; state?: CaseState };

export interface Decision {
  relation: Relation;
  /** The case the report goes to; absent for `new` (the engine names the new case). */
  caseId?: string;
  /** 0..1: how sure (1 for a resubmission). */
  score: number;
  explanation: string;
  /** A repeat of a closed case: the case goes back for review (重办). */
  reopen?: boolean;
  /** The report whose entry matched. */
  matchedReportId?: string;
  distanceMeters?: number;
  textSimilarity?: number;
}

export interface IncidentMatch {
  ok: boolean;
  score: number;
  text: number;
  distanceMeters?: number;
  samePlace: boolean;
  gapMinutes: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Minutes between the report and the case's active interval [entry.at, lastReportAt] (0 inside it). */
function gapMs(at: number, entry: CandidateEntry, state?: CaseState): number {
  const from = entry.at;
  const to = Math.max(entry.at, state?.lastReportAt ?? entry.at);
  return at < from ? from - at : at > to ? at - to : 0;
}

/**
 * Could this report and this case entry be one incident? Symmetric in the two reports (the race protocol relies on
 * it): same group, within R metres or sharing a place key, within T hours, similar enough text.
 */
export function incidentMatch(
  f: ReportFeatures,
  e: CandidateEntry,
  config: DedupeConfig,
  state?: CaseState,
): IncidentMatch {
  const s = settingsFor(config, f.group).incident;
  const gap = gapMs(f.at, e, state);
  const sim = textScore(compareSketches(f.sketch, e.sketch), config.text.containmentWeight);
  const out: IncidentMatch = { ok: false, score: 0, text: sim, samePlace: false, gapMinutes: Math.round(gap / 60_000) };
  if (e.group !== f.group || gap > s.windowHours * HOUR) return out;
  let proximity = 0;
  if (f.lat !== undefined && f.lon !== undefined && e.lat !== undefined && e.lon !== undefined) {
    out.distanceMeters = Math.round(haversineMeters(f.lat, f.lon, e.lat, e.lon));
    if (out.distanceMeters <= s.radiusMeters) proximity = 1 - out.distanceMeters / s.radiusMeters;
  }
  const shared = f.placeKeys.filter((k) => e.placeKeys.includes(k));
  const precise = shared.some(isPreciseKey);
  out.samePlace = shared.some((k) => !isRoadKey(k));
  const sameRoad = shared.length > 0 && !out.samePlace;
  if (precise) proximity = Math.max(proximity, 0.9);
  else if (out.samePlace) proximity = Math.max(proximity, 0.6);
  else if (sameRoad) proximity = Math.max(proximity, 0.3);
  const byCoords = out.distanceMeters !== undefined && out.distanceMeters <= s.radiusMeters;
  if (!byCoords && !out.samePlace && !sameRoad) return out;
  // Two named spots (door, building, crossing) that are not the same one, and no coordinates saying they are close:
  // 和平路88号 and 和平路99号 are two street lights, even on one road.
  if (!byCoords && !precise && spotsDiffer(f, e)) return out;
  // The more precise the shared place, the less the texts need to agree (a door number says more than a road).
  // A report that names only a road (no coordinates, no door) cannot say more: it needs what a nearby report needs.
  const vague = (x: { lat?: number; placeKeys: string[] }) => x.lat === undefined && !x.placeKeys.some(isPreciseKey);
  const need = precise
    ? s.placeMinTextSimilarity
    : byCoords || out.samePlace || vague(f) || vague(e)
      ? s.minTextSimilarity
      : s.roadMinTextSimilarity;
  if (sim < need) return out;
  out.ok = true;
  out.score = 0.5 * sim + 0.3 * proximity + 0.2 * (1 - gap / (s.windowHours * HOUR));
  return out;
}

/** Both name precise spots (door, building, crossing, house number) and no spot is the same. */
function spotsDiffer(f: { placeKeys: string[] }, e: { placeKeys: string[] }): boolean {
  const fp = f.placeKeys.filter(isPreciseKey);
  const ep = e.placeKeys.filter(isPreciseKey);
  return fp.length > 0 && ep.length > 0 && !fp.some((k) => ep.includes(k));
}

/** Both reports say where they are, and it is not the same place: same text about two places is two problems. */
function placesDisagree(f: ReportFeatures, e: CandidateEntry, config: DedupeConfig): boolean {
  if (f.placeKeys.some((k) => e.placeKeys.includes(k))) return false;
  const fPrecise = f.placeKeys.some(isPreciseKey);
  const ePrecise = e.placeKeys.some(isPreciseKey);
  if (f.lat !== undefined && f.lon !== undefined && e.lat !== undefined && e.lon !== undefined) {
    return haversineMeters(f.lat, f.lon, e.lat, e.lon) > settingsFor(config, f.group).incident.radiusMeters;
  }
  return fPrecise && ePrecise;
}

function withinRadius(f: ReportFeatures, e: CandidateEntry, config: DedupeConfig): boolean {
  if (f.lat === undefined || f.lon === undefined || e.lat === undefined || e.lon === undefined) return false;
  return haversineMeters(f.lat, f.lon, e.lat, e.lon) <= settingsFor(config, f.group).incident.radiusMeters;
}

function compatibleForRepeat(f: ReportFeatures, e: CandidateEntry, config: DedupeConfig): boolean {
  if (e.group === f.group) return true;
  if (f.root && e.root && f.root === e.root) return true;
  return config.looseGroups.includes(f.group) || config.looseGroups.includes(e.group);
}

const fmtMeters = (m?: number) => (m === undefined ? '' : `${m} 米`);
const fmtGap = (min: number) =>
  min < 90 ? `${min} 分钟` : min < 48 * 60 ? `${Math.round(min / 60)} 小时` : `${Math.round(min / 1440)} 天`;
const fmtGapEn = (min: number) =>
  min < 90 ? `${min} min` : min < 48 * 60 ? `${Math.round(min / 60)} h` : `${Math.round(min / 1440)} d`;
const r2 = (x: number) => Math.round(x * 100) / 100;

export function decide(f: ReportFeatures, candidates: readonly Candidate[], config: DedupeConfig): Decision {
  // 1. The same submission again.
  for (const c of candidates) {
    if (c.kind !== 'submission') continue;
    const why =
      c.match === 'message-id'
        ? `与受理单 ${c.reportId} 的渠道消息编号相同。Resubmission: same channel message id as report ${c.reportId}.`
        : `同一市民在 ${config.resubmission.contentHashMinutes} 分钟内提交了相同内容（受理单 ${c.reportId}）。Resubmission: same citizen and same text as report ${c.reportId} within ${config.resubmission.contentHashMinutes} min.`;
    return {
      relation: 'resubmission',
      caseId: c.caseId,
      score: 1,
      matchedReportId: c.reportId,
      explanation: `重复提交：${why}`,
    };
  }
  const cases = candidates.filter((c): c is Extract<Candidate, { kind: 'case' }> => c.kind === 'case');

  // 2. Same citizen, same problem (重复件).
  const repeat = settingsFor(config, f.group).repeat;
  let bestRepeat: { c: (typeof cases)[number]; sim: number } | undefined;
  if (f.citizenKeys.length > 0) {
    for (const c of cases) {
      const e = c.entry;
      if (!e.citizenKeys.some((k) => f.citizenKeys.includes(k))) continue;
      const closed = c.state?.status === 'closed';
      if (closed && f.at - (c.state?.closedAt ?? 0) > repeat.windowDays * DAY) continue;
      // The same citizen about another spot is another problem (two broken lights, two blocked drains).
      if (spotsDiffer(f, e) && !withinRadius(f, e, config)) continue;
      const sim = textScore(compareSketches(f.sketch, e.sketch), config.text.containmentWeight);
      if (sim < repeat.minTextSimilarity) continue;
      if (sim < repeat.anyGroupTextSimilarity && !compatibleForRepeat(f, e, config)) continue;
      // Prefer an open case, then the most similar text.
      const better =
        !bestRepeat ||
        (bestRepeat.c.state?.status === 'closed' && !closed) ||
        ((bestRepeat.c.state?.status === 'closed') === closed && sim > bestRepeat.sim);
      if (better) bestRepeat = { c, sim };
    }
  }
  if (bestRepeat) {
    const { c, sim } = bestRepeat;
    const closed = c.state?.status === 'closed';
    const gap = fmtGap(Math.round(Math.abs(f.at - c.entry.at) / 60_000));
    const gapEn = fmtGapEn(Math.round(Math.abs(f.at - c.entry.at) / 60_000));
    return {
      relation: 'repeat',
      caseId: c.entry.caseId,
      score: r2(sim),
      ...(closed ? { reopen: true } : {}),
      matchedReportId: c.entry.reportId,
      textSimilarity: r2(sim),
      explanation:
        `重复件：同一市民相隔 ${gap} 再次反映同一问题（文本相似度 ${r2(sim)}），归入工单 ${c.entry.caseId}` +
        (closed ? '；该工单已办结，转重办审核。' : '。') +
        ` Repeat: same citizen, ${gapEn} later, text similarity ${r2(sim)}; attached to case ${c.entry.caseId}` +
        (closed ? ' (closed: reopened for review).' : '.'),
    };
  }

  // 3. Same incident, other citizens (并案): open cases only. Among the matching cases the bigger one is preferred
  // (rank = score + 0.3·log10(1 + reporters)), so that when an incident was split early, new reports gather on
  // its main case instead of growing two in parallel. (0.1 let both halves keep growing: storm recall 66 %; 0.3 gives
  // 93 % at the same precision; 1.0 lets a big case swallow a nearby smaller incident: precision 94 %.)
  let best: { c: (typeof cases)[number]; m: IncidentMatch; rank: number } | undefined;
  for (const c of cases) {
    if (c.state?.status === 'closed') continue;
    const m = incidentMatch(f, c.entry, config, c.state);
    if (!m.ok) continue;
    const rank = m.score + 0.3 * Math.log10(1 + (c.state?.reporterCount ?? 1));
    if (!best || rank > best.rank) best = { c, m, rank };
  }
  if (best) {
    const { c, m } = best;
    // The citizen is already on that case (their earlier report): it is their repeat, found through place and time.
    const own = cases.find(
      (o) => o.entry.caseId === c.entry.caseId && o.entry.citizenKeys.some((k) => f.citizenKeys.includes(k)),
    );
    if (own) {
      const gap = Math.round(Math.abs(f.at - own.entry.at) / 60_000);
      return {
        relation: 'repeat',
        caseId: c.entry.caseId,
        score: r2(m.score),
        matchedReportId: own.entry.reportId,
        textSimilarity: r2(m.text),
        ...(m.distanceMeters !== undefined ? { distanceMeters: m.distanceMeters } : {}),
        explanation:
          `重复件：同一市民相隔 ${fmtGap(gap)} 再次反映同一地点的同类问题（文本相似度 ${r2(m.text)}），归入工单 ${c.entry.caseId}。` +
          ` Repeat: same citizen, ${fmtGapEn(gap)} later, same place and category group (text similarity ${r2(m.text)}); attached to case ${c.entry.caseId}.`,
      };
    }
    const byCoords =
      m.distanceMeters !== undefined && m.distanceMeters <= settingsFor(config, f.group).incident.radiusMeters;
    const where = byCoords ? `相距 ${fmtMeters(m.distanceMeters)}` : m.samePlace ? '地址相同' : '同一道路';
    const whereEn = byCoords ? `${m.distanceMeters} m apart` : m.samePlace ? 'same address' : 'same road';
    return {
      relation: 'incident',
      caseId: c.entry.caseId,
      score: r2(m.score),
      matchedReportId: c.entry.reportId,
      textSimilarity: r2(m.text),
      ...(m.distanceMeters !== undefined ? { distanceMeters: m.distanceMeters } : {}),
      explanation:
        `并案：同类事项（${f.group}），${where}，时间相隔 ${fmtGap(m.gapMinutes)}，文本相似度 ${r2(m.text)}，并入工单 ${c.entry.caseId}。` +
        ` Incident: same category group (${f.group}), ${whereEn}, ${fmtGapEn(m.gapMinutes)} apart, text similarity ${r2(m.text)}; merged into case ${c.entry.caseId}.`,
    };
  }

  // 4. Near-identical text from another citizen, no shared place needed (copy-paste petition, several accounts).
  const nd = config.nearDuplicate;
  let near: { c: (typeof cases)[number]; j: number } | undefined;
  if (f.sketch.size >= nd.minShingles) {
    for (const c of cases) {
      const e = c.entry;
      if (c.state?.status === 'closed' || e.sketch.size < nd.minShingles) continue;
      if (Math.abs(f.at - e.at) > nd.windowDays * DAY || !compatibleForRepeat(f, e, config)) continue;
      if (placesDisagree(f, e, config)) continue;
      const j = compareSketches(f.sketch, e.sketch).jaccard;
      if (j >= nd.minJaccard && (!near || j > near.j)) near = { c, j };
    }
  }
  if (near) {
    const { c, j } = near;
    const gap = Math.round(Math.abs(f.at - c.entry.at) / 60_000);
    return {
      relation: 'incident',
      caseId: c.entry.caseId,
      score: r2(j),
      matchedReportId: c.entry.reportId,
      textSimilarity: r2(j),
      explanation:
        `并案：与受理单 ${c.entry.reportId} 内容几乎相同（相隔 ${fmtGap(gap)}，文本相似度 ${r2(j)}），疑为多人或多账号提交的同一诉求，并入工单 ${c.entry.caseId}。` +
        ` Incident: near-identical text to report ${c.entry.reportId} (${fmtGapEn(gap)} apart, similarity ${r2(j)}), the same request sent by several people or accounts; merged into case ${c.entry.caseId}.`,
    };
  }

  const n = new Set(cases.map((c) => c.entry.caseId)).size;
  return {
    relation: 'new',
    score: 0,
    explanation: `新工单：在 ${n} 个候选工单中未找到同一问题。New case: no matching case among ${n} candidates.`,
  };
}
