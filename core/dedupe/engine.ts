/**
 * The dedupe engine: lookups + `decide` + writes against the `DedupeStore` port, following the claim protocol
 * described in `store.ts`. Used by production triage (with the DynamoDB adapter) and by `cityloop dedupe`
 * (with the in-memory store).
 */
import { crossedThresholds, type DedupeConfig, settingsFor } from './config.ts';
import { type Candidate, type Decision, decide, incidentMatch } from './decide.ts';
import {
  candidateKeys,
  contentBuckets,
  type DedupeReport,
  entryOf,
  keyOf,
  prepareReport,
  type ReportFeatures,
  writeKeys,
} from './features.ts';
import { cellsWithin, encodeCell, haversineMeters, precisionForRadius } from './geo.ts';
import type { GroupResolver } from './groups.ts';
import type { CandidateEntry, CaseState, DedupeStore } from './store.ts';

export interface DedupeResult extends Decision {
  caseId: string;
  /** Distinct reporters on the case after this report (1 for a new case). */
  reporterCount: number;
  /** Growth thresholds crossed by this report (→ `Case.IncidentGrew`). */
  crossed: number[];
  /** The report came again (same report id): the earlier answer, side effects re-applied idempotently. */
  replayed?: boolean;
  /** The yielded-to case did not settle in time (its worker crashed?): `caseId` is its id, resolved on its redelivery. */
  unsettled?: boolean;
  group: string;
}

export interface DuplicateSuggestion {
  caseId: string;
  title: string;
  receivedAt: string;
  status: 'open' | 'closed';
  reporterCount: number;
  distanceMeters?: number;
  textSimilarity: number;
  relation: 'repeat' | 'incident';
  score: number;
}

export interface DedupeEngineOptions {
  store: DedupeStore;
  config: DedupeConfig;
  groups: GroupResolver;
  /** The case id a report opens when it is new (deterministic per report id, so retries agree). Default: the report id. */
  caseIdOf?: (reportId: string) => string;
  /** Backoff while waiting for a racing worker's decision. Default: setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

export interface DedupeEngine {
  process(report: DedupeReport): Promise<DedupeResult>;
  /**
   * A batch of reports (one SQS batch of triage): the same decisions as `process` on each, with the reads of all
   * reports made together (their fates and content claims in one batched read, then the candidate keys of all of
   * them in as few batched reads as the store allows). One report failing does not fail the others.
   */
  processBatch(reports: readonly DedupeReport[]): Promise<PromiseSettledResult<DedupeResult>[]>;
  /**
   * A report a person put on a case (an agent's 关联到已有工单), told to the engine as if it had decided it: the report's
   * fate names the case (a redelivered copy is answered with it), the case is indexed under the report's keys where
   * it is missing (later reports at that place find it), and the reporter is counted on the case's dedupe state.
   * Idempotent per report; a report the engine had already decided keeps that decision (the answer says which case).
   */
  join(report: DedupeReport, caseId: string, relation: 'repeat' | 'incident'): Promise<DedupeResult>;
  /** 重复件/并案 suggestions for an agent before filing: the matching open cases near this report, best first. No writes. */
  suggest(report: DedupeReport, limit?: number): Promise<DuplicateSuggestion[]>;
  prepare(report: DedupeReport): ReportFeatures;
}

const HOUR = 3_600_000;

/**
 * The anchor bases a new case claims, in the one global (sorted) order every worker claims them in. With buckets of
 * T hours: the cells within R of the report in its own bucket, its own cell in the next bucket, and its place keys in
 * its own and the next bucket. Why two matching reports share one: they are within T (so the later one's bucket is
 * the earlier one's or the next) and within R or at one place. Same bucket b: the earlier one's own cell at b is among
 * the later one's cells within R at b (the disk around it contains the earlier report); next bucket b + 1: the earlier
 * one claims its own cell at b + 1, among the later one's cells at b + 1; a shared place p: one claims (p, b) and
 * (p, b + 1), the other (p, b) or (p, b + 1). This is |cells| + 1 cell anchors instead of 2 × |cells| for the
 * window [t − T, t] (`anchorBases` of features.ts): the same guarantee with up to 3 fewer conditional writes.
 */
