/**
 * Turns an EventBridge event pattern into match branches, validating it the way EventBridge does.
 *
 * A pattern is an object whose leaves are non-empty arrays of allowed values (OR); sibling fields are AND;
 * `$or` forks the pattern into branches. Each branch becomes a list of dotted field paths, each with one value
 * test, sorted by path: the order in which the reference implementation (aws/event-ruler) visits fields, which
 * matters for `exists: false` inside arrays of objects.
 * Guide: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html and
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
import {
  type CidrRange,
  decimalPlaces,
  equalsIgnoreCase,
  foldCase,
  inCidr,
  inRange,
  type Leaf,
  NUMERIC_LIMIT,
  NUMERIC_MAX_DECIMALS,
  type NumericRange,
  parseCidr,
  parseWildcard,
  wildcardMatches,
} from './values.ts';

/** Why a pattern was refused; `message` reads like EventBridge's "Reason: ..." text. */
export class PatternSyntaxError extends Error {
  override readonly name = 'PatternSyntaxError';
}

/** The test for one field of one branch. */
export interface FieldTest {
  path: string;
  /** Value alternatives; undefined when the field only has `exists` alternatives. */
  test: ((v: Leaf) => boolean) | undefined;
  /** `{"exists": true}` is among the alternatives: any leaf value matches. */
  exists: boolean;
  /** `{"exists": false}` is among the alternatives: the field may be absent. */
  absent: boolean;
}

export type Branch = readonly FieldTest[];

/** Upper bound on branches a pattern may fork into through `$or` (keeps matching cost bounded). */
export const MAX_BRANCHES = 1000;
/** Upper bound on pattern nesting depth. */
export const MAX_PATTERN_DEPTH = 64;

const OR = '$or';
/** Operator names that cannot be field names inside `$or` objects (event-ruler's reserved names). */
const RESERVED_IN_OR = new Set([
  'anything-but',
  'numeric',
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'exists',
  'cidr',
]);

const ANYTHING_BUT_OBJECT_OPS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);

type Json = unknown;
type Draft = Map<string, FieldTest>;

