/**
 * An event seen the way EventBridge matches it: the leaf values under a dotted field path, each with the
 * array positions it sits in, so that a pattern never combines fields from two different elements of one
 * array ("array-consistent" matching in aws/event-ruler). Objects and empty arrays are not leaves: `exists`
 * only sees leaf nodes, as the user guide says. Keys are joined with "." as event-ruler joins them, so
 * `{"a.b": 1}` and `{"a": {"b": 1}}` both have a leaf at `a.b`.
 *
 * Paths are resolved on demand and cached: routing only looks at the few fields its patterns name, however
 * large the event.
 */
import type { Leaf } from './values.ts';

/** One leaf: its value and its array membership as flat pairs `[arrayId, index, arrayId, index, ...]`. */
export interface FlatLeaf {
  readonly v: Leaf;
  readonly m: readonly number[];
}

/** Deeper structure than this is not looked at (events are at most 256 KB; this only guards odd inputs). */
export const MAX_EVENT_DEPTH = 128;

const NONE: readonly number[] = [];
const EMPTY: readonly FlatLeaf[] = [];

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An event to be matched against many patterns. Build it with `prepareEvent`. */
export class PreparedEvent {
  private readonly cache = new Map<string, readonly FlatLeaf[]>();
  private readonly arrayIds = new Map<unknown[], number>();

  /** @internal */
  constructor(private readonly root: Obj | undefined) {}

  /** False when the input was not a JSON object: nothing matches it. */
  get isObject(): boolean {
    return this.root !== undefined;
  }

  /** The leaves at a dotted path. */
  leaves(path: string): readonly FlatLeaf[] {
    const hit = this.cache.get(path);
    if (hit !== undefined) return hit;
    const out: FlatLeaf[] = [];
    if (this.root !== undefined) this.inObject(this.root, path, NONE, out, 0);
    const result = out.length === 0 ? EMPTY : out;
    this.cache.set(path, result);
    return result;
  }

  private arrayId(a: unknown[]): number {
    let id = this.arrayIds.get(a);
    if (id === undefined) {
      id = this.arrayIds.size;
      this.arrayIds.set(a, id);
    }
    return id;
  }

  /** Every way of spelling `path` from this object's keys: the whole path, or a key up to a dot and the rest. */
  private inObject(obj: Obj, path: string, m: readonly number[], out: FlatLeaf[], depth: number): void {
    if (depth > MAX_EVENT_DEPTH) return;
    if (Object.hasOwn(obj, path)) this.atPath(obj[path], m, out, depth + 1);
    for (let dot = path.indexOf('.'); dot >= 0; dot = path.indexOf('.', dot + 1)) {
      const key = path.slice(0, dot);
      if (Object.hasOwn(obj, key)) this.below(obj[key], path.slice(dot + 1), m, out, depth + 1);
    }
  }

  /** Walks into `value` (through arrays) looking for the rest of the path. */
  private below(value: unknown, rest: string, m: readonly number[], out: FlatLeaf[], depth: number): void {
    if (depth > MAX_EVENT_DEPTH) return;
    if (Array.isArray(value)) {
      const id = this.arrayId(value);
      for (let i = 0; i < value.length; i++) this.below(value[i], rest, [...m, id, i], out, depth + 1);
    } else if (isObj(value)) {
      this.inObject(value, rest, m, out, depth);
    }
  }

  /** The value found at the full path: a leaf, or arrays of leaves; objects are intermediate nodes. */
  private atPath(value: unknown, m: readonly number[], out: FlatLeaf[], depth: number): void {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        out.push({ v: value, m });
        return;
      case 'number':
        if (Number.isFinite(value)) out.push({ v: value, m });
        return;
      case 'object':
        if (value === null) out.push({ v: null, m });
        else if (Array.isArray(value) && depth <= MAX_EVENT_DEPTH) {
          const id = this.arrayId(value);
          for (let i = 0; i < value.length; i++) this.atPath(value[i], [...m, id, i], out, depth + 1);
        }
        return;
      default:
        return; // undefined, functions, symbols, bigints: not JSON
    }
  }
}

/**
 * Wraps an event for matching against many patterns (paths are looked up once and cached, so do not change
 * the event afterwards). Anything that is not a JSON object gives an event that no pattern matches.
 */
export function prepareEvent(event: unknown): PreparedEvent {
  return new PreparedEvent(isObj(event) ? event : undefined);
}

/** True when two memberships never put the same array at different indexes. */
export function consistent(a: readonly number[], b: readonly number[]): boolean {
  if (a.length === 0 || b.length === 0) return true;
  for (let i = 0; i < b.length; i += 2) {
    const id = b[i];
    for (let j = 0; j < a.length; j += 2) {
      if (a[j] === id) {
        if (a[j + 1] !== b[i + 1]) return false;
        break;
      }
    }
  }
  return true;
}

/** Union of two consistent memberships. */
export function merge(a: readonly number[], b: readonly number[]): readonly number[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out = [...a];
  outer: for (let i = 0; i < b.length; i += 2) {
    for (let j = 0; j < a.length; j += 2) if (a[j] === b[i]) continue outer;
    out.push(b[i] as number, b[i + 1] as number);
  }
  return out;
}