export function incidentAnchors(f: ReportFeatures, config: DedupeConfig): string[] {
  const { radiusMeters: r, windowHours: T } = settingsFor(config, f.group).incident;
  const b = Math.floor(f.at / (T * HOUR));
  const bases: string[] = [];
  if (f.lat !== undefined && f.lon !== undefined) {
    const precision = precisionForRadius(r);
    for (const cell of cellsWithin(f.lat, f.lon, r, precision)) bases.push(`${f.group}|g:${cell}|${b}`);
    bases.push(`${f.group}|g:${encodeCell(f.lat, f.lon, precision)}|${b + 1}`);
  }
  for (const p of f.placeKeys) bases.push(`${f.group}|p:${p}|${b}`, `${f.group}|p:${p}|${b + 1}`);
  return [...new Set(bases)].sort();
}

/** Text band keys (`keyOf.band`): one entry each is enough (see `DedupeStore.putLatest`). */
const isBandKey = (key: string): boolean => key.startsWith('t|');

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Fate values: `caseId` alone (a case), or `target\trelation\treopen` for a report that joined another case. */
function encodeFate(target: string, relation: string, reopen?: boolean): string {
  return `${target}\t${relation}\t${reopen ? 1 : 0}`;
}
function decodeFate(v: string): { target: string; relation?: string; reopen: boolean } {
  const [target = v, relation, reopen] = v.split('\t');
  return { target, ...(relation ? { relation } : {}), reopen: reopen === '1' };
}