const fail = (message: string): never => {
  throw new PatternSyntaxError(message);
};

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and validates; throws PatternSyntaxError. */
export function compileBranches(pattern: Json): Branch[] {
  if (!isObject(pattern)) fail('Filter is not an object');
  let drafts: Draft[] = [new Map()];
  drafts = parseObject(pattern as Record<string, Json>, '', drafts, false, 0);
  return drafts.map((d) => [...d.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
}

function parseObject(obj: Record<string, Json>, prefix: string, drafts: Draft[], insideOr: boolean, depth: number) {
  if (depth > MAX_PATTERN_DEPTH) fail(`Pattern is nested more than ${MAX_PATTERN_DEPTH} levels deep`);
  const keys = Object.keys(obj);
  if (keys.length === 0) fail('Empty objects are not allowed');
  let current = drafts;
  for (const key of keys) {
    const value = obj[key];
    if (key === OR) {
      current = parseOr(value, prefix, current, depth);
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      fail(`${key} is Ruler reserved fieldName which cannot be used inside ${OR}.`);
    }
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (Array.isArray(value)) {
      const field = parseValueList(path, value);
      // Later mentions of the same path replace earlier ones, as in event-ruler.
      for (const d of current) d.set(path, field);
    } else if (isObject(value)) {
      current = parseObject(value, path, current, insideOr, depth + 1);
    } else {
      fail(`"${key}" must be an object or an array`);
    }
  }
  return current;
}

function parseOr(value: Json, prefix: string, drafts: Draft[], depth: number): Draft[] {
  if (!Array.isArray(value)) fail(`It must be an Array followed with ${OR}.`);
  const items = value as Json[];
  if (items.length < 2) fail(`There must have at least 2 Objects in ${OR} relationship.`);
  const out: Draft[] = [];
  for (const item of items) {
    if (!isObject(item)) fail(`Only JSON object is allowed in array of ${OR} relationship.`);
    const copies = drafts.map((d) => new Map(d));
    out.push(...parseObject(item as Record<string, Json>, prefix, copies, true, depth + 1));
    if (out.length > MAX_BRANCHES) fail(`Pattern forks into more than ${MAX_BRANCHES} branches through ${OR}`);
  }
  return out;
}

/** One alternative of a field's value list, compiled. */
type Alternative =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'literal'; value: boolean | null }
  | { kind: 'exists'; value: boolean }
  | { kind: 'test'; test: (v: Leaf) => boolean };

function parseValueList(path: string, list: Json[]): FieldTest {
  if (list.length === 0) fail('Empty arrays are not allowed');
  const strings = new Set<string>();
  const numbers = new Set<number>();
  const literals = new Set<boolean | null>();
  const tests: ((v: Leaf) => boolean)[] = [];
  let exists = false;
  let absent = false;
  for (const item of list) {
    const alt = parseAlternative(item);
    switch (alt.kind) {
      case 'string':
        strings.add(alt.value);
        break;
      case 'number':
        numbers.add(alt.value);
        break;
      case 'literal':
        literals.add(alt.value);
        break;
      case 'exists':
        if (alt.value) exists = true;
        else absent = true;
        break;
      case 'test':
        tests.push(alt.test);
        break;
    }
  }
  const hasValues = strings.size + numbers.size + literals.size + tests.length > 0;
  return { path, test: hasValues ? combine(strings, numbers, literals, tests) : undefined, exists, absent };
}

function combine(
  strings: Set<string>,
  numbers: Set<number>,
  literals: Set<boolean | null>,
  tests: ((v: Leaf) => boolean)[],
): (v: Leaf) => boolean {
  // Fast paths for the common shapes: one exact string, a set of exact strings.
  if (numbers.size === 0 && literals.size === 0 && tests.length === 0) {
    if (strings.size === 1) {
      const only = strings.values().next().value as string;
      return (v) => v === only;
    }
    return (v) => typeof v === 'string' && strings.has(v);
  }
  return (v) => {
    if (typeof v === 'string') {
      if (strings.has(v)) return true;
    } else if (typeof v === 'number') {
      if (numbers.has(v)) return true;
    } else if (literals.has(v)) {
      return true;
    }
    for (const t of tests) if (t(v)) return true;
    return false;
  };
}

function parseAlternative(item: Json): Alternative {
  if (typeof item === 'string') return { kind: 'string', value: item };
  if (typeof item === 'number') {
    if (!Number.isFinite(item)) fail('Match value must be String, number, true, false, or null');
    return { kind: 'number', value: item };
  }
  if (typeof item === 'boolean' || item === null) return { kind: 'literal', value: item };
  if (!isObject(item)) fail('Match value must be String, number, true, false, or null');
  const keys = Object.keys(item as object);
  if (keys.length === 0) fail('Match expression name not found');
  if (keys.length > 1) fail('Only one key allowed in match expression');
  const op = keys[0] as string;
  const arg = (item as Record<string, Json>)[op];
  switch (op) {
    case 'prefix':
      return { kind: 'test', test: parsePrefixOrSuffix('prefix', arg) };
    case 'suffix':
      return { kind: 'test', test: parsePrefixOrSuffix('suffix', arg) };
    case 'equals-ignore-case': {
      const s = expectString(arg, 'equals-ignore-case match pattern must be a string');
      return { kind: 'test', test: (v) => typeof v === 'string' && equalsIgnoreCase(v, s) };
    }
    case 'wildcard': {
      const segments = parseWildcardValue(arg);
      return { kind: 'test', test: (v) => typeof v === 'string' && wildcardMatches(segments, v) };
    }
    case 'numeric': {
      const range = parseNumeric(arg);
      return { kind: 'test', test: (v) => inRange(range, v) };
    }
    case 'cidr': {
      const s = expectString(arg, 'cidr match pattern must be a string');
      const range: CidrRange | undefined = parseCidr(s);
      if (!range) fail(`Malformed CIDR: ${s}`);
      return { kind: 'test', test: (v) => inCidr(range as CidrRange, v) };
    }
    case 'exists':
      if (typeof arg !== 'boolean') fail('exists match pattern must be either true or false.');
      return { kind: 'exists', value: arg as boolean };
    case 'anything-but':
      return { kind: 'test', test: parseAnythingBut(arg) };
    default:
      return fail(`Unrecognized match type ${op}`);
  }
}

function expectString(v: Json, message: string): string {
  if (typeof v !== 'string') fail(message);
  return v as string;
}

function parseWildcardValue(arg: Json): string[] {
  const s = expectString(arg, 'wildcard match pattern must be a string');
  const parsed = parseWildcard(s);
  if (!parsed.ok) return fail(parsed.message);
  return parsed.segments;
}

/** `{"prefix": "x"}` or `{"prefix": {"equals-ignore-case": "x"}}`, same for suffix. */
function parsePrefixOrSuffix(op: 'prefix' | 'suffix', arg: Json): (v: Leaf) => boolean {
  const starts = op === 'prefix';
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length !== 1)
      fail(keys.length === 0 ? `${op} expression name not found` : 'Only one key allowed in match expression');
    if (keys[0] !== 'equals-ignore-case') fail(`Unsupported ${op} pattern: ${keys[0]}`);
    const folded = foldCase(
      expectString(arg['equals-ignore-case'], 'equals-ignore-case match pattern must be a string'),
    );
    return starts
      ? (v) => typeof v === 'string' && foldCase(v).startsWith(folded)
      : (v) => typeof v === 'string' && foldCase(v).endsWith(folded);
  }
  const s = expectString(arg, `${op} match pattern must be a string`);
  return starts ? (v) => typeof v === 'string' && v.startsWith(s) : (v) => typeof v === 'string' && v.endsWith(s);
}

