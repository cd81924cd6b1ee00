/**
 * EventBridge event-pattern matching, compiled once per pattern so that routing an event is cheap.
 *
 * Follows the EventBridge user guide ("Event patterns", "Comparison operators", "Content filtering",
 * "Arrays", "Null values and empty strings") and, where the guide is silent, its reference implementation
 * aws/event-ruler (array-consistent matching, `anything-but` on non-string values, numeric limits).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 */
import { CityLoopError } from '../errors.ts';
import { type Branch, compileBranches, type FieldTest, PatternSyntaxError } from './compile.ts';
import { consistent, type FlatLeaf, merge, PreparedEvent, prepareEvent } from './flatten.ts';

export { MAX_BRANCHES } from './compile.ts';
export { PreparedEvent, prepareEvent } from './flatten.ts';

/** The machine code of a refused pattern (PutRule answers `InvalidEventPatternException`). */
export const INVALID_EVENT_PATTERN = 'INVALID_EVENT_PATTERN';

export type PatternValidation = { ok: true } | { ok: false; code: string; message: string };

/** A compiled pattern. Give it the event (any JSON value) or an event already passed through `prepareEvent`. */
export type EventMatcher = (event: unknown) => boolean;

/** Checks a pattern (an object, or its JSON text) without throwing. */
export function validatePattern(pattern: unknown): PatternValidation {
  try {
    compileBranches(parseIfText(pattern));
    return { ok: true };
  } catch (e) {
    return { ok: false, code: INVALID_EVENT_PATTERN, message: reasonOf(e) };
  }
}

/**
 * Compiles a pattern (an object, or its JSON text). Throws a `CityLoopError` with code `INVALID_EVENT_PATTERN`
 * when the pattern is not one EventBridge would accept.
 */
export function compilePattern(pattern: unknown): EventMatcher {
  let branches: Branch[];
  try {
    branches = compileBranches(parseIfText(pattern));
  } catch (e) {
    throw new CityLoopError(INVALID_EVENT_PATTERN, `Event pattern is not valid. Reason: ${reasonOf(e)}`);
  }
  return function matchCompiledPattern(event: unknown): boolean {
    const prepared = event instanceof PreparedEvent ? event : prepareEvent(event);
    if (!prepared.isObject) return false;
    for (const branch of branches) if (matchBranch(branch, prepared)) return true;
    return false;
  };
}

/** One-off match. Compile with `compilePattern` when the same pattern sees many events. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

function parseIfText(pattern: unknown): unknown {
  if (typeof pattern !== 'string') return pattern;
  try {
    return JSON.parse(pattern);
  } catch (e) {
    throw new PatternSyntaxError(`Event pattern is not valid JSON: ${(e as Error).message}`);
  }
}

function reasonOf(e: unknown): string {
  if (e instanceof PatternSyntaxError) return e.message;
  throw e;
}

const NONE: readonly number[] = [];

function matchBranch(branch: Branch, ev: PreparedEvent): boolean {
  // Search can only blow up when two or more fields each have several candidate leaves (from arrays).
  let branching = 0;
  for (const field of branch) if (ev.leaves(field.path).length > 1) branching++;
  return step(branch, 0, ev, NONE, branching >= 2 ? new Memo(branch, ev) : undefined);
}

/**
 * Depth-first over the branch's fields in path order: pick a leaf for each field that passes its test and
 * sits in the same array elements as the leaves picked before it. `exists: false` holds when no leaf of
 * that path is consistent with the picks so far (event-ruler checks absence at that point too).
 */
function step(branch: Branch, i: number, ev: PreparedEvent, m: readonly number[], memo: Memo | undefined): boolean {
  if (i === branch.length) return true;
  const key = memo?.key(i, m);
  if (key !== undefined && memo?.failed.has(key)) return false;
  const field = branch[i] as FieldTest;
  const leaves = ev.leaves(field.path);
  let ok = false;
  for (const leaf of leaves) {
    if (!consistent(m, leaf.m)) continue;
    if ((field.exists || field.test?.(leaf.v)) && step(branch, i + 1, ev, merge(m, leaf.m), memo)) {
      ok = true;
      break;
    }
  }
  if (!ok && field.absent && !anyConsistent(leaves, m)) ok = step(branch, i + 1, ev, m, memo);
  if (!ok && key !== undefined) memo?.failed.add(key);
  return ok;
}

function anyConsistent(leaves: readonly FlatLeaf[], m: readonly number[]): boolean {
  for (const leaf of leaves) if (consistent(m, leaf.m)) return true;
  return false;
}

/**
 * Remembers failed (field index, relevant array positions) pairs so that fields drawn from large arrays
 * cost a sum, not a product, of their sizes. Only array ids that later fields can still see are part of
 * the key: the rest cannot change the outcome.
 */
class Memo {
  readonly failed = new Set<string>();
  private readonly relevant: ReadonlySet<number>[];

  constructor(branch: Branch, ev: PreparedEvent) {
    this.relevant = new Array(branch.length);
    let ids = new Set<number>();
    for (let i = branch.length - 1; i >= 0; i--) {
      ids = new Set(ids);
      for (const leaf of ev.leaves((branch[i] as FieldTest).path)) {
        for (let k = 0; k < leaf.m.length; k += 2) ids.add(leaf.m[k] as number);
      }
      this.relevant[i] = ids;
    }
  }

  key(i: number, m: readonly number[]): string {
    const relevant = this.relevant[i] as ReadonlySet<number>;
    const pairs: [number, number][] = [];
    for (let k = 0; k < m.length; k += 2) {
      if (relevant.has(m[k] as number)) pairs.push([m[k] as number, m[k + 1] as number]);
    }
    pairs.sort((a, b) => a[0] - b[0]);
    return `${i}:${pairs.join(';')}`;
  }
}