export function createDedupeEngine(opts: DedupeEngineOptions): DedupeEngine {
  const { store, config, groups } = opts;
  const caseIdOf = opts.caseIdOf ?? ((id: string) => id);
  const sleep = opts.sleep ?? defaultSleep;

  /** Follows `f|id` to the case a tentative id ended in; waits while a racing worker is still deciding. */
  async function resolveCase(id: string): Promise<{ caseId: string; settled: boolean }> {
    let cur = id;
    for (let hop = 0; hop < 16; hop++) {
      let v = await store.readClaim(keyOf.fate(cur));
      for (let a = 0; v === undefined && a < config.protocol.fateWaitAttempts; a++) {
        await sleep(config.protocol.fateWaitMs * Math.min(1 + a, 4));
        v = await store.readClaim(keyOf.fate(cur));
      }
      if (v === undefined) return { caseId: cur, settled: false };
      const { target } = decodeFate(v);
      if (target === cur) return { caseId: cur, settled: true };
      cur = target;
    }
    return { caseId: cur, settled: false };
  }

  interface Lookup {
    entries: CandidateEntry[];
    states: Map<string, CaseState>;
    /** Which cases each key returned: a case already under a key needs no new entry there. */
    casesByKey: Map<string, Set<string>>;
  }

  /** The candidates of several reports: their keys read together, then the states of every case found, together. */
  async function lookupMany(fs: readonly ReportFeatures[]): Promise<Lookup[]> {
    const keysOf = fs.map((f) => candidateKeys(f, config));
    const all = [...new Set(keysOf.flat())];
    const byKey = all.length > 0 ? await store.getByKeys(all) : new Map<string, CandidateEntry[]>();
    const caseIds = new Set<string>();
    const partial = keysOf.map((keys) => {
      const entries: CandidateEntry[] = [];
      const casesByKey = new Map<string, Set<string>>();
      const seen = new Set<string>();
      for (const key of keys) {
        const list = byKey.get(key) ?? [];
        casesByKey.set(key, new Set(list.map((e) => e.caseId)));
        for (const e of list) {
          const id = `${e.caseId}\n${e.reportId}`;
          if (!seen.has(id)) {
            seen.add(id);
            entries.push(e);
            caseIds.add(e.caseId);
          }
        }
      }
      return { entries, casesByKey };
    });
    const states = caseIds.size > 0 ? await store.getCaseStates([...caseIds]) : new Map<string, CaseState>();
    return partial.map((p) => ({ ...p, states }));
  }

  async function entriesOf(key: string): Promise<CandidateEntry[]> {
    return (await store.getByKeys([key])).get(key) ?? [];
  }

  /** Band keys keep one entry each (batched plain puts); the other keys keep their newest entries. */
  async function index(keys: readonly string[], entry: CandidateEntry): Promise<void> {
    const bands = keys.filter(isBandKey);
    const others = keys.filter((k) => !isBandKey(k));
    await Promise.all([
      others.length > 0 ? store.putKeys(others, entry) : undefined,
      bands.length > 0 ? store.putLatest(bands, entry) : undefined,
    ]);
  }

  const EMPTY: Lookup = { entries: [], states: new Map(), casesByKey: new Map() };

  /** Indexes the case under this report's keys where the lookup did not already show it. */
  async function indexUnder(f: ReportFeatures, caseId: string, seen: Lookup): Promise<void> {
    const missing = writeKeys(f, config).filter((k) => !seen.casesByKey.get(k)?.has(caseId));
    if (missing.length > 0) await index(missing, entryOf(f, caseId));
  }

  async function finish(
    f: ReportFeatures,
    decision: Decision & { caseId: string },
    extra: Partial<DedupeResult> = {},
  ): Promise<DedupeResult> {
    if (decision.relation === 'resubmission') {
      // The same submission again adds no reporter (an anonymous double click must not grow an incident).
      const state = (await store.getCaseStates([decision.caseId])).get(decision.caseId);
      return { ...decision, reporterCount: state?.reporterCount ?? 1, crossed: [], group: f.group, ...extra };
    }
    const counts = await store.addReporter(decision.caseId, f.reporterKey, f.at);
    const crossed =
      decision.relation === 'incident' || decision.relation === 'repeat'
        ? crossedThresholds(counts.before, counts.after, config.growthThresholds)
        : [];
    return { ...decision, reporterCount: counts.after, crossed, group: f.group, ...extra };
  }

  async function attach(
    f: ReportFeatures,
    mine: string,
    decision: Decision & { caseId: string },
    seen: Lookup,
  ): Promise<DedupeResult> {
    const fate = await store.claim(keyOf.fate(mine), encodeFate(decision.caseId, decision.relation, decision.reopen));
    if (!fate.won) return replay(f, mine, fate.value, seen);
    // The index writes and the reporter count are independent single-item writes: one round trip, not two.
    const [, result] = await Promise.all([indexUnder(f, decision.caseId, seen), finish(f, decision)]);
    return result;
  }

  /** The report was decided before (a retry, or a racing copy of itself): answer the same, re-apply side effects. */
  async function replay(f: ReportFeatures, mine: string, fateValue: string, seen: Lookup): Promise<DedupeResult> {
    const { target, relation, reopen } = decodeFate(fateValue);
    if (target === mine) {
      await index(writeKeys(f, config, true), entryOf(f, mine));
      return finish(
        f,
        { relation: 'new', caseId: mine, score: 0, explanation: `新工单（重放）。New case (replayed).` },
        { replayed: true },
      );
    }
    const resolved = await resolveCase(target);
    if (resolved.settled) await indexUnder(f, resolved.caseId, seen);
    const rel = (relation === 'repeat' || relation === 'resubmission' ? relation : 'incident') as Decision['relation'];
    return finish(
      f,
      {
        relation: rel,
        caseId: resolved.caseId,
        score: 0,
        ...(reopen ? { reopen } : {}),
        explanation: `已处理过的受理单，归入工单 ${resolved.caseId}（重放）。Already decided: case ${resolved.caseId} (replayed).`,
      },
      { replayed: true, ...(resolved.settled ? {} : { unsettled: true }) },
    );
  }

  /** What the first batched read tells about a report: its fate if decided before, the previous content claim. */
  interface Prefetched {
    fate?: string;
    previousContent?: string;
  }

  function prefetchKeys(f: ReportFeatures, mine: string): { fate: string; previousContent?: string } {
    const out: { fate: string; previousContent?: string } = { fate: keyOf.fate(mine) };
    if (!f.channelMessageId && f.citizenKeys.length > 0) {
      const { current, previous } = contentBuckets(f, config);
      if (previous !== current) out.previousContent = keyOf.content(f.contentHash, previous);
    }
    return out;
  }

  /**
   * Steps 0 and 1 of a report: a replay of an earlier decision, or a resubmission, is answered here; otherwise the
   * report needs the lookup (undefined).
   */
  async function beforeLookup(f: ReportFeatures, mine: string, pre: Prefetched): Promise<DedupeResult | undefined> {
    // 0. Decided before (redelivery of this very report)?
    if (pre.fate !== undefined) return replay(f, mine, pre.fate, EMPTY);

    // 1. Resubmission.
    const submissionOwner = await claimSubmission(f, pre);
    if (!submissionOwner) return undefined;
    const resolved = await resolveCase(caseIdOf(submissionOwner.reportId));
    const candidates: Candidate[] = [
      { kind: 'submission', reportId: submissionOwner.reportId, caseId: resolved.caseId, match: submissionOwner.match },
    ];
    const d = decide(f, candidates, config) as Decision & { caseId: string };
    const fate = await store.claim(keyOf.fate(mine), encodeFate(d.caseId, 'resubmission'));
    if (!fate.won) return replay(f, mine, fate.value, EMPTY);
    return finish(f, d, resolved.settled ? {} : { unsettled: true });
  }

  /** Steps 2 and 3: decide on the candidates found; a new report claims its anchors and commits. */
  async function afterLookup(f: ReportFeatures, mine: string, seen: Lookup): Promise<DedupeResult> {
    const candidates: Candidate[] = [];
    const { entries, states } = seen;
    for (const e of entries) {
      // Our own tentative case can be indexed already by a racing report that yielded to us before we crashed.
      if (e.caseId === mine) continue;
      const state = states.get(e.caseId);
      candidates.push(state ? { kind: 'case', entry: e, state } : { kind: 'case', entry: e });
    }
    const decision = decide(f, candidates, config);
    if (decision.relation !== 'new') return attach(f, mine, decision as Decision & { caseId: string }, seen);

    // 3. New: claim the incident anchors in the global order, then commit.
    const own = entryOf(f, mine);
    const bases = incidentAnchors(f, config);
    if (bases.length > 0) {
      await store.putKeys([keyOf.case(mine)], own);
      for (const base of bases) {
        for (let slot = 0; slot < config.protocol.anchorSlots; slot++) {
          const c = await store.claim(keyOf.anchor(base, slot), mine);
          if (c.won) break;
          const ownerEntries = await entriesOf(keyOf.case(c.value));
          const owner = ownerEntries.find((e) => e.caseId === c.value);
          if (!owner || !incidentMatch(f, owner, config).ok) continue;
          // A closed case keeps its anchor until the bucket ages out: it is not joined (decide skipped it too).
          if ((await store.getCaseStates([owner.caseId])).get(owner.caseId)?.status === 'closed') continue;
          return yieldTo(f, mine, owner, seen);
        }
      }
    }
    const fate = await store.claim(keyOf.fate(mine), mine);
    if (!fate.won) return replay(f, mine, fate.value, seen);
    const [, result] = await Promise.all([
      index(writeKeys(f, config, true), own),
      finish(f, { ...decision, caseId: mine }),
    ]);
    return result;
  }

  async function join(report: DedupeReport, caseId: string, relation: 'repeat' | 'incident'): Promise<DedupeResult> {
    const f = prepareReport(report, config, groups);
    const [seen] = await lookupMany([f]);
    const decision = {
      relation,
      caseId,
      score: 1,
      explanation: `坐席关联到工单 ${caseId}。Attached to case ${caseId} by an agent.`,
    };
    return attach(f, caseIdOf(f.id), decision, seen ?? EMPTY);
  }

  async function processBatch(reports: readonly DedupeReport[]): Promise<PromiseSettledResult<DedupeResult>[]> {
    const out: PromiseSettledResult<DedupeResult>[] = new Array(reports.length);
    const fail = (i: number, reason: unknown) => {
      out[i] = { status: 'rejected', reason };
    };
    const live: { i: number; f: ReportFeatures; mine: string; keys: ReturnType<typeof prefetchKeys> }[] = [];
    reports.forEach((r, i) => {
      try {
        const f = prepareReport(r, config, groups);
        const mine = caseIdOf(f.id);
        live.push({ i, f, mine, keys: prefetchKeys(f, mine) });
      } catch (e) {
        fail(i, e);
      }
    });
    // 0–1. One read for every fate and previous content claim, then each report's submission claim.
    let claims: Map<string, string>;
    try {
      claims = await store.readClaims(
        live.flatMap((x) => (x.keys.previousContent ? [x.keys.fate, x.keys.previousContent] : [x.keys.fate])),
      );
    } catch (e) {
      for (const x of live) fail(x.i, e);
      return out;
    }
    const pres = live.map((x) => {
      const pre: Prefetched = {};
      const fate = claims.get(x.keys.fate);
      if (fate !== undefined) pre.fate = fate;
      const prev = x.keys.previousContent ? claims.get(x.keys.previousContent) : undefined;
      if (prev !== undefined) pre.previousContent = prev;
      return pre;
    });
    // 2. The candidates of every report not decided before (no fate: a replay needs none), read while the submission
    // claims are made: a claim changes nothing the read sees (index entries are written by committed cases only), and
    // a lookup that starts earlier is one the protocol already allows (any worker's lookup can be overtaken by another's
    // commit). One round trip less a batch; a report its claim decides (a resubmission) leaves its lookup unused.
    const ahead = live.flatMap((_, k) => (pres[k]!.fate === undefined ? [k] : []));
    const lookups =
      ahead.length > 0
        ? lookupMany(ahead.map((k) => live[k]!.f)).then(
            (found) => ({ seen: new Map(ahead.map((k, j) => [k, found[j]!] as const)) }),
            (error: unknown) => ({ error }),
          )
        : undefined;
    const early = await Promise.allSettled(live.map((x, k) => beforeLookup(x.f, x.mine, pres[k]!)));
    const pending: { x: (typeof live)[number]; k: number }[] = [];
    early.forEach((r, k) => {
      const x = live[k]!;
      if (r.status === 'rejected') fail(x.i, r.reason);
      else if (r.value) out[x.i] = { status: 'fulfilled', value: r.value };
      else pending.push({ x, k });
    });
    // Every undecided report had no fate, so its candidates are being read.
    const looked = pending.length > 0 ? await lookups : undefined;
    if (looked === undefined) return out;
    if ('error' in looked) {
      for (const { x } of pending) fail(x.i, looked.error);
      return out;
    }
    // 3. Decide and write, each report on its own (the claim protocol orders what must be ordered).
    const late = await Promise.allSettled(pending.map(({ x, k }) => afterLookup(x.f, x.mine, looked.seen.get(k)!)));
    late.forEach((r, j) => {
      out[pending[j]!.x.i] = r;
    });
    return out;
  }

  async function process(report: DedupeReport): Promise<DedupeResult> {
    const [r] = await processBatch([report]);
    if (r!.status === 'rejected') throw r!.reason;
    return r!.value;
  }

  /** Lost an anchor to a matching case that is being created right now: join it. */
  async function yieldTo(f: ReportFeatures, mine: string, owner: CandidateEntry, seen: Lookup): Promise<DedupeResult> {
    const fate = await store.claim(keyOf.fate(mine), encodeFate(owner.caseId, 'incident'));
    if (!fate.won) return replay(f, mine, fate.value, seen);
    const resolved = await resolveCase(owner.caseId);
    const m = incidentMatch(f, owner, config);
    const decision: Decision & { caseId: string } = {
      relation: 'incident',
      caseId: resolved.caseId,
      score: Math.round(m.score * 100) / 100,
      matchedReportId: owner.reportId,
      textSimilarity: Math.round(m.text * 100) / 100,
      ...(m.distanceMeters !== undefined ? { distanceMeters: m.distanceMeters } : {}),
      explanation:
        `并案：与同时受理的受理单 ${owner.reportId} 为同一事件（同类事项 ${f.group}，文本相似度 ${Math.round(m.text * 100) / 100}），并入工单 ${resolved.caseId}。` +
        ` Incident: reported at the same time as report ${owner.reportId} (group ${f.group}, text similarity ${Math.round(m.text * 100) / 100}); merged into case ${resolved.caseId}.`,
    };
    // An unsettled holder may still end merged elsewhere: index only under a case id that is known to be final.
    if (resolved.settled) await indexUnder(f, resolved.caseId, seen);
    return finish(f, decision, resolved.settled ? {} : { unsettled: true });
  }

  async function claimSubmission(
    f: ReportFeatures,
    pre: Prefetched,
  ): Promise<{ reportId: string; match: 'message-id' | 'content-hash' } | undefined> {
    if (f.channelMessageId) {
      const c = await store.claim(keyOf.submission(f.channel ?? '', f.channelMessageId), f.id);
      return c.won ? undefined : { reportId: c.value, match: 'message-id' };
    }
    if (f.citizenKeys.length === 0) return undefined;
    const { current, previous } = contentBuckets(f, config);
    if (previous !== current) {
      const prev = pre.previousContent;
      if (prev !== undefined && prev !== f.id) return { reportId: prev, match: 'content-hash' };
    }
    const c = await store.claim(keyOf.content(f.contentHash, current), f.id);
    return c.won ? undefined : { reportId: c.value, match: 'content-hash' };
  }

  async function suggest(report: DedupeReport, limit = 5): Promise<DuplicateSuggestion[]> {
    const f = prepareReport(report, config, groups);
    const [{ entries, states }] = (await lookupMany([f])) as [Lookup];
    const best = new Map<string, DuplicateSuggestion>();
    for (const e of entries) {
      const state = states.get(e.caseId);
      const d = decide(f, [state ? { kind: 'case', entry: e, state } : { kind: 'case', entry: e }], config);
      if (d.relation !== 'repeat' && d.relation !== 'incident') continue;
      const s: DuplicateSuggestion = {
        caseId: e.caseId,
        title: e.title,
        receivedAt: new Date(e.at).toISOString(),
        status: state?.status ?? 'open',
        reporterCount: state?.reporterCount ?? 1,
        ...(f.lat !== undefined && e.lat !== undefined
          ? { distanceMeters: Math.round(haversineMeters(f.lat, f.lon!, e.lat, e.lon!)) }
          : {}),
        textSimilarity: d.textSimilarity ?? 0,
        relation: d.relation,
        score: d.score,
      };
      const prev = best.get(e.caseId);
      if (!prev || s.score > prev.score) best.set(e.caseId, s);
    }
    return [...best.values()].sort((a, b) => b.score - a.score).slice(0, limit);
  }

  return { process, processBatch, join, suggest, prepare: (r) => prepareReport(r, config, groups) };
}