/** A bound or value of a numeric expression: a JSON number inside the guide's range and precision. */
function numericOperand(v: Json, op: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`Value of ${op} must be numeric`);
  const n = v as number;
  if (n < -NUMERIC_LIMIT || n > NUMERIC_LIMIT) {
    fail(`Value must be between ${-NUMERIC_LIMIT} and ${NUMERIC_LIMIT}, inclusive`);
  }
  if (decimalPlaces(n) > NUMERIC_MAX_DECIMALS) fail(`Only values upto ${NUMERIC_MAX_DECIMALS} decimals are supported`);
  return n;
}

/** `[op, n]` or `[lowerOp, n, upperOp, m]` with `=` alone, `>`/`>=` first, `<`/`<=` last. */
function parseNumeric(arg: Json): NumericRange {
  if (!Array.isArray(arg)) fail('Value of numeric must be an array.');
  const a = arg as Json[];
  const op = a[0];
  if (typeof op !== 'string') fail(`Invalid member in numeric match: ${JSON.stringify(op ?? null)}`);
  if (a.length < 2) fail(`Value of ${op} must be numeric`);
  const first = numericOperand(a[1], op as string);
  const range: NumericRange = { lo: -Infinity, loOpen: false, hi: Infinity, hiOpen: false };
  switch (op) {
    case '=':
      if (a.length > 2) fail('Too many elements in numeric expression');
      return { lo: first, loOpen: false, hi: first, hiOpen: false };
    case '<':
    case '<=':
      if (a.length > 2) fail('Too many elements in numeric expression');
      return { ...range, hi: first, hiOpen: op === '<' };
    case '>':
    case '>=':
      range.lo = first;
      range.loOpen = op === '>';
      break;
    default:
      fail(`Unrecognized numeric range operator: ${op}`);
  }
  if (a.length === 2) return range;
  const upperOp = a[2];
  if (upperOp !== '<' && upperOp !== '<=') fail(`Bad numeric range operator: ${JSON.stringify(upperOp)}`);
  if (a.length < 4) fail(`Value of ${upperOp} must be numeric`);
  if (a.length > 4) fail('Too many terms in numeric range expression');
  range.hi = numericOperand(a[3], upperOp as string);
  range.hiOpen = upperOp === '<';
  if (range.lo >= range.hi) fail('Bottom must be less than top');
  return range;
}

/**
 * `anything-but` forms: a string, a number, a list of only strings or only numbers, or an object with one of
 * `prefix`, `suffix`, `equals-ignore-case`, `wildcard` holding a string or a list of strings.
 * It matches any present leaf value that is not excluded, whatever its type.
 */
function parseAnythingBut(arg: Json): (v: Leaf) => boolean {
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length === 0) fail('Anything-But expression name not found');
    if (keys.length > 1) fail('Only one key allowed in match expression');
    const op = keys[0] as string;
    if (!ANYTHING_BUT_OBJECT_OPS.has(op)) fail(`Unsupported anything-but pattern: ${op}`);
    const values = anythingButStrings(op, arg[op]);
    switch (op) {
      case 'prefix':
      case 'suffix': {
        if (values.some((s) => s === '')) fail('Null prefix/suffix not allowed');
        const starts = op === 'prefix';
        return (v) => typeof v !== 'string' || !values.some((s) => (starts ? v.startsWith(s) : v.endsWith(s)));
      }
      case 'equals-ignore-case': {
        const folded = new Set(values.map(foldCase));
        return (v) => typeof v !== 'string' || !(folded.has(foldCase(v)) || values.some((s) => equalsIgnoreCase(v, s)));
      }
      case 'wildcard': {
        const parsed = values.map((s) => {
          const p = parseWildcard(s);
          return p.ok ? p.segments : fail(p.message);
        });
        return (v) => typeof v !== 'string' || !parsed.some((segments) => wildcardMatches(segments, v));
      }
      default:
        return fail(`Unsupported anything-but pattern: ${op}`);
    }
  }
  const list = Array.isArray(arg) ? arg : [arg];
  if (list.length === 0)
    fail('Inside anything but list, either all values are number or string, mixed type is not supported');
  const strings = new Set<string>();
  const numbers = new Set<number>();
  for (const item of list) {
    if (typeof item === 'string') strings.add(item);
    else if (typeof item === 'number' && Number.isFinite(item)) numbers.add(numericOperand(item, 'anything-but'));
    else if (Array.isArray(arg)) fail('Inside anything but list, start|null|boolean is not supported.');
    else fail('Value of anything-but must be an array or single string/number value.');
  }
  if (strings.size > 0 && numbers.size > 0) {
    fail('Inside anything but list, either all values are number or string, mixed type is not supported');
  }
  return (v) => !(typeof v === 'string' ? strings.has(v) : typeof v === 'number' && numbers.has(v));
}

function anythingButStrings(op: string, raw: Json): string[] {
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) fail(`Empty list in anything-but ${op}`);
  for (const s of list) {
    if (typeof s !== 'string') {
      fail(
        op === 'equals-ignore-case'
          ? 'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.'
          : op === 'wildcard'
            ? 'wildcard match pattern must be a string'
            : 'prefix/suffix match pattern must be a string',
      );
    }
  }
  return list as string[];
}
