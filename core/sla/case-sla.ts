/**
 * The SLA engine on the stored case (`core/case.ts`): which policy a case runs under and its deadlines at triage.
 * The due-index key of a case is in `./due-key.ts`.
 */
import { defaultCalendar } from '../calendar/default.ts';
import type { WorkingCalendar } from '../calendar/working-calendar.ts';
import type { Case } from '../case.ts';
import { defaultTaxonomy } from '../taxonomy/defaults.ts';
import type { Category } from '../taxonomy/types.ts';
import { computeDeadlines, type SlaRecord } from './deadlines.ts';
import { defaultPolicyBook, type SlaPolicy, type SlaPolicyBook, type Urgency } from './policy.ts';

export interface SlaEnv {
  calendar: WorkingCalendar;
  book: SlaPolicyBook;
  categories: ReadonlyMap<string, Category>;
}

let shippedCategories: ReadonlyMap<string, Category> | undefined;

/** The shipped calendar, policy file and 事项清单 (each loaded once per process). */
export function defaultSlaEnv(): SlaEnv {
  shippedCategories ??= new Map(defaultTaxonomy.categories.map((c) => [c.code, c]));
  return { calendar: defaultCalendar(), book: defaultPolicyBook(), categories: shippedCategories };
}

type PolicyCase = Pick<Case, 'nature' | 'urgency' | 'category'>;

/** The policy of a case: its category's `slaPolicy` (事项清单) × nature × urgency; no category → the default policy. */
export function policyForCase(c: PolicyCase, env: Pick<SlaEnv, 'book' | 'categories'> = defaultSlaEnv()): SlaPolicy {
  const policyId = c.category ? env.categories.get(c.category)?.slaPolicy : undefined;
  return env.book.resolve({ nature: c.nature, urgency: (c.urgency ?? 'normal') as Urgency, policyId });
}

/**
 * Deadlines of a case triage is opening (`TriageContext.deadlinesFor`): counted from receipt; when triage dispatched
 * it, the department's clocks (sign, contact, return) start at the dispatch instant.
 */
export function triageDeadlines(
  c: Pick<Case, 'nature' | 'urgency' | 'receivedAt' | 'state' | 'dispatchedAt'>,
  category: Pick<Category, 'slaPolicy'> | undefined,
  env: Pick<SlaEnv, 'book' | 'calendar'> = defaultSlaEnv(),
): SlaRecord {
  const policy = env.book.resolve({ nature: c.nature, urgency: c.urgency, policyId: category?.slaPolicy });
  const dispatched = c.state === 'dispatched' && c.dispatchedAt ? c.dispatchedAt : undefined;
  // A channel clock a little ahead of triage's must not make the dispatch precede the receipt.
  const dispatchedAt =
    dispatched === undefined
      ? undefined
      : Date.parse(dispatched) < Date.parse(c.receivedAt)
        ? c.receivedAt
        : dispatched;
  return computeDeadlines(policy, c.receivedAt, env.calendar, { dispatchedAt });
}
