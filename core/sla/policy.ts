/**
 * SlaPolicy as data (`config/sla-policies.json`): time limits per 诉求性质 (nature) × urgency × category policy id.
 *
 * The file is a list of rules, each `{ match, set }`. Every rule whose `match` fits applies, least specific first
 * (fewest matched keys), file order breaking ties, later values overriding earlier ones field by field: the same
 * cascade as CSS. The rule with an empty `match` is the complete default. This keeps the common case one line
 * ("complex categories get 15 working days") while any single combination can still be pinned.
 */
import * as z from 'zod/mini';
import policiesFile from '../../config/sla-policies.json' with { type: 'json' };
import { CityLoopError } from '../errors.ts';
import { NATURES, type Nature } from '../intake/schema.ts';

export const URGENCIES = ['normal', 'urgent', 'emergency'] as const;
export type Urgency = (typeof URGENCIES)[number];

export const DEADLINE_KINDS = ['dispatch', 'sign', 'contact', 'resolve'] as const;
/**
 * dispatch 派单 (the centre, counted from receipt); sign 签收 and contact 先行联系 (the department, counted from
 * dispatch); resolve 办结 (counted from receipt, 次日起, or from a re-dispatch that restarts the clock).
 */
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];

const positive = z.number().check(z.positive(), z.lte(100_000));
const positiveInt = z.number().check(z.int(), z.gte(1), z.lte(3650));

/**
 * A span of time, in one of three ways of counting:
 * - `hours`: around the clock (24×7), e.g. dispatch limits and emergencies;
 * - `workingHours`: office hours of working days only (the calendar's `workingHours`);
 * - `workingDays`: whole working days counted from the day after the start (次日起), due at 23:59:59.999 of the last.
 */
export const DurationSchema = z.union([
  z.strictObject({ hours: positive }),
  z.strictObject({ workingHours: positive }),
  z.strictObject({ workingDays: positiveInt }),
]);
export type Duration = z.infer<typeof DurationSchema>;

export const LimitSpecSchema = z.object({
  limit: DurationSchema,
  /** How long before the limit `Case.SlaWarning` fires; null: no warning. */
  warnBefore: z.nullable(DurationSchema),
});
export type LimitSpec = z.infer<typeof LimitSpecSchema>;

const PartialLimitSpec = z.partial(LimitSpecSchema);

export const ChaseSchema = z.object({
  /** Interval between 催办 reminders after a breach. */
  every: DurationSchema,
  /** Reminders after the breach, at most (0: breach only). Chasing is bounded: the supervisor has the case by then. */
  max: z.number().check(z.int(), z.gte(0), z.lte(50)),
});
export type Chase = z.infer<typeof ChaseSchema>;

const policyFields = {
  dispatch: LimitSpecSchema,
  sign: LimitSpecSchema,
  contact: LimitSpecSchema,
  resolve: LimitSpecSchema,
  /** 退单时限: a department may hand a case back within this span after dispatch. */
  returnWindow: DurationSchema,
  /** 延期: approved extensions may push the resolve limit this far past its original date, in total. */
  maxExtension: z.strictObject({ workingDays: positiveInt }),
  chase: ChaseSchema,
  /** On 改派 (re-dispatch after a return): `restart` gives the new department a full resolve limit; `continue` keeps it. */
  onRedispatch: z.enum(['restart', 'continue']),
};

export const PolicyBodySchema = z.object(policyFields);
export type PolicyBody = z.infer<typeof PolicyBodySchema>;

const PartialBody = z.object({
  dispatch: z.optional(PartialLimitSpec),
  sign: z.optional(PartialLimitSpec),
  contact: z.optional(PartialLimitSpec),
  resolve: z.optional(PartialLimitSpec),
  returnWindow: z.optional(policyFields.returnWindow),
  maxExtension: z.optional(policyFields.maxExtension),
  chase: z.optional(z.partial(ChaseSchema)),
  onRedispatch: z.optional(policyFields.onRedispatch),
});
type PartialBody = z.infer<typeof PartialBody>;

export const PolicyRuleSchema = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  note: z.optional(z.string()),
  match: z.object({
    policyId: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
    nature: z.optional(z.enum(NATURES)),
    urgency: z.optional(z.enum(URGENCIES)),
  }),
  set: PartialBody,
});
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

export const SlaPoliciesSchema = z.object({
  version: z.string().check(z.minLength(1)),
  note: z.optional(z.string()),
  /** Category policy ids the taxonomy may use (事项清单 `slaPolicy`). An unknown id is an error, not a silent default. */
  policyIds: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  /** Used when a case has no category yet (manual triage). */
  defaultPolicyId: z.string(),
  rules: z.array(PolicyRuleSchema).check(z.minLength(1)),
  /** 年度目标, read by `core/sla/metrics.ts`. */
  targets: z.optional(z.array(z.unknown())),
});
export type SlaPolicies = z.infer<typeof SlaPoliciesSchema>;

/** A resolved policy: every field set. */
export interface SlaPolicy extends PolicyBody {
  /** `<policyId>/<nature>/<urgency>`, recorded on deadlines. */
  id: string;
  policyId: string;
  nature: Nature;
  urgency: Urgency;
  /** Ids of the rules that applied, in order (for audit: why this case got this limit). */
  rules: string[];
  /** Version of the policy file. */
  version: string;
}

export interface PolicyQuery {
  nature: Nature;
  urgency: Urgency;
  /** Category policy id; absent → the file's `defaultPolicyId`. */
  policyId?: string | undefined;
}

