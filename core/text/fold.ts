/**
 * Unicode folding shared by the classifier and the dedupe engine (pure, no I/O).
 */

/**
 * NFKC (and NFKC + lowercase) by table. Most code units of a message fold on their own (CJK, ASCII, full-width
 * forms), so a table filled on first sight of each unit (from `normalize` itself) gives the same string: a little
 * faster than ICU on a message and on a short clause (no call into ICU), and one pass for both steps. What it mostly
 * buys is `nfkcLower`'s memory of the last folds, below. A unit is only taken from the table when its own result cannot
 * interact with its neighbours: not a combining mark, not Hangul (jamo compose with each other and with syllables), not
 * a surrogate, and its NFKC holds none of those either (U+FF9E → U+3099 would compose with the kana before it); for
 * the lowercase table not Σ either (final sigma depends on the next letter). Any other unit in a string → the whole
 * string goes through `normalize` as before. The same string as `s.normalize('NFKC')` (and `.toLowerCase()`) for
 * every input: checked unit by unit over the BMP and on mixed strings in test/unit/dedupe/fold.test.ts.
 */
const FOLD_SAME = 1;
const FOLD_ONE = 2;
const FOLD_MANY = 3;
const FOLD_CONTEXT = 4;

interface FoldTable {
  lower: boolean;
  /** Per BMP code unit: 0 not looked up yet, else one of the FOLD_ kinds. */
  kind: Uint8Array;
  /** The one code unit a FOLD_ONE unit becomes. */
  one: Uint16Array;
  /** What a FOLD_MANY unit becomes (㎡ → m2, ① → 1). */
  many: Map<number, string>;
}

const foldTable = (lower: boolean): FoldTable => ({
  lower,
  kind: new Uint8Array(0x10000),
  one: new Uint16Array(0x10000),
  many: new Map(),
});
const NFKC_TABLE = foldTable(false);
const NFKC_LOWER_TABLE = foldTable(true);
const MARK_RE = /\p{M}/u;

const isHangulUnit = (c: number) =>
  (c >= 0x1100 && c <= 0x11ff) ||
  (c >= 0x3130 && c <= 0x318f) ||
  (c >= 0xa960 && c <= 0xa97f) ||
  (c >= 0xac00 && c <= 0xd7ff) ||
  (c >= 0xffa0 && c <= 0xffdf);

/** Whether a unit's NFKC is context-free: no marks, Hangul or surrogates in the unit or its result. */
function contextFree(out: string): boolean {
  if (MARK_RE.test(out)) return false;
  for (let i = 0; i < out.length; i++) {
    const c = out.charCodeAt(i);
    if ((c >= 0xd800 && c <= 0xdfff) || isHangulUnit(c)) return false;
  }
  return true;
}

function learnFold(t: FoldTable, c: number): number {
  let kind = FOLD_CONTEXT;
  const ch = String.fromCharCode(c);
  if (contextFree(ch)) {
    const nfkc = ch.normalize('NFKC');
    if (contextFree(nfkc) && !(t.lower && nfkc.includes('\u03a3'))) {
      const out = t.lower ? nfkc.toLowerCase() : nfkc;
      if (out === ch) kind = FOLD_SAME;
      else if (out.length === 1) {
        kind = FOLD_ONE;
        t.one[c] = out.charCodeAt(0);
      } else {
        kind = FOLD_MANY;
        t.many.set(c, out);
      }
    }
  }
  t.kind[c] = kind;
  return kind;
}

let foldBuf = new Uint16Array(1024);
const utf16 = new TextDecoder('utf-16le');

/** Room for `need` more units after `m` in the scratch buffer (kept: its first `m` units). */
function foldRoom(m: number, need: number): Uint16Array {
  if (foldBuf.length < m + need) {
    const grown = new Uint16Array(Math.max(foldBuf.length * 2, m + need + 32));
    grown.set(foldBuf.subarray(0, m));
    foldBuf = grown;
  }
  return foldBuf;
}

/** Folds `s[from..]` into the scratch buffer after its first `m` units; the new length, or -1 on a unit in context. */
function foldInto(t: FoldTable, s: string, from: number, m: number): number {
  const n = s.length;
  const kinds = t.kind;
  let buf = foldRoom(m, n - from);
  const lower = t.lower;
  for (let i = from; i < n; i++) {
    const c = s.charCodeAt(i);
    // CJK unified ideographs and printable ASCII fold to themselves (A-Z to a-z): no table read (the table's lines for
    // 20,000 ideographs do not stay in cache).
    if (c >= 0x4e00 ? c <= 0x9fff : c >= 0x20 && c < 0x7f) {
      buf[m++] = lower && c >= 0x41 && c <= 0x5a ? c + 32 : c;
      continue;
    }
    let k = kinds[c]!;
    if (k === 0) k = learnFold(t, c);
    if (k === FOLD_SAME) buf[m++] = c;
    else if (k === FOLD_ONE) buf[m++] = t.one[c]!;
    else if (k === FOLD_MANY) {
      const out = t.many.get(c)!;
      buf = foldRoom(m, out.length + (n - i));
      for (let j = 0; j < out.length; j++) buf[m++] = out.charCodeAt(j);
    } else return -1;
  }
  return m;
}

const reference = (t: FoldTable, s: string) => {
  const nfkc = s.normalize('NFKC');
  return t.lower ? nfkc.toLowerCase() : nfkc;
};

function foldWith(t: FoldTable, s: string): string {
  const n = s.length;
  const kinds = t.kind;
  let i = 0;
  const lower = t.lower;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x4e00 ? c <= 0x9fff : c >= 0x20 && c < 0x7f && !(lower && c >= 0x41 && c <= 0x5a)) continue;
    let k = kinds[c]!;
    if (k === 0) k = learnFold(t, c);
    if (k !== FOLD_SAME) break;
  }
  if (i === n) return s;
  const buf = foldRoom(0, i);
  for (let j = 0; j < i; j++) buf[j] = s.charCodeAt(j);
  const m = foldInto(t, s, i, i);
  return m < 0 ? reference(t, s) : utf16.decode(foldBuf.subarray(0, m));
}

/** `s.normalize('NFKC')`, by table for the units that fold on their own (see above). */
export function nfkc(s: string): string {
  return foldWith(NFKC_TABLE, s);
}

/**
 * The last few `nfkcLower` results: one report's title and text are folded by the classifier's keywords, the dedupe
 * group keywords and the text sketch in turn (each joins them with a line break or a space, which never combine with
 * a neighbour under NFKC or lowercasing: the folded whole is the folded parts, joined).
 */
const LOWER_MEMO = 4;
const memoIn: string[] = [];
const memoOut: string[] = [];
let memoNext = 0;

/** `s.normalize('NFKC').toLowerCase()`, by table for the units that fold on their own (see above). */
export function nfkcLower(s: string): string {
  for (let i = 0; i < memoIn.length; i++) if (memoIn[i] === s) return memoOut[i]!;
  const out = foldWith(NFKC_LOWER_TABLE, s);
  memoIn[memoNext] = s;
  memoOut[memoNext] = out;
  memoNext = (memoNext + 1) % LOWER_MEMO;
  return out;
}

/** `nfkcLower(parts.join(sep))` for a line break or a space as `sep`, from the (remembered) folds of the parts. */
export function nfkcLowerJoined(parts: readonly string[], sep: '\n' | ' '): string {
  let out = '';
  for (let i = 0; i < parts.length; i++) out = i === 0 ? nfkcLower(parts[i]!) : `${out}${sep}${nfkcLower(parts[i]!)}`;
  return out;
}
