/**
 * Text → hashed character n-grams, the same at training and at inference (pure JS, no native tokenizer, so the Lambda
 * bundle stays small). Chinese has no spaces, and character 1–2-grams carry most of what a word segmenter would give
 * a linear model on this kind of text (measured: adding jieba words moved macro-F1 by < 0.001).
 */

export interface FeatureSpec {
  /** n-gram lengths in characters (UTF-16 code units after normalization), e.g. [1, 2]. */
  ngrams: number[];
  /** Only the first `maxChars` characters (after normalization) are read: bounds inference time. */
  maxChars: number;
}

export const DEFAULT_FEATURES: FeatureSpec = { ngrams: [1, 2], maxChars: 1000 };

/** FNV-1a over UTF-16 code units, seeded by n (so a 1-gram never shares a key with a 2-gram). */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 16777619;

/** JavaScript's `\s` (what `/\s+/` matches), as a code-unit test. */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  // Above U+3000 (CJK ideographs, full-width forms …) only U+FEFF: one test for most units of a Chinese text.
  if (c > 0x3000) return c === 0xfeff;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

let normBuf = new Uint16Array(1 << 11);

/**
 * The normalized text as UTF-16 code units in a scratch buffer reused by the next call (no string per n-gram, no
 * regular expressions): NFKC, lower case, runs of whitespace → one space, ASCII digits → 0, trimmed, first `maxChars`.
 * Exactly the code units of `normalizeText(text, maxChars)`. `folded`: `text` is NFKC and lower case already.
 */
export function normalizeCodes(text: string, maxChars: number, folded = false): Uint16Array {
  const s = folded ? text : text.normalize('NFKC').toLowerCase();
  const cap = Math.min(s.length, Math.max(0, Math.floor(maxChars)));
  if (normBuf.length < cap) normBuf = new Uint16Array(cap * 2);
  const out = normBuf;
  let m = 0;
  let pendingSpace = false;
  for (let i = 0; i < s.length && m < cap; i++) {
    let c = s.charCodeAt(i);
    if (isSpace(c)) {
      // Leading whitespace is dropped; inner runs become one space, written only when more text follows (trim).
      if (m > 0) pendingSpace = true;
      continue;
    }
    if (pendingSpace) {
      out[m++] = 0x20;
      pendingSpace = false;
      if (m >= cap) break;
    }
    if (c >= 0x30 && c <= 0x39) c = 0x30;
    out[m++] = c;
  }
  return out.subarray(0, m);
}

/**
 * NFKC (full-width → half-width), lower case, digits folded to 0 (the data masks phone numbers as 0000-00000000 and
 * numbers rarely tell the subject), runs of whitespace → one space, trimmed, then the first `maxChars` characters.
 */
export function normalizeText(text: string, maxChars: number): string {
  const codes = normalizeCodes(text, maxChars);
  let out = '';
  for (let i = 0; i < codes.length; i += 4096) out += String.fromCharCode(...codes.subarray(i, i + 4096));
  return out;
}

/** A text's features: distinct n-gram hashes (in order of first occurrence) and how often each occurs. */
export interface SparseCounts {
  keys: Uint32Array;
  counts: Uint16Array;
}

// Scratch hash table for counting, reused across calls (stamped, so it never needs clearing).
let tableKeys = new Uint32Array(1 << 12);
let tableSlots = new Int32Array(1 << 12);
let tableStamp = new Uint32Array(1 << 12);
let stamp = 0;
let keyBuf = new Uint32Array(1 << 11);
let countBuf = new Uint16Array(1 << 11);

/**
 * The n-grams of a normalized string as 32-bit FNV-1a hashes (seeded by n, so a 1-gram never shares a key with a
 * 2-gram), counted in one pass through an open-addressing table; keys come out in order of first occurrence.
 * Collisions at 32 bits are negligible for a vocabulary of a few hundred thousand n-grams.
 */
