/**
 * Leaf-value tests used by the event-pattern matcher: numbers, wildcards, IP addresses, case folding.
 * Semantics follow the EventBridge user guide ("Content filtering") and its reference implementation,
 * aws/event-ruler: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */

/** A JSON leaf as it appears in an event: what a pattern's value list is tested against. */
export type Leaf = string | number | boolean | null;

/** Numeric matching only works between -5e9 and +5e9 inclusive, with at most six decimals (the guide's limit). */
export const NUMERIC_LIMIT = 5_000_000_000;
export const NUMERIC_MAX_DECIMALS = 6;

/** Digits to the right of the decimal point in the shortest round-trip form of `n` (1e-7 → 7, 301.8 → 1). */
export function decimalPlaces(n: number): number {
  if (Number.isInteger(n)) return 0;
  const s = String(Math.abs(n));
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  const exponent = e < 0 ? 0 : Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const fraction = dot < 0 ? 0 : mantissa.length - dot - 1;
  return Math.max(0, fraction - exponent);
}

/** True when `n` can take part in numeric (range) matching at all. */
export function isComparableNumber(n: number): boolean {
  return Number.isFinite(n) && n >= -NUMERIC_LIMIT && n <= NUMERIC_LIMIT && decimalPlaces(n) <= NUMERIC_MAX_DECIMALS;
}

/** One `numeric` expression: a lower bound, an upper bound, or an equality. */
export interface NumericRange {
  lo: number;
  loOpen: boolean;
  hi: number;
  hiOpen: boolean;
}

export function inRange(r: NumericRange, v: Leaf): boolean {
  if (typeof v !== 'number' || !isComparableNumber(v)) return false;
  if (r.loOpen ? v <= r.lo : v < r.lo) return false;
  if (r.hiOpen ? v >= r.hi : v > r.hi) return false;
  return true;
}

/**
 * Case-insensitive comparison. EventBridge folds case per character; lower-casing both sides
 * (and, for the few characters whose lower case differs, upper-casing) gives the same answer.
 */
export function foldCase(s: string): string {
  return s.toLowerCase();
}

export function equalsIgnoreCase(a: string, b: string): boolean {
  return a === b || foldCase(a) === foldCase(b) || a.toUpperCase() === b.toUpperCase();
}

/**
 * A wildcard value split on its unescaped `*`. Rules (event-ruler README, "Wildcard matching"): `*` matches
 * zero or more characters; `\*` is a literal asterisk, `\\` a literal backslash; a backslash before anything
 * else is an error; two consecutive wildcards are not allowed.
 */
export type WildcardParse = { ok: true; segments: string[] } | { ok: false; message: string };

export function parseWildcard(pattern: string): WildcardParse {
  const segments: string[] = [];
  let current = '';
  let previousWasWildcard = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        return { ok: false, message: `Invalid escape in wildcard pattern "${pattern}": only \\* and \\\\ are allowed` };
      }
      current += next;
      i++;
      previousWasWildcard = false;
    } else if (ch === '*') {
      if (previousWasWildcard) {
        return { ok: false, message: `Consecutive wildcard characters are not allowed in "${pattern}"` };
      }
      segments.push(current);
      current = '';
      previousWasWildcard = true;
    } else {
      current += ch;
      previousWasWildcard = false;
    }
  }
  segments.push(current);
  return { ok: true, segments };
}

/** Whole-string glob match of `value` against pre-split segments (one more segment than there are wildcards). */
export function wildcardMatches(segments: readonly string[], value: string): boolean {
  const n = segments.length;
  const first = segments[0] as string;
  if (n === 1) return value === first;
  const last = segments[n - 1] as string;
  if (value.length < first.length + last.length) return false;
  if (!value.startsWith(first) || !value.endsWith(last)) return false;
  let pos = first.length;
  const end = value.length - last.length;
  for (let i = 1; i < n - 1; i++) {
    const seg = segments[i] as string;
    if (seg === '') continue;
    const at = value.indexOf(seg, pos);
    if (at < 0 || at + seg.length > end) return false;
    pos = at + seg.length;
  }
  return true;
}

/** An IP address as a number: IPv4 in 32 bits, IPv6 in 128 bits (bigint keeps it exact). */
export type IpAddress = { v6: false; value: bigint } | { v6: true; value: bigint };

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIpv4(s: string): bigint | undefined {
  const m = IPV4.exec(s);
  if (!m) return undefined;
  let value = 0n;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(s: string): bigint | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  let head = s;
  let tailV4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    tailV4 = parseIpv4(s.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1);
    // "::1.2.3.4" and "a::1.2.3.4" end in ':' here; keep a "::" whole, drop a lone trailing ':'.
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsWanted = tailV4 === undefined ? 8 : 6;
  const parts = head.split('::');
  if (parts.length > 2) return undefined;
  const parseGroups = (text: string): number[] | undefined => {
    if (text === '') return [];
    const out: number[] = [];
    for (const g of text.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const left = parseGroups(parts[0] as string);
  if (!left) return undefined;
  let groups: number[];
  if (parts.length === 2) {
    const right = parseGroups(parts[1] as string);
    if (!right) return undefined;
    const missing = groupsWanted - left.length - right.length;
    if (missing < 1) return undefined;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    groups = left;
  }
  if (groups.length !== groupsWanted) return undefined;
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  if (tailV4 !== undefined) value = (value << 32n) | tailV4;
  return value;
}

export function parseIp(s: string): IpAddress | undefined {
  const v4 = parseIpv4(s);
  if (v4 !== undefined) return { v6: false, value: v4 };
  if (s.includes(':')) {
    const v6 = parseIpv6(s);
    if (v6 !== undefined) return { v6: true, value: v6 };
  }
  return undefined;
}

/** A CIDR block as an inclusive address range. */
export interface CidrRange {
  v6: boolean;
  lo: bigint;
  hi: bigint;
}

export function parseCidr(s: string): CidrRange | undefined {
  const slash = s.indexOf('/');
  if (slash < 0 || slash !== s.lastIndexOf('/')) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(bitsText)) return undefined;
  const width = ip.v6 ? 128 : 32;
  const bits = Number(bitsText);
  if (bits > width) return undefined;
  const hostBits = BigInt(width - bits);
  const hostMask = (1n << hostBits) - 1n;
  const lo = ip.value & ~hostMask;
  return { v6: ip.v6, lo, hi: lo | hostMask };
}

export function inCidr(range: CidrRange, v: Leaf): boolean {
  if (typeof v !== 'string') return false;
  const ip = parseIp(v);
  return ip !== undefined && ip.v6 === range.v6 && ip.value >= range.lo && ip.value <= range.hi;
}
