/**
 * What triage needs besides the ports: the 事项清单, the departments and the classifier, loaded once per container,
 * and the SLA engine's deadlines for each new case (policy from the category's `slaPolicy` × nature × urgency).
 */
import { dynamoClient, tableName } from '#adapters/dynamo/client.ts';
import { DynamoDedupeStore } from '#adapters/dynamo/dedupe-store.ts';
import { toWgs84 } from '#channels/wechat/gcj02.ts';
import type { Case } from '#core/case.ts';
import { defaultClassifier } from '#core/classify/default.ts';
import { defaultDedupeConfig } from '#core/dedupe/defaults.ts';
import { createDedupeEngine, type DedupeEngine, type DuplicateSuggestion } from '#core/dedupe/engine.ts';
import { createGroupResolver, type GroupResolver } from '#core/dedupe/groups.ts';
import { isCityLoopError } from '#core/errors.ts';
import { caseIdFor, type TrackingNo, toShanghaiIso } from '#core/ids.ts';
import type { Citizen, Location } from '#core/intake/schema.ts';
import type { StoredReport } from '#core/ports.ts';
import { defaultSlaEnv, triageDeadlines } from '#core/sla/case-sla.ts';
import { defaultDepartments, defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import type { Category } from '#core/taxonomy/types.ts';
import { dedupeInputOf, dedupeReportOf, type MergeRelation } from '#core/triage/merge.ts';
import type { Classify, TriageContext } from '#core/triage/triage.ts';
import { log } from './log.ts';

let cached: { classify: Classify; categories: Map<string, Category> } | undefined;

function load() {
  if (!cached) {
    // The trained model with the taxonomy keywords as rules and the shipped thresholds (doubt → 人工分拨).
    const classifier = defaultClassifier();
    cached = {
      classify: (input) => classifier.classify(input),
      categories: new Map(defaultTaxonomy.categories.map((c) => [c.code, c])),
    };
  }
  return cached;
}

/**
 * The SLA record of a case triage opens. A category naming a policy id the policy file does not know is a
 * configuration error: it is logged and the case gets the default policy rather than failing triage (a unit test
 * keeps the shipped 事项清单 and policy file in step).
 */
export function deadlinesFor(c: Case, category: Category | undefined): Record<string, unknown> {
  const env = defaultSlaEnv();
  try {
    return triageDeadlines(c, category, env) as unknown as Record<string, unknown>;
  } catch (e) {
    if (!isCityLoopError(e) || e.code !== 'UNKNOWN_SLA_POLICY') throw e;
    log.error('unknown SLA policy on a category: default policy used', {
      category: category?.code,
      slaPolicy: category?.slaPolicy,
    });
    return triageDeadlines(c, undefined, env) as unknown as Record<string, unknown>;
  }
}

/** The last instant asked for and its Shanghai ISO form: triage asks for one `now` many times in a row. */
let lastNow = { ms: Number.NaN, iso: '' };

export function triageContext(now: Date): TriageContext {
  const { classify, categories } = load();
  const ms = now.getTime();
  if (ms !== lastNow.ms) lastNow = { ms, iso: toShanghaiIso(now) };
  return { classify, categories, departments: defaultDepartments, now: lastNow.iso, deadlinesFor };
}

export { departmentName } from '#core/taxonomy/defaults.ts';

let groups: GroupResolver | undefined;

/** The dedupe groups (事项清单 groups gathered into families by config/dedupe.json), built once per container. */
export function dedupeGroups(): GroupResolver {
  groups ??= createGroupResolver(defaultDedupeConfig, defaultTaxonomy);
  return groups;
}

let engine: { client: unknown; table: string; engine: DedupeEngine } | undefined;

/**
 * The dedupe engine on the table (`adapters/dynamo/dedupe-store.ts`): 重复件/并案 in triage, duplicate suggestions
 * for agents and the mini-program. A new case is named after the report that opens it (`caseIdFor`). Rebuilt when the
 * runtime's DynamoDB client was reset (the local stack restarted in the same process).
 */
export function dedupeEngine(): DedupeEngine {
  const client = dynamoClient();
  const table = tableName();
  if (engine?.client !== client || engine.table !== table) {
    engine = {
      client,
      table,
      engine: createDedupeEngine({
        store: new DynamoDedupeStore(client, table),
        config: defaultDedupeConfig,
        groups: dedupeGroups(),
        caseIdOf: (reportId) => caseIdFor(reportId as TrackingNo),
      }),
    };
  }
  return engine.engine;
}

/** WGS-84 of a report's coordinates (WeChat's GCJ-02 shifted back): dedupe distances need one datum. */
export const reportToWgs84 = toWgs84;

/** A draft as an agent or a citizen is typing it (no report id yet). */
export interface DuplicateDraft {
  text: string;
  title?: string;
  location?: Location;
  citizen?: Citizen;
  category?: string;
  /** ISO 8601 with offset. */
  at: string;
}

/**
 * 重复件/并案 suggestions for a draft: the matching cases near it, best first (`engine.suggest`: reads only).
 * The category is the caller's, else the classifier's, so the draft is grouped as triage will group the report.
 */
export async function duplicateSuggestions(draft: DuplicateDraft, limit = 5): Promise<DuplicateSuggestion[]> {
  const { classify, categories } = load();
  const hinted = draft.category && categories.has(draft.category) ? draft.category : undefined;
  const category =
    hinted ?? classify({ ...(draft.title ? { title: draft.title } : {}), text: draft.text }).category ?? undefined;
  return dedupeEngine().suggest(
    dedupeInputOf({ id: `draft:${draft.at}`, receivedAt: draft.at, ...draft }, category, reportToWgs84),
    limit,
  );
}

/** `DedupeEngine.join` for a report an agent attached to case `c` (grouped by the case's category, as triage does). */
export async function joinAttached(report: StoredReport, c: Case, relation: MergeRelation): Promise<void> {
  await dedupeEngine().join(dedupeReportOf(report, c.category, reportToWgs84), c.caseId, relation);
}