function invalid(message: string, details?: unknown): CityLoopError {
  return new CityLoopError('INVALID_SLA_POLICY', message, 500, details);
}

/** Resolved policies are shared by every caller (memo): frozen so one caller cannot change another's limits. */
function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

function merge(into: Partial<Record<string, unknown>>, set: PartialBody): void {
  for (const [key, value] of Object.entries(set)) {
    if (value === undefined) continue;
    const current = into[key];
    // Limit specs and chase merge field by field; durations and scalars replace.
    const nested = key === 'dispatch' || key === 'sign' || key === 'contact' || key === 'resolve' || key === 'chase';
    into[key] = nested && current && typeof current === 'object' ? { ...current, ...(value as object) } : value;
  }
}

/** A validated policy file with a memo of resolved policies. */
export class SlaPolicyBook {
  readonly version: string;
  readonly policyIds: readonly string[];
  readonly defaultPolicyId: string;
  private readonly rules: readonly (PolicyRule & { order: number; specificity: number })[];
  private readonly memo = new Map<string, SlaPolicy>();

  static create(file: unknown): SlaPolicyBook {
    const r = SlaPoliciesSchema.safeParse(file);
    if (!r.success) throw invalid('SLA policy file does not match its schema', r.error.issues);
    return new SlaPolicyBook(r.data);
  }

  /**
   * The book of a file already validated by `create` elsewhere (the shipped `config/sla-policies.json`, checked by
   * `npx cdk synth` and the unit tests: infra/config-check.ts): no schema check, and each combination is resolved on
   * first use instead of all at once, so a Lambda's cold start does not pay for them.
   */
  static trusted(file: SlaPolicies): SlaPolicyBook {
    return new SlaPolicyBook(file, false);
  }

  private constructor(file: SlaPolicies, checkAll = true) {
    this.version = file.version;
    this.policyIds = [...file.policyIds];
    this.defaultPolicyId = file.defaultPolicyId;
    if (!file.policyIds.includes(file.defaultPolicyId))
      throw invalid(`defaultPolicyId ${file.defaultPolicyId} unknown`);
    const ids = new Set<string>();
    for (const rule of file.rules) {
      if (ids.has(rule.id)) throw invalid(`rule id ${rule.id} appears twice`);
      ids.add(rule.id);
      if (rule.match.policyId !== undefined && !file.policyIds.includes(rule.match.policyId)) {
        throw invalid(`rule ${rule.id} matches unknown policy id ${rule.match.policyId}`);
      }
    }
    this.rules = file.rules
      .map((rule, order) => ({
        ...rule,
        order,
        specificity: Object.values(rule.match).filter((v) => v !== undefined).length,
      }))
      .sort((a, b) => a.specificity - b.specificity || a.order - b.order);
    // Every combination must resolve to a complete policy: check them all now, not on the first emergency at 3 a.m.
    if (checkAll)
      for (const policyId of this.policyIds)
        for (const nature of NATURES) for (const urgency of URGENCIES) this.resolve({ nature, urgency, policyId });
  }

  /** The policy for one case. Throws `UNKNOWN_SLA_POLICY` (400) for a policy id the file does not know. */
  resolve(q: PolicyQuery): SlaPolicy {
    const policyId = q.policyId ?? this.defaultPolicyId;
    const key = `${policyId}/${q.nature}/${q.urgency}`;
    const hit = this.memo.get(key);
    if (hit) return hit;
    if (!this.policyIds.includes(policyId)) {
      throw new CityLoopError('UNKNOWN_SLA_POLICY', `unknown SLA policy id: ${policyId}`, 400, { policyId });
    }
    if (!(NATURES as readonly string[]).includes(q.nature)) {
      throw new CityLoopError('UNKNOWN_NATURE', `unknown nature: ${q.nature}`, 400);
    }
    if (!(URGENCIES as readonly string[]).includes(q.urgency)) {
      throw new CityLoopError('UNKNOWN_URGENCY', `unknown urgency: ${q.urgency}`, 400);
    }
    const body: Partial<Record<string, unknown>> = {};
    const applied: string[] = [];
    for (const rule of this.rules) {
      const m = rule.match;
      if (m.policyId !== undefined && m.policyId !== policyId) continue;
      if (m.nature !== undefined && m.nature !== q.nature) continue;
      if (m.urgency !== undefined && m.urgency !== q.urgency) continue;
      merge(body, rule.set);
      applied.push(rule.id);
    }
    const full = PolicyBodySchema.safeParse(body);
    if (!full.success)
      throw invalid(`policy ${key} is incomplete after its rules (${applied.join(', ')})`, full.error.issues);
    const policy: SlaPolicy = {
      ...full.data,
      id: key,
      policyId,
      nature: q.nature,
      urgency: q.urgency,
      rules: applied,
      version: this.version,
    };
    this.memo.set(key, deepFreeze(policy));
    return policy;
  }
}

let shipped: SlaPolicyBook | undefined;

/** The policy book of `config/sla-policies.json` (validated at synth and by the tests), built once per process. */
export function defaultPolicyBook(): SlaPolicyBook {
  shipped ??= SlaPolicyBook.trusted(policiesFile as SlaPolicies);
  return shipped;
}

/** `resolvePolicy({ nature, urgency, policyId })` on the shipped policy file (or on `book`). */
export function resolvePolicy(q: PolicyQuery, book: SlaPolicyBook = defaultPolicyBook()): SlaPolicy {
  return book.resolve(q);
}