export function countNgrams(s: string, ngrams: readonly number[]): SparseCounts {
  const len = s.length;
  let total = 0;
  for (const n of ngrams) total += Math.max(0, len - n + 1);
  let size = tableKeys.length;
  while (size < total * 2) size *= 2;
  if (size !== tableKeys.length) {
    tableKeys = new Uint32Array(size);
    tableSlots = new Int32Array(size);
    tableStamp = new Uint32Array(size);
    stamp = 0;
  }
  if (keyBuf.length < total) {
    keyBuf = new Uint32Array(total * 2);
    countBuf = new Uint16Array(total * 2);
  }
  stamp++;
  if (stamp === 0xffffffff) {
    tableStamp.fill(0);
    stamp = 1;
  }
  const mask = size - 1;
  let u = 0;
  for (const n of ngrams) {
    for (let i = 0; i + n <= len; i++) {
      let h = (FNV_OFFSET ^ n) >>> 0;
      for (let j = i; j < i + n; j++) {
        h ^= s.charCodeAt(j);
        h = Math.imul(h, FNV_PRIME);
      }
      h >>>= 0;
      let slot = (Math.imul(h, 0x9e3779b1) >>> 0) & mask;
      for (;;) {
        if (tableStamp[slot] !== stamp) {
          tableStamp[slot] = stamp;
          tableKeys[slot] = h;
          tableSlots[slot] = u;
          keyBuf[u] = h;
          countBuf[u] = 1;
          u++;
          break;
        }
        if (tableKeys[slot] === h) {
          const k = tableSlots[slot] as number;
          if ((countBuf[k] as number) < 65535) countBuf[k] = (countBuf[k] as number) + 1;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
  }
  return { keys: keyBuf.slice(0, u), counts: countBuf.slice(0, u) };
}

/** Features of one text: its distinct hashed n-grams and their counts. */
export function extractFeatures(text: string, spec: FeatureSpec): SparseCounts {
  return countNgrams(normalizeText(text, spec.maxChars), spec.ngrams);
}

/** Open-addressing table from 32-bit key to row index: built once at load; key and row share a cache line. */
export class KeyIndex {
  /** Pairs [key, row + 1]; row + 1 = 0 marks an empty slot. */
  private readonly slots: Uint32Array;
  private readonly mask: number;

  constructor(sortedKeys: Uint32Array) {
    let size = 1024;
    while (size < sortedKeys.length * 2) size *= 2;
    this.slots = new Uint32Array(size * 2);
    this.mask = size - 1;
    for (let r = 0; r < sortedKeys.length; r++) {
      const k = sortedKeys[r] as number;
      let slot = (Math.imul(k, 0x9e3779b1) >>> 0) & this.mask;
      while (this.slots[slot * 2 + 1] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot * 2] = k;
      this.slots[slot * 2 + 1] = r + 1;
    }
  }

  get(key: number): number {
    const slots = this.slots;
    let slot = (Math.imul(key, 0x9e3779b1) >>> 0) & this.mask;
    for (;;) {
      const r = slots[slot * 2 + 1] as number;
      if (r === 0) return -1;
      if (slots[slot * 2] === key) return r - 1;
      slot = (slot + 1) & this.mask;
    }
  }
}

/**
 * Row of a key in sorted distinct keys of at most `keyBits` bits (the row is the key's position), for inference: a
 * directory of 2^b buckets by the keys' top b bits (one or two keys a bucket), and of each key only its low
 * `keyBits − b` ≤ 16 bits (the bucket holds the rest). The same answers as `KeyIndex` over the same keys in a quarter
 * of its memory (shipped 30,000 keys: 64 KiB of directory and 59 KiB of keys, against 512 KiB of 8-byte slots at half
 * load), and as fast on a text alone: less for the rest of a report's pipeline to evict, less for a Lambda to hold.
 */
export class SortedKeyIndex {
  /** Bucket i holds the keys at positions start[i] … start[i + 1] − 1. */
  readonly start: Int32Array;
  /** The low `lowBits` bits of each key, in key order. */
  readonly low: Uint16Array;
  readonly lowBits: number;
  readonly buckets: number;

  constructor(sortedKeys: Uint32Array, keyBits: number) {
    let b = 0;
    while (b < keyBits && 2 ** (b + 1) <= sortedKeys.length) b++;
    b = Math.min(keyBits, Math.max(b, keyBits - 16));
    this.lowBits = keyBits - b;
    this.buckets = 2 ** b;
    const lowBits = this.lowBits;
    const n = sortedKeys.length;
    const low = new Uint16Array(n);
    const start = new Int32Array(this.buckets + 1);
    // start[i] = the first position whose bucket is ≥ i: each key fills the starts of the buckets up to its own.
    let next = 0;
    for (let r = 0; r < n; r++) {
      const k = sortedKeys[r] as number;
      low[r] = k & ((1 << lowBits) - 1);
      const bucket = Math.min(k >>> lowBits, this.buckets);
      while (next <= bucket) start[next++] = r;
    }
    while (next <= this.buckets) start[next++] = n;
    this.low = low;
    this.start = start;
  }

  /** Row of `key`, or -1. */
  get(key: number): number {
    const lowBits = this.lowBits;
    const bucket = key >>> lowBits;
    if (bucket >= this.buckets) return -1;
    const lo = key & ((1 << lowBits) - 1);
    const low = this.low;
    const end = this.start[bucket + 1] as number;
    for (let i = this.start[bucket] as number; i < end; i++) {
      const k = low[i] as number;
      if (k >= lo) return k === lo ? i : -1;
    }
    return -1;
  }
}

/** Total bits of the Golomb–Rice code of the gaps of sorted distinct keys with parameter `b`. */
function riceBits(sorted: Uint32Array, b: number): number {
  const div = 2 ** b;
  let bits = 0;
  let prev = 0;
  for (const k of sorted) {
    bits += Math.floor((k - prev) / div) + 1 + b;
    prev = k;
  }
  return bits;
}

/** The Rice parameter that codes these sorted keys' gaps in the fewest bits (about log2 of the mean gap). */
export function riceParameter(sorted: Uint32Array): number {
  let best = 0;
  let bestBits = Infinity;
  for (let b = 0; b <= 31; b++) {
    const bits = riceBits(sorted, b);
    if (bits < bestBits) {
      best = b;
      bestBits = bits;
    }
  }
  return best;
}

/**
 * Sorted distinct uint32 keys → Golomb–Rice code of their gaps, MSB first: gap >> b as that many 1 bits and a 0, then
 * the b low bits. About log2(mean gap) + 1.5 bits a key (a varint needs whole bytes).
 */
export function encodeKeysRice(sorted: Uint32Array, b: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(riceBits(sorted, b) / 8));
  const div = 2 ** b;
  let bit = 0;
  let prev = 0;
  for (const k of sorted) {
    const d = k - prev;
    prev = k;
    const q = Math.floor(d / div);
    const rem = d - q * div;
    for (let i = 0; i < q; i++, bit++) out[bit >> 3] = (out[bit >> 3] as number) | (0x80 >> (bit & 7));
    bit++;
    for (let i = b - 1; i >= 0; i--, bit++) {
      if (Math.floor(rem / 2 ** i) % 2 === 1) out[bit >> 3] = (out[bit >> 3] as number) | (0x80 >> (bit & 7));
    }
  }
  return out;
}

/** Inverse of `encodeKeysRice`: `count` keys, and the bytes the code took. Throws on a truncated or overflowing code. */
export function decodeKeysRice(bytes: Uint8Array, count: number, b: number): { keys: Uint32Array; length: number } {
  const out = new Uint32Array(count);
  const end = bytes.length * 8;
  const div = 2 ** b;
  let bit = 0;
  let prev = 0;
  for (let i = 0; i < count; i++) {
    let q = 0;
    while (bit < end && ((bytes[bit >> 3] as number) & (0x80 >> (bit & 7))) !== 0) {
      q++;
      bit++;
    }
    if (bit + 1 + b > end) throw new Error('truncated key table');
    bit++;
    let rem = 0;
    if (b <= 24) {
      // The b bits from a 32-bit big-endian window (bytes past the end read as 0; the length check above holds).
      const p = bit >> 3;
      const w =
        (((bytes[p] as number) << 24) |
          ((bytes[p + 1] ?? 0) << 16) |
          ((bytes[p + 2] ?? 0) << 8) |
          (bytes[p + 3] ?? 0)) >>>
        0;
      rem = b === 0 ? 0 : ((w << (bit & 7)) >>> 0) >>> (32 - b);
      bit += b;
    } else {
      for (let j = 0; j < b; j++, bit++) rem = rem * 2 + (((bytes[bit >> 3] as number) >> (7 - (bit & 7))) & 1);
    }
    prev += q * div + rem;
    if (prev > 0xffffffff || (i > 0 && q * div + rem === 0)) throw new Error('bad key table');
    out[i] = prev;
  }
  return { keys: out, length: (bit + 7) >> 3 };
}
