/**
 * The trained text classifier: hashed character n-grams → sublinear TF-IDF (L2-normalized) → one-vs-rest linear SVMs
 * (L2-regularized squared hinge, solved by dual coordinate descent as in LIBLINEAR) → softmax(T·s + b) with T and b
 * fitted on out-of-fold scores (inner folds), so the confidence is a calibrated probability.
 *
 * NBSVM (Wang & Manning 2012): each one-vs-rest SVM sees its features scaled by the Naive Bayes log-count ratio of its
 * class, r = ln((p_k / |p_k|₁) / (q_k / |q_k|₁)) with p_k, q_k the smoothed document counts of each n-gram in and out of
 * the class. The scaling is folded into the stored weights (w'ᵣ = rᵣ · wᵣ), so inference is the same plain linear model.
 * Measured with the same 5 folds on train.csv: macro-F1 0.9073 → 0.9127 (see bench/classify.bench.ts).
 *
 * Compact artifact (issue 12: it is bundled into three Lambdas): after the full fit, only the `maxFeatures` n-grams
 * that move the decision most keep their weights (`rankFeatures`); the rest count as unknown n-grams, with one IDF
 * fitted to them. Keys keep the top `keyBits` bits of each hash (Rice-coded gaps), IDF codes `idfBits`, weights
 * `weightBits` with square-root companding, all in one Brotli blob. CV prunes inside each fold, so it measures what
 * ships. Same 5 folds: all 121,015 n-grams at 8 bits (1675 KiB) gave macro-F1 0.9127, precision@80 % 0.9692; the
 * shipped 30,000 give 0.9131 and 0.9694 (bench/classify.bench.ts).
 *
 * Deterministic: a seeded PRNG orders the coordinate descent, every loop runs in a fixed order and the artifact holds
 * no clock, so the same data and options give a byte-identical JSON artifact (Brotli of the pinned Node).
 * Pure data: inference is plain JS (one `brotliDecompressSync` at load, about 2 ms).
 */
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
import { CityLoopError } from '#core/errors.ts';
import { mulberry32 } from '../random.ts';
import {
  DEFAULT_FEATURES,
  decodeKeysRice,
  encodeKeysRice,
  extractFeatures,
  type FeatureSpec,
  FNV_OFFSET,
  FNV_PRIME,
  KeyIndex,
  normalizeCodes,
  riceParameter,
  SortedKeyIndex,
  type SparseCounts,
} from './features.ts';

export const MODEL_FORMAT = 'cityloop.text-classifier';
/** 3: the calibration may be a matrix (`calibration.method` `matrix`). Version 2 artifacts (no matrix) still load. */
export const MODEL_FORMAT_VERSION = 3;
const READABLE_VERSIONS: readonly number[] = [2, 3];

export interface TrainExample {
  text: string;
  label: string;
}

export interface TrainOptions {
  features?: FeatureSpec;
  /** SVM cost (inverse regularization). */
  C?: number;
  /** Upper bound on coordinate-descent passes per class. */
  maxEpochs?: number;
  /** Stop when the projected-gradient spread falls below this (LIBLINEAR's eps). */
  tolerance?: number;
  /** n-grams seen in fewer training texts are left out of the vocabulary. */
  minDf?: number;
  seed?: number;
  /** Inner folds for fitting the calibration on out-of-fold scores (0 or 1: fit on the training scores). */
  calibrationFolds?: number;
  /**
   * `temperature`: softmax(T·s), one parameter, keeps the SVM's argmax. `affine`: softmax(T·s + b), one bias per
   * label fitted on the same out-of-fold scores (vector scaling): also corrects the one-vs-rest SVMs' offsets.
   * `matrix`: softmax(M·s + b), a full K × K matrix (matrix scaling, L2-penalised towards the affine T·I, the penalty
   * chosen by inner cross-validation): each label's probability may also read the other labels' scores.
   */
  calibration?: 'temperature' | 'affine' | 'matrix';
  /**
   * Naive Bayes feature scaling (NBSVM) with this additive smoothing of the per-class document counts; 0 turns it off
   * (plain TF-IDF SVM).
   */
  nbAlpha?: number;
  /**
   * Class balance γ of each one-vs-rest SVM: in class k's problem the texts of k get cost C·(n_rest/n_k)^γ and the
   * others C·(n_k/n_rest)^γ, so a small class (交通运输, 6.5 % of the shared data) is not outvoted by the rest. 0: off.
   */
  classBalance?: number;
  /**
   * Keep at most this many n-grams (0: every one with df ≥ minDf): the ones that move the decision most, with the
   * weights of the full fit (`rankFeatures`); the rest count as unknown n-grams.
   */
  maxFeatures?: number;
  /** Bits per stored weight code, sign included (2–8), square-root companded. */
  weightBits?: number;
  /** Bits per stored IDF code (1–8). */
  idfBits?: number;
  /** Bits of each n-gram's 32-bit hash the artifact keeps (16–32): fewer bits, smaller key table, rare collisions. */
  keyBits?: number;
}

export const DEFAULT_TRAIN_OPTIONS: Required<TrainOptions> = {
  features: DEFAULT_FEATURES,
  C: 1,
  maxEpochs: 40,
  tolerance: 0.1,
  minDf: 2,
  seed: 20250101,
  calibrationFolds: 3,
  // Matrix scaling: on the shared data, three fold seeds, precision at 80 % coverage +0.0021 / +0.0023 / +0.0032 and
  // expected calibration error 0.024 / 0.028 / 0.029 → 0.024 / 0.021 / 0.020 against `affine`, macro-F1 within ±0.0022
  // (docs/classifier-experiments.md, session 6); training about 3× longer (the penalty's inner cross-validation).
  calibration: 'matrix',
  nbAlpha: 1,
  // Off for the shipped model: on the shared data it moved macro-F1 by ±0.001 and precision at 80 % coverage by
  // +0.0014–0.0017 (docs/classifier-experiments.md, session 5), within what retraining would change anyway.
  classBalance: 0,
  // The shipped model's compact artifact (issue 12), each width measured with the same 5 folds (bench/classify.bench.ts):
  // 25,000 n-grams or 6-bit weights or 5-bit IDF or 24-bit keys each cost macro-F1 or precision@80 %.
  maxFeatures: 30000,
  weightBits: 7,
  idfBits: 6,
  keyBits: 26,
};

/** The JSON artifact (`config/model/classifier.json`). */
export interface ModelArtifact {
  format: typeof MODEL_FORMAT;
  version: number;
  labels: string[];
  features: FeatureSpec;
  vocabSize: number;
  /** Keys are the top keyBits bits of the n-grams' 32-bit FNV-1a hashes. */
  keyBits: number;
  /** IDF codes are 0 … 2^idfBits − 1: idf = 1 + q / (2^idfBits − 1) · (idfMax − 1). */
  idfBits: number;
  idfMax: number;
  /** IDF code used for n-grams outside the vocabulary (they still count in the vector's length). */
  idfUnknown: number;
  /** Weight codes are −L … L with L = 2^(weightBits − 1) − 1: w = sign(q) · (q / L)² · scales[label]. */
  weightBits: number;
  /** Golomb–Rice parameter of the key gaps in `data`. */
  keyRice: number;
  /**
   * Base85 (`toBase85`) of Brotli (RFC 7932) of three tables back to back: the sorted keys as Rice-coded gaps (`encodeKeysRice`,
   * padded to a byte), one IDF code byte per n-gram, then vocabSize × labels.length weight codes (int8, row-major).
   * One byte per code, so Brotli's entropy coder stores them near their entropy.
   */
  data: string;
  scales: number[];
  bias: number[];
  /**
   * p = softmax(temperature · score + bias); `bias` only with methods `affine` and `matrix`. Method `matrix`:
   * p = softmax(matrix · score + bias), `matrix` K × K row-major (`temperature` is then the affine fit it started from).
   */
  calibration: {
    method: 'temperature' | 'affine' | 'matrix';
    temperature: number;
    bias?: number[];
    matrix?: number[];
    folds: number;
  };
  training: {
    rows: number;
    rowsPerLabel: Record<string, number>;
    C: number;
    maxEpochs: number;
    tolerance: number;
    minDf: number;
    seed: number;
    /** NBSVM smoothing (0 or absent: plain TF-IDF SVM). */
    nbAlpha?: number;
    /** Class balance γ of the one-vs-rest costs (absent: 0). */
    classBalance?: number;
    /** The vocabulary was pruned to this many n-grams (absent: every n-gram with df ≥ minDf). */
    maxFeatures?: number;
  };
}

export interface LabelScore {
  label: string;
  confidence: number;
}

export interface Prediction {
  label: string;
  /** Calibrated probability of `label`. */
  confidence: number;
  /** The next most likely labels, best first. */
  alternatives: LabelScore[];
}

// ---------------------------------------------------------------------------------------------------------------------
// Shared numeric core

/** mulberry32 (`core/random.ts`): small, fast, seedable; the only randomness in training. */
export const seededRandom = mulberry32;

interface Core {
  K: number;
  /** Sorted stored keys: the top `32 − keyShift` bits of each n-gram's hash. */
  keys: Uint32Array;
  keyShift: number;
  /** `KeyIndex` while training; `SortedKeyIndex` (smaller, same rows) for a loaded model. */
  index: KeyIndex | SortedKeyIndex;
  idfQ: Uint8Array;
  idfMax: number;
  idfUnknownQ: number;
  wq: Int8Array;
  scales: Float64Array;
  bias: Float64Array;
  /**
   * Dequantization tables (`weightTable`, `idfTableOf`): inference reads the weight and IDF codes in place, K + 1
   * bytes per vocabulary row (cache-resident) instead of a float copy 4× as large.
   */
  wTable: Float32Array;
  idfTable: Float32Array;
  /**
   * For a loaded model with K ≤ 8 labels: `wq` and 8 spare bytes (one native copy at load), so the unrolled kernel may
   * read 8 weight codes from any row (codes read past a row's K only meet the zero rows of `wTable`).
   */
  wqPadded?: Int8Array;
  /** Scratch counts per vocabulary row for `scoreText` (all zero between calls). */
  rowCount: Uint16Array;
  /** Scratch raw scores of `scoreText` (a loaded model's; read by `softmax` before the next text). */
  scores?: Float64Array;
  /** Vocabulary row of each single UTF-16 code unit as a 1-gram (-1: not in the vocabulary); built by `loadModel`. */
  unigramRow?: Int32Array | Int16Array;
}

/** `unigramRow` entry of a code unit not looked up yet (rows are ≥ 0, and -1 is "not in the vocabulary"). */
const UNIGRAM_UNSEEN = -2;

/**
 * Row of every 1-gram, by code unit: a direct lookup instead of a hash probe for half of the n-grams. Filled as texts
 * meet code units (`scoreText`): looking all 65,536 up at load was 2–3 ms of a cold start, and a text uses a few hundred.
 */
function unigramRows(core: Core): Int32Array | Int16Array {
  // 16-bit rows while they fit (the shipped 30,000 do): half the table, which a text reads at random.
  const out = core.keys.length <= 0x8000 ? new Int16Array(65536) : new Int32Array(65536);
  return out.fill(UNIGRAM_UNSEEN);
}

const idfOf = (q: number, idfMax: number, levels: number): number => 1 + (q / levels) * (idfMax - 1);

/** 1 + ln(c) for small counts, without a log call per feature. */
const SUBLINEAR = Float64Array.from({ length: 256 }, (_, c) => (c === 0 ? 0 : 1 + Math.log(c)));
const sublinear = (c: number): number => (c < 256 ? (SUBLINEAR[c] as number) : 1 + Math.log(c));

/** Labels the unrolled kernel (`finishUnrolled`) handles, one accumulator each. */
const UNROLL = 8;

/** One 256-entry dequantization table per label, index k · 256 + q + 128: w = sign(q) · (q / L)² · scale[k]. */
function weightTable(scales: Float64Array, K: number, L: number): Float32Array {
  // Rows k ≥ K (up to 8) stay zero: `finishUnrolled` reads them for models of fewer labels.
  const table = new Float32Array(Math.max(K, UNROLL) * 256);
  for (let k = 0; k < K; k++) {
    for (let q = -128; q < 128; q++) {
      const a = q / L;
      table[k * 256 + q + 128] = (q < 0 ? -a * a : a * a) * (scales[k] as number);
    }
  }
  return table;
}

/** IDF by its code. */
const idfTableOf = (idfMax: number, levels: number): Float32Array =>
  Float32Array.from({ length: 256 }, (_, q) => idfOf(q, idfMax, levels));

let rowBuf = new Int32Array(1024);
let valBuf = new Float64Array(1024);

/**
 * Raw (uncalibrated) per-label scores of one text's features: bias + (Σ w·v) / ‖v‖ with v = (1 + ln tf) · idf. Known
 * n-grams are summed in order of first occurrence and the norm is known part + unknown part, the same arithmetic as
 * `scoreText`, so both give bit-identical scores.
 */
function scoreCore(core: Core, doc: SparseCounts): Float64Array {
  const { index, idfQ, idfTable } = core;
  const out = core.bias.slice();
  const unknownIdf = idfTable[core.idfUnknownQ] as number;
  const { keys, counts } = doc;
  const u = keys.length;
  if (rowBuf.length < u) {
    rowBuf = new Int32Array(u * 2);
    valBuf = new Float64Array(u * 2);
  }
  const rows = rowBuf;
  const vals = valBuf;
  let normKnown = 0;
  let normUnknown = 0;
  let m = 0;
  for (let j = 0; j < u; j++) {
    const r = index.get((keys[j] as number) >>> core.keyShift);
    const tf = sublinear(counts[j] as number);
    if (r < 0) {
      const v = tf * unknownIdf;
      normUnknown += v * v;
      continue;
    }
    const v = tf * (idfTable[idfQ[r] as number] as number);
    normKnown += v * v;
    rows[m] = r;
    vals[m++] = v;
  }
  return finishScores(core, rows, vals, m, normKnown + normUnknown, out);
}

const acc = new Float64Array(64);

function finishScores(
  core: Core,
  rows: Int32Array,
  vals: Float64Array,
  m: number,
  norm: number,
  out: Float64Array,
): Float64Array {
  if (norm === 0) return out;
  const { K, wq, wTable } = core;
  const a = K <= acc.length ? acc : new Float64Array(K);
  a.fill(0, 0, K);
  for (let j = 0; j < m; j++) {
    const base = (rows[j] as number) * K;
    const v = vals[j] as number;
    for (let k = 0; k < K; k++) {
      a[k] = (a[k] as number) + (wTable[k * 256 + 128 + (wq[base + k] as number)] as number) * v;
    }
  }
  const inv = 1 / Math.sqrt(norm);
  for (let k = 0; k < K; k++) out[k] = (out[k] as number) + (a[k] as number) * inv;
  return out;
}

/**
 * `finishScores` over `Core.wqPadded` for K ≤ 8 labels, with one local accumulator per label (registers, not a typed
 * array written back per n-gram): the same products added in the same order, so the same bits. Accumulators k ≥ K
 * add 0 and are dropped.
 */
function finishUnrolled(
  K: number,
  wq: Int8Array,
  t: Float32Array,
  rows: Int32Array,
  vals: Float64Array,
  m: number,
  norm: number,
  out: Float64Array,
): Float64Array {
  if (norm === 0) return out;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let a4 = 0;
  let a5 = 0;
  let a6 = 0;
  let a7 = 0;
  for (let j = 0; j < m; j++) {
    const b = (rows[j] as number) * K;
    const v = vals[j] as number;
    a0 += (t[128 + (wq[b] as number)] as number) * v;
    a1 += (t[384 + (wq[b + 1] as number)] as number) * v;
    a2 += (t[640 + (wq[b + 2] as number)] as number) * v;
    a3 += (t[896 + (wq[b + 3] as number)] as number) * v;
    a4 += (t[1152 + (wq[b + 4] as number)] as number) * v;
    a5 += (t[1408 + (wq[b + 5] as number)] as number) * v;
    a6 += (t[1664 + (wq[b + 6] as number)] as number) * v;
    a7 += (t[1920 + (wq[b + 7] as number)] as number) * v;
  }
  const inv = 1 / Math.sqrt(norm);
  const a = acc;
  a[0] = a0;
  a[1] = a1;
  a[2] = a2;
  a[3] = a3;
  a[4] = a4;
  a[5] = a5;
  a[6] = a6;
  a[7] = a7;
  for (let k = 0; k < K; k++) out[k] = (out[k] as number) + (a[k] as number) * inv;
  return out;
}

// Scratch for `scoreText`: counts of the n-grams outside the vocabulary (stamped open addressing, never cleared).
let unkKeys = new Uint32Array(1 << 10);
let unkCounts = new Uint16Array(1 << 10);
let unkStamp = new Uint32Array(1 << 10);
let unkList = new Int32Array(1 << 9);
let stamp = 0;

/**
 * Scores a text in one pass, no string or array per n-gram: normalized code units → incremental FNV-1a hash → row via
 * the key index → count per row (a per-model Uint16Array, reset after use). Unknown n-grams only count toward ‖v‖.
 * Same result as `scoreCore(core, extractFeatures(text, spec))`. `folded`: the text is `s.normalize('NFKC')
 * .toLowerCase()` already (as the classifier's keyword matcher folded it), so that step is skipped.
 */
function scoreText(core: Core, text: string, spec: FeatureSpec, folded = false): Float64Array {
  const { index, idfQ, idfTable, rowCount, keyShift: shift } = core;
  const codes = normalizeCodes(text, spec.maxChars, folded);
  const len = codes.length;
  let total = 0;
  for (const n of spec.ngrams) total += Math.max(0, len - n + 1);
  if (rowBuf.length < total) {
    rowBuf = new Int32Array(total * 2);
    valBuf = new Float64Array(total * 2);
  }
  let size = unkKeys.length;
  while (size < total * 2) size *= 2;
  if (size !== unkKeys.length) {
    unkKeys = new Uint32Array(size);
    unkCounts = new Uint16Array(size);
    unkStamp = new Uint32Array(size);
    unkList = new Int32Array(size);
    stamp = 0;
  }
  if (++stamp === 0xffffffff) {
    unkStamp.fill(0);
    stamp = 1;
  }
  const mask = size - 1;
  const rows = rowBuf;
  let m = 0;
  let nu = 0;
  if (spec.ngrams.includes(1) && core.unigramRow === undefined) core.unigramRow = unigramRows(core);
  const uni = core.unigramRow;
  for (const n of spec.ngrams) {
    const seed = (FNV_OFFSET ^ n) >>> 0;
    for (let i = 0; i + n <= len; i++) {
      // FNV-1a of the n code units; 1-grams find their row by code unit, 2-grams hash without an inner loop.
      let h: number;
      let r: number;
      if (n === 1 && uni !== undefined) {
        const c = codes[i] as number;
        r = uni[c] as number;
        if (r === UNIGRAM_UNSEEN) {
          r = index.get(Math.imul(seed ^ c, FNV_PRIME) >>> shift);
          uni[c] = r;
        }
        if (r >= 0) {
          const cnt = rowCount[r] as number;
          if (cnt === 0) rows[m++] = r;
          if (cnt < 65535) rowCount[r] = cnt + 1;
          continue;
        }
        h = Math.imul(seed ^ c, FNV_PRIME) >>> 0;
      } else {
        if (n === 2)
          h = Math.imul(Math.imul(seed ^ (codes[i] as number), FNV_PRIME) ^ (codes[i + 1] as number), FNV_PRIME);
        else {
          h = seed;
          for (let j = i; j < i + n; j++) h = Math.imul(h ^ (codes[j] as number), FNV_PRIME);
        }
        h >>>= 0;
        r = index.get(h >>> shift);
        if (r >= 0) {
          const cnt = rowCount[r] as number;
          if (cnt === 0) rows[m++] = r;
          if (cnt < 65535) rowCount[r] = cnt + 1;
          continue;
        }
      }
      let slot = (Math.imul(h, 0x9e3779b1) >>> 0) & mask;
      for (;;) {
        if (unkStamp[slot] !== stamp) {
          unkStamp[slot] = stamp;
          unkKeys[slot] = h;
          unkCounts[slot] = 1;
          unkList[nu++] = slot;
          break;
        }
        if (unkKeys[slot] === h) {
          if ((unkCounts[slot] as number) < 65535) unkCounts[slot] = (unkCounts[slot] as number) + 1;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
  }
  const vals = valBuf;
  let normKnown = 0;
  for (let j = 0; j < m; j++) {
    const r = rows[j] as number;
    const v = sublinear(rowCount[r] as number) * (idfTable[idfQ[r] as number] as number);
    rowCount[r] = 0;
    normKnown += v * v;
    vals[j] = v;
  }
  const unknownIdf = idfTable[core.idfUnknownQ] as number;
  let normUnknown = 0;
  for (let j = 0; j < nu; j++) {
    const v = sublinear(unkCounts[unkList[j] as number] as number) * unknownIdf;
    normUnknown += v * v;
  }
  // The raw scores go straight into `softmax`: a scratch array per model, not one per text.
  const out = core.scores ?? new Float64Array(core.K);
  out.set(core.bias);
  const norm = normKnown + normUnknown;
  const wqPadded = core.wqPadded;
  return wqPadded !== undefined
    ? finishUnrolled(core.K, wqPadded, core.wTable, rows, vals, m, norm, out)
    : finishScores(core, rows, vals, m, norm, out);
}

function softmax(scores: ArrayLike<number>, temperature: number, shift?: ArrayLike<number>): Float64Array {
  const K = scores.length;
  const out = new Float64Array(K);
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, (scores[k] as number) * temperature + ((shift?.[k] as number) ?? 0));
  let s = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp((scores[k] as number) * temperature + ((shift?.[k] as number) ?? 0) - m);
    out[k] = e;
    s += e;
  }
  for (let k = 0; k < K; k++) out[k] = (out[k] as number) / s;
  return out;
}

/**
 * Naive Bayes log-count ratios, one per (n-gram, class), row-major V × K: r = ln((p + a) / |p + a|₁) − ln((q + a) / |q + a|₁)
 * where p counts the class's training docs containing the n-gram and q the other docs (binarized, as in NBSVM).
 */
function nbRatios(
  docRows: readonly Int32Array[],
  idx: readonly number[],
  y: Int32Array,
  K: number,
  V: number,
  a: number,
): Float64Array {
  const p = new Float64Array(V * K);
  const total = new Float64Array(V);
  for (let j = 0; j < docRows.length; j++) {
    const k = y[idx[j] as number] as number;
    const rs = docRows[j] as Int32Array;
    for (let q = 0; q < rs.length; q++) {
      const r = rs[q] as number;
      p[r * K + k] = (p[r * K + k] as number) + 1;
      total[r] = (total[r] as number) + 1;
    }
  }
  const sumIn = new Float64Array(K);
  const sumOut = new Float64Array(K);
  for (let r = 0; r < V; r++) {
    for (let k = 0; k < K; k++) {
      const pin = p[r * K + k] as number;
      sumIn[k] = (sumIn[k] as number) + pin + a;
      sumOut[k] = (sumOut[k] as number) + (total[r] as number) - pin + a;
    }
  }
  const ratio = new Float64Array(V * K);
  for (let r = 0; r < V; r++) {
    for (let k = 0; k < K; k++) {
      const pin = p[r * K + k] as number;
      ratio[r * K + k] =
        Math.log((pin + a) / (sumIn[k] as number)) - Math.log(((total[r] as number) - pin + a) / (sumOut[k] as number));
    }
  }
  return ratio;
}

/** The float SVM weights of one fit, before quantization. */
interface Fit {
  /** V × K, row-major, NB scaling folded in. */
  W: Float64Array;
  bias: Float64Array;
  /** Σ over the training docs of each n-gram's normalized TF-IDF value (how much text it scores). */
  mass: Float64Array;
}

/**
 * TF-IDF rows of the training docs over the vocabulary `keys` (n-grams outside it count in each doc's norm with the
 * IDF of an unknown n-gram, as at inference), then the K one-vs-rest NBSVMs.
 */
function fitSvms(
  maps: readonly SparseCounts[],
  y: Int32Array,
  K: number,
  idx: readonly number[],
  o: Required<TrainOptions>,
  keys: Uint32Array,
  idfQ: Uint8Array,
  idfMax: number,
  idfUnknownQ: number,
  levels: number,
): Fit {
  const n = idx.length;
  const V = keys.length;
  const index = new KeyIndex(keys);
  // Sparse TF-IDF rows of the training docs, with the same quantized IDF as inference.
  const docRows: Int32Array[] = [];
  const docVals: Float64Array[] = [];
  const unknownIdf = idfOf(idfUnknownQ, idfMax, levels);
  const mass = new Float64Array(V);
  for (const i of idx) {
    const { keys: dk, counts: dc } = maps[i] as SparseCounts;
    const rs: number[] = [];
    const vs: number[] = [];
    let norm = 0;
    for (let j = 0; j < dk.length; j++) {
      const r = index.get(dk[j] as number);
      const tf = sublinear(dc[j] as number);
      const v = tf * (r < 0 ? unknownIdf : idfOf(idfQ[r] as number, idfMax, levels));
      norm += v * v;
      if (r >= 0) {
        rs.push(r);
        vs.push(v);
      }
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    const row = Int32Array.from(rs);
    const vals = Float64Array.from(vs, (v) => v * inv);
    for (let q = 0; q < row.length; q++)
      mass[row[q] as number] = (mass[row[q] as number] as number) + (vals[q] as number);
    docRows.push(row);
    docVals.push(vals);
  }

  // NBSVM: per class, the log-count ratio of each n-gram (document counts in vs out of the class, smoothed by nbAlpha).
  const nb = o.nbAlpha > 0;
  const ratio = nb ? nbRatios(docRows, idx, y, K, V, o.nbAlpha) : undefined;
  const scale = new Float64Array(V);

  // One-vs-rest L2-loss SVM, dual coordinate descent (Hsieh et al. 2008), bias as a constant feature of value 1.
  // The L2 loss puts 1 / (2·cost) on the diagonal; with class balance the cost of a text depends on its side.
  const classN = new Float64Array(K);
  for (const i of idx) classN[y[i] as number] = (classN[y[i] as number] as number) + 1;
  const qd = new Float64Array(n);
  const W = new Float64Array(V * K);
  const bias = new Float64Array(K);
  const rnd = seededRandom(o.seed);
  const order = new Int32Array(n);
  const w = new Float64Array(V);
  const alpha = new Float64Array(n);
  // Without NB scaling every class sees the same features: one pass of squared norms serves them all.
  const scaledVals = nb ? docVals.map((vs) => new Float64Array(vs.length)) : docVals;
  for (let k = 0; k < K; k++) {
    const rest = (n - (classN[k] as number)) / Math.max(1, classN[k] as number);
    const Dpos = 0.5 / (o.C * rest ** o.classBalance);
    const Dneg = 0.5 / (o.C * rest ** -o.classBalance);
    // Without NB scaling or class balance every class sees the same diagonal: one pass serves them all.
    if (ratio || k === 0 || o.classBalance > 0) {
      if (ratio) for (let r = 0; r < V; r++) scale[r] = ratio[r * K + k] as number;
      for (let j = 0; j < n; j++) {
        const rs = docRows[j] as Int32Array;
        const vs = docVals[j] as Float64Array;
        const out = scaledVals[j] as Float64Array;
        let s = 1 + (y[idx[j] as number] === k ? Dpos : Dneg);
        for (let q = 0; q < vs.length; q++) {
          const v = ratio ? (vs[q] as number) * (scale[rs[q] as number] as number) : (vs[q] as number);
          if (ratio) out[q] = v;
          s += v * v;
        }
        qd[j] = s;
      }
    }
    w.fill(0);
    alpha.fill(0);
    let b = 0;
    for (let j = 0; j < n; j++) order[j] = j;
    for (let epoch = 0; epoch < o.maxEpochs; epoch++) {
      for (let j = n - 1; j > 0; j--) {
        const s = Math.floor(rnd() * (j + 1));
        const t = order[j] as number;
        order[j] = order[s] as number;
        order[s] = t;
      }
      let maxPG = -Infinity;
      let minPG = Infinity;
      for (let jj = 0; jj < n; jj++) {
        const j = order[jj] as number;
        const yi = y[idx[j] as number] === k ? 1 : -1;
        const rs = docRows[j] as Int32Array;
        const vs = scaledVals[j] as Float64Array;
        let g = b;
        for (let q = 0; q < rs.length; q++) g += (w[rs[q] as number] as number) * (vs[q] as number);
        const a = alpha[j] as number;
        g = yi * g - 1 + (yi > 0 ? Dpos : Dneg) * a;
        const pg = a === 0 ? Math.min(g, 0) : g;
        if (pg > maxPG) maxPG = pg;
        if (pg < minPG) minPG = pg;
        if (pg !== 0) {
          const na = Math.max(0, a - g / (qd[j] as number));
          alpha[j] = na;
          const d = (na - a) * yi;
          if (d !== 0) {
            for (let q = 0; q < rs.length; q++) {
              const r = rs[q] as number;
              w[r] = (w[r] as number) + d * (vs[q] as number);
            }
            b += d;
          }
        }
      }
      if (maxPG - minPG < o.tolerance) break;
    }
    // The NB scaling folds into the weights: score = Σ (r·v)·w = Σ v·(r·w).
    for (let r = 0; r < V; r++) W[r * K + k] = ratio ? (w[r] as number) * (scale[r] as number) : (w[r] as number);
    bias[k] = b;
  }
  return { W, bias, mass };
}

/**
 * Vocabulary rows, the ones that move the decision most first: (max − min over labels of w) × the n-gram's summed
 * TF-IDF mass in the training docs. The spread, not |w|: adding one constant to every label's score leaves the softmax
 * unchanged, so an n-gram with equal weights for all labels decides nothing. Ties broken by row: deterministic.
 */
function rankFeatures(fit: Fit, V: number, K: number): Int32Array {
  const score = new Float64Array(V);
  for (let r = 0; r < V; r++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < K; k++) {
      lo = Math.min(lo, fit.W[r * K + k] as number);
      hi = Math.max(hi, fit.W[r * K + k] as number);
    }
    score[r] = (hi - lo) * (fit.mass[r] as number);
  }
  return Int32Array.from({ length: V }, (_, r) => r).sort(
    (a, b) => (score[b] as number) - (score[a] as number) || a - b,
  );
}

/** Fits vocabulary, IDF and the K one-vs-rest SVMs on the docs at `idx`; returns the quantized core. */
function fitCore(
  maps: readonly SparseCounts[],
  y: Int32Array,
  K: number,
  idx: readonly number[],
  o: Required<TrainOptions>,
): Core {
  const n = idx.length;
  // Document frequencies over the training docs; vocabulary = keys with df ≥ minDf, sorted for determinism.
  const df = new Map<number, number>();
  for (const i of idx) for (const key of (maps[i] as SparseCounts).keys) df.set(key, (df.get(key) ?? 0) + 1);
  const vocab: number[] = [];
  for (const [key, d] of df) if (d >= o.minDf) vocab.push(key);
  vocab.sort((a, b) => a - b);
  let keys: Uint32Array = Uint32Array.from(vocab);
  const levels = (1 << o.idfBits) - 1;
  const idfMax = Math.fround(Math.log((1 + n) / (1 + Math.min(o.minDf, n))) + 1);
  // idf = ln((1 + n) / (1 + df)) + 1, stored in idfBits over [1, idfMax]; n-grams outside the vocabulary get idfMax
  // (or, once pruned, the RMS IDF of what the vocabulary leaves out).
  const quant = (d: number) => Math.round((Math.log((1 + n) / (1 + d)) / Math.max(idfMax - 1, 1e-9)) * levels);
  const idfCodes = (ks: Uint32Array) =>
    Uint8Array.from(ks, (key) => Math.max(0, Math.min(levels, quant(df.get(key) as number))));
  let idfUnknownQ = levels;
  let idfQ = idfCodes(keys);
  const fit = fitSvms(maps, y, K, idx, o, keys, idfQ, idfMax, idfUnknownQ, levels);
  const shift = 32 - o.keyBits;
  let { W } = fit;
  const { bias } = fit;
  if ((o.maxFeatures > 0 && keys.length > o.maxFeatures) || shift > 0) {
    // Pruned: the best `maxFeatures` n-grams keep their weights; the rest become unknown n-grams, which still count in
    // a text's norm with one IDF (below). Keys are stored as their top `keyBits` bits: of n-grams whose short keys
    // collide, the better ranked one is kept.
    const max = o.maxFeatures > 0 ? o.maxFeatures : keys.length;
    const seen = new Set<number>();
    const kept: number[] = [];
    for (const r of rankFeatures(fit, keys.length, K)) {
      if (kept.length >= max) break;
      const short = (keys[r] as number) >>> shift;
      if (seen.has(short)) continue;
      seen.add(short);
      kept.push(r);
    }
    const full = keys;
    kept.sort((a, b) => (full[a] as number) - (full[b] as number));
    keys = Uint32Array.from(kept, (r) => (full[r] as number) >>> shift);
    idfQ = Uint8Array.from(kept, (r) => idfQ[r] as number);
    const Wk = new Float64Array(kept.length * K);
    kept.forEach((r0, r) => {
      for (let k = 0; k < K; k++) Wk[r * K + k] = W[r0 * K + k] as number;
    });
    W = Wk;
    // The unknown IDF: root mean square of the IDF over the training docs' n-gram occurrences outside the kept
    // vocabulary (pruned and rare alike), so a text's norm stays close to what the SVMs were fitted on.
    const keptFull = new KeyIndex(Uint32Array.from(kept, (r) => full[r] as number));
    let s2 = 0;
    let c = 0;
    for (const i of idx) {
      for (const key of (maps[i] as SparseCounts).keys) {
        if (keptFull.get(key) >= 0) continue;
        const v = Math.log((1 + n) / (1 + (df.get(key) as number))) + 1;
        s2 += v * v;
        c++;
      }
    }
    if (c > 0)
      idfUnknownQ = Math.min(levels, Math.round(((Math.sqrt(s2 / c) - 1) / Math.max(idfMax - 1, 1e-9)) * levels));
  }
  const V = keys.length;

  // Square-root companding per label (weightBits, sign included): keeps small weights that linear codes round to 0.
  const L = (1 << (o.weightBits - 1)) - 1;
  const scales = new Float64Array(K);
  for (let i = 0; i < W.length; i++) {
    const k = i % K;
    scales[k] = Math.max(scales[k] as number, Math.abs(W[i] as number));
  }
  for (let k = 0; k < K; k++) scales[k] = Math.fround((scales[k] as number) || 1);
  const wq = new Int8Array(W.length);
  for (let i = 0; i < W.length; i++) {
    const x = (W[i] as number) / (scales[i % K] as number);
    wq[i] = Math.round(Math.sign(x) * Math.sqrt(Math.abs(x)) * L);
  }
  for (let k = 0; k < K; k++) bias[k] = Math.fround(bias[k] as number);
  return {
    K,
    keys,
    keyShift: shift,
    index: new KeyIndex(keys),
    idfQ,
    idfMax,
    idfUnknownQ,
    wq,
    scales,
    bias,
    wTable: weightTable(scales, K, L),
    idfTable: idfTableOf(idfMax, levels),
    rowCount: new Uint16Array(V),
  };
}

/** Minimizes the mean negative log-likelihood of softmax(T · scores) over T (golden-section search on log T). */
export function fitTemperature(scores: readonly ArrayLike<number>[], y: ArrayLike<number>): number {
  if (scores.length === 0) return 1;
  const nll = (logT: number) => {
    const T = Math.exp(logT);
    let s = 0;
    for (let i = 0; i < scores.length; i++) {
      const p = softmax(scores[i] as ArrayLike<number>, T)[y[i] as number] as number;
      s -= Math.log(Math.max(p, 1e-12));
    }
    return s / scores.length;
  };
  let lo = Math.log(0.05);
  let hi = Math.log(200);
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = nll(a);
  let fb = nll(b);
  for (let it = 0; it < 60; it++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = nll(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = nll(b);
    }
  }
  return Math.fround(Math.exp((lo + hi) / 2));
}

/**
 * Vector scaling: minimizes the mean negative log-likelihood of softmax(T · s + b) over T and one bias per label
 * (convex in T and b), by gradient descent with backtracking, started from the best plain temperature.
 */
export function fitAffine(
  scores: readonly ArrayLike<number>[],
  y: ArrayLike<number>,
  K: number,
): { temperature: number; bias: number[] } {
  const n = scores.length;
  let T = fitTemperature(scores, y);
  let b = new Float64Array(K);
  if (n === 0) return { temperature: T, bias: [...b] };
  const loss = (t: number, bb: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++)
      s -= Math.log(Math.max(softmax(scores[i] as ArrayLike<number>, t, bb)[y[i] as number] as number, 1e-12));
    return s / n;
  };
  let f = loss(T, b);
  let step = 1;
  for (let it = 0; it < 200; it++) {
    let gT = 0;
    const gb = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      const s = scores[i] as ArrayLike<number>;
      const p = softmax(s, T, b);
      for (let k = 0; k < K; k++) {
        const g = (p[k] as number) - (y[i] === k ? 1 : 0);
        gT += g * (s[k] as number);
        gb[k] = (gb[k] as number) + g;
      }
    }
    gT /= n;
    let norm2 = gT * gT;
    for (let k = 0; k < K; k++) {
      gb[k] = (gb[k] as number) / n;
      norm2 += (gb[k] as number) ** 2;
    }
    if (norm2 < 1e-12) break;
    let accepted = false;
    for (let tries = 0; tries < 30; tries++) {
      const nT = T - step * gT;
      const nb = Float64Array.from(b, (v, k) => v - step * (gb[k] as number));
      const mean = nb.reduce((a, v) => a + v, 0) / K;
      for (let k = 0; k < K; k++) nb[k] = (nb[k] as number) - mean;
      const nf = nT > 0 ? loss(nT, nb) : Infinity;
      if (nf <= f - 0.5 * step * norm2) {
        T = nT;
        b = nb;
        const improved = f - nf;
        f = nf;
        step *= 2;
        accepted = true;
        if (improved < 1e-9) it = 200;
        break;
      }
      step /= 2;
    }
    if (!accepted) break;
  }
  return { temperature: Math.fround(T), bias: Array.from(b, (v) => Math.fround(v)) };
}

/** z = M·s + b for a K × K row-major matrix, into `out`. */
function matrixScores(
  M: ArrayLike<number>,
  b: ArrayLike<number>,
  s: ArrayLike<number>,
  out: Float64Array,
): Float64Array {
  const K = out.length;
  for (let k = 0; k < K; k++) {
    let z = b[k] as number;
    for (let j = 0; j < K; j++) z += (M[k * K + j] as number) * (s[j] as number);
    out[k] = z;
  }
  return out;
}

/**
 * Matrix scaling with a fixed penalty: minimizes mean NLL of softmax(M·s + b) + λ/2 · ‖M − T₀·I‖² (convex), from
 * the affine fit (M = T₀·I, b₀), by gradient descent with backtracking.
 */
function fitMatrix(
  scores: readonly ArrayLike<number>[],
  y: ArrayLike<number>,
  K: number,
  start: { temperature: number; bias: number[] },
  lambda: number,
): { M: Float64Array; b: Float64Array } {
  const n = scores.length;
  const T0 = start.temperature;
  let M = new Float64Array(K * K);
  for (let k = 0; k < K; k++) M[k * K + k] = T0;
  let b = Float64Array.from(start.bias);
  if (n === 0) return { M, b };
  const z = new Float64Array(K);
  const loss = (m: Float64Array, bb: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const p = softmax(matrixScores(m, bb, scores[i] as ArrayLike<number>, z), 1);
      s -= Math.log(Math.max(p[y[i] as number] as number, 1e-12));
    }
    let pen = 0;
    for (let k = 0; k < K; k++) for (let j = 0; j < K; j++) pen += ((m[k * K + j] as number) - (k === j ? T0 : 0)) ** 2;
    return s / n + 0.5 * lambda * pen;
  };
  let f = loss(M, b);
  let step = 1;
  for (let it = 0; it < 400; it++) {
    const gM = new Float64Array(K * K);
    const gb = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      const s = scores[i] as ArrayLike<number>;
      const p = softmax(matrixScores(M, b, s, z), 1);
      for (let k = 0; k < K; k++) {
        const g = (p[k] as number) - (y[i] === k ? 1 : 0);
        gb[k] = (gb[k] as number) + g / n;
        for (let j = 0; j < K; j++) gM[k * K + j] = (gM[k * K + j] as number) + (g * (s[j] as number)) / n;
      }
    }
    let norm2 = 0;
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < K; j++) {
        const at = k * K + j;
        gM[at] = (gM[at] as number) + lambda * ((M[at] as number) - (k === j ? T0 : 0));
        norm2 += (gM[at] as number) ** 2;
      }
      norm2 += (gb[k] as number) ** 2;
    }
    if (norm2 < 1e-14) break;
    let accepted = false;
    for (let tries = 0; tries < 30; tries++) {
      const nM = Float64Array.from(M, (v, at) => v - step * (gM[at] as number));
      const nb = Float64Array.from(b, (v, k) => v - step * (gb[k] as number));
      const nf = loss(nM, nb);
      if (nf <= f - 0.5 * step * norm2) {
        const improved = f - nf;
        M = nM;
        b = nb;
        f = nf;
        step *= 2;
        accepted = true;
        if (improved < 1e-10) it = 400;
        break;
      }
      step /= 2;
    }
    if (!accepted) break;
  }
  return { M, b };
}

/** Penalties `fitMatrixCalibration` chooses from (on mean NLL; the scores are SVM margins of about ±2). */
const MATRIX_PENALTIES = [1e-2, 1e-3, 1e-4];

/**
 * Matrix scaling (`calibration: 'matrix'`): softmax(M·s + b) fitted on out-of-fold scores, L2-penalised towards the
 * affine fit T₀·I, with λ chosen by 3-fold cross-validated log-loss on the same scores (deterministic for a seed).
 */
export function fitMatrixCalibration(
  scores: readonly ArrayLike<number>[],
  y: ArrayLike<number>,
  K: number,
  seed: number,
): { temperature: number; bias: number[]; matrix: number[] } {
  const start = fitAffine(scores, y, K);
  const n = scores.length;
  let lambda = MATRIX_PENALTIES[0] as number;
  if (n >= 30) {
    const rnd = seededRandom(seed ^ 0xca1b);
    const fold = Int32Array.from({ length: n }, () => Math.floor(rnd() * 3));
    let best = Infinity;
    const z = new Float64Array(K);
    for (const l of MATRIX_PENALTIES) {
      let nll = 0;
      for (let f = 0; f < 3; f++) {
        const tr = [...fold.keys()].filter((i) => fold[i] !== f);
        const te = [...fold.keys()].filter((i) => fold[i] === f);
        const innerStart = fitAffine(
          tr.map((i) => scores[i] as ArrayLike<number>),
          tr.map((i) => y[i] as number),
          K,
        );
        const fit = fitMatrix(
          tr.map((i) => scores[i] as ArrayLike<number>),
          tr.map((i) => y[i] as number),
          K,
          innerStart,
          l,
        );
        for (const i of te) {
          const p = softmax(matrixScores(fit.M, fit.b, scores[i] as ArrayLike<number>, z), 1);
          nll -= Math.log(Math.max(p[y[i] as number] as number, 1e-12));
        }
      }
      if (nll < best) {
        best = nll;
        lambda = l;
      }
    }
  }
  const { M, b } = fitMatrix(scores, y, K, start, lambda);
  return {
    temperature: start.temperature,
    bias: Array.from(b, (v) => Math.fround(v)),
    matrix: Array.from(M, (v) => Math.fround(v)),
  };
}

/**
 * Stratified folds that keep identical texts (after whitespace removal) in one fold, so that a repeated message never
 * sits on both sides of a split. Deterministic for a seed.
 */
export function assignFolds(examples: readonly TrainExample[], folds: number, seed: number): Int32Array {
  const n = examples.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const rnd = seededRandom(seed ^ 0x5eed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  const perLabel = new Map<string, number>();
  const byText = new Map<string, number>();
  const out = new Int32Array(n);
  for (const i of order) {
    const ex = examples[i] as TrainExample;
    const key = ex.text.replace(/\s+/g, '');
    let f = byText.get(key);
    if (f === undefined) {
      const c = perLabel.get(ex.label) ?? 0;
      perLabel.set(ex.label, c + 1);
      f = c % folds;
      byText.set(key, f);
    }
    out[i] = f;
  }
  return out;
}

function checkExamples(examples: readonly TrainExample[]): string[] {
  if (examples.length === 0) throw new CityLoopError('TRAIN_NO_DATA', '没有训练样本 (no training examples)');
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) {
    throw new CityLoopError('TRAIN_TOO_FEW_CLASSES', '训练至少需要两个标签 (training needs at least two labels)', 400, {
      labels,
    });
  }
  return labels;
}

// ---------------------------------------------------------------------------------------------------------------------
// Training, artifact, inference

/**
 * Base85 text for the binary blob: 5 characters per 4 bytes (base64 takes 5⅓), big-endian digits, a final group of
 * m bytes as its first m + 1 characters (as in Ascii85). The alphabet is printable ASCII without the quotes, backquote,
 * backslash and dollar sign, so neither JSON nor the JavaScript esbuild emits for the JSON import escapes anything.
 */
export const BASE85 = Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i))
  .filter((c) => !'"\'`\\$'.includes(c))
  .slice(0, 85)
  .join('');
/** Digit of each byte value; −1 outside the alphabet. */
const BASE85_DIGIT = Int8Array.from({ length: 256 }, (_, c) => (c < 128 ? BASE85.indexOf(String.fromCharCode(c)) : -1));

export function toBase85(bytes: Uint8Array): string {
  const parts: string[] = [];
  const digits = new Array<string>(5);
  for (let i = 0; i < bytes.length; i += 4) {
    const m = Math.min(4, bytes.length - i);
    let v = 0;
    for (let j = 0; j < 4; j++) v = v * 256 + (j < m ? (bytes[i + j] as number) : 0);
    for (let j = 4; j >= 0; j--) {
      digits[j] = BASE85[v % 85] as string;
      v = Math.floor(v / 85);
    }
    parts.push(digits.slice(0, m + 1).join(''));
  }
  return parts.join('');
}

/** Inverse of `toBase85`; throws on a character outside the alphabet, a 1-character tail or a group over 2³². */
export function fromBase85(text: string): Uint8Array {
  const tail = text.length % 5;
  if (tail === 1) throw new Error('bad base85 length');
  // One native pass: ASCII only (as many UTF-8 bytes as characters), and then those bytes are the characters.
  const src = Buffer.from(text, 'utf8');
  if (src.length !== text.length) throw new Error('bad base85 character');
  const full = text.length - tail;
  const out = new Uint8Array((full / 5) * 4 + (tail > 0 ? tail - 1 : 0));
  const D = BASE85_DIGIT;
  let bad = 0;
  let o = 0;
  for (let i = 0; i < full; i += 5) {
    const d0 = D[src[i] as number] as number;
    const d1 = D[src[i + 1] as number] as number;
    const d2 = D[src[i + 2] as number] as number;
    const d3 = D[src[i + 3] as number] as number;
    const d4 = D[src[i + 4] as number] as number;
    bad |= d0 | d1 | d2 | d3 | d4;
    const v = (((d0 * 85 + d1) * 85 + d2) * 85 + d3) * 85 + d4;
    if (v > 0xffffffff) throw new Error('bad base85 group');
    out[o] = v >>> 24;
    out[o + 1] = v >>> 16;
    out[o + 2] = v >>> 8;
    out[o + 3] = v;
    o += 4;
  }
  if (tail > 0) {
    let v = 0;
    for (let j = 0; j < 5; j++) {
      const d = j < tail ? (D[src[full + j] as number] as number) : 84;
      bad |= d;
      v = v * 85 + d;
    }
    if (v > 0xffffffff) throw new Error('bad base85 group');
    for (let j = 0; j < tail - 1; j++) out[o++] = v >>> (24 - 8 * j);
  }
  if (bad < 0) throw new Error('bad base85 character');
  return out;
}

/** Trains a model on labelled examples; returns the artifact (serialize with `JSON.stringify`). */
export function trainModel(examples: readonly TrainExample[], options: TrainOptions = {}): ModelArtifact {
  const o: Required<TrainOptions> = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const int = (x: number, lo: number, hi: number) => Number.isInteger(x) && x >= lo && x <= hi;
  if (!int(o.weightBits, 2, 8) || !int(o.idfBits, 1, 8) || !int(o.keyBits, 16, 32) || !int(o.maxFeatures, 0, 2 ** 31)) {
    throw new CityLoopError(
      'TRAIN_BAD_OPTIONS',
      '训练参数超出范围 (weightBits 2–8, idfBits 1–8, keyBits 16–32, maxFeatures ≥ 0)',
      400,
      { weightBits: o.weightBits, idfBits: o.idfBits, keyBits: o.keyBits, maxFeatures: o.maxFeatures },
    );
  }
  const labels = checkExamples(examples);
  const K = labels.length;
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const y = Int32Array.from(examples, (e) => labelIndex.get(e.label) as number);
  const maps = examples.map((e) => extractFeatures(e.text, o.features));
  const all = Array.from({ length: examples.length }, (_, i) => i);

  // Calibration from out-of-fold scores (inner folds), so the probabilities are not those of a model on its own data.
  const oofScores: Float64Array[] = new Array(examples.length);
  const folds = o.calibrationFolds >= 2 ? Math.min(o.calibrationFolds, examples.length) : 0;
  if (folds >= 2) {
    const fold = assignFolds(examples, folds, o.seed);
    for (let f = 0; f < folds; f++) {
      const train = all.filter((i) => fold[i] !== f);
      const test = all.filter((i) => fold[i] === f);
      if (train.length === 0 || test.length === 0) continue;
      const core = fitCore(maps, y, K, train, o);
      for (const i of test) oofScores[i] = scoreCore(core, maps[i] as SparseCounts);
    }
  }
  const core = fitCore(maps, y, K, all, o);
  const calIdx = all.filter((i) => oofScores[i] !== undefined);
  const calScores =
    calIdx.length > 0
      ? calIdx.map((i) => oofScores[i] as Float64Array)
      : all.map((i) => scoreCore(core, maps[i] as SparseCounts));
  const calY = calIdx.length > 0 ? calIdx.map((i) => y[i] as number) : [...y];
  const calFolds = calIdx.length > 0 ? folds : 0;
  const calibration: ModelArtifact['calibration'] =
    o.calibration === 'matrix'
      ? { method: 'matrix', ...fitMatrixCalibration(calScores, calY, K, o.seed), folds: calFolds }
      : o.calibration === 'affine'
        ? { method: 'affine', ...fitAffine(calScores, calY, K), folds: calFolds }
        : { method: 'temperature', temperature: fitTemperature(calScores, calY), folds: calFolds };

  const keyRice = riceParameter(core.keys);
  const keyBytes = encodeKeysRice(core.keys, keyRice);
  const wBytes = new Uint8Array(core.wq.buffer, core.wq.byteOffset, core.wq.byteLength);
  const rowsPerLabel: Record<string, number> = {};
  for (const l of labels) rowsPerLabel[l] = 0;
  for (const e of examples) rowsPerLabel[e.label] = (rowsPerLabel[e.label] ?? 0) + 1;
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    labels,
    features: { ngrams: [...o.features.ngrams], maxChars: o.features.maxChars },
    vocabSize: core.keys.length,
    keyBits: o.keyBits,
    idfBits: o.idfBits,
    idfMax: core.idfMax,
    idfUnknown: core.idfUnknownQ,
    weightBits: o.weightBits,
    keyRice,
    data: toBase85(compress(concatBytes([keyBytes, core.idfQ, wBytes]))),
    scales: [...core.scales],
    bias: [...core.bias],
    calibration,
    training: {
      rows: examples.length,
      rowsPerLabel,
      C: o.C,
      maxEpochs: o.maxEpochs,
      tolerance: o.tolerance,
      minDf: o.minDf,
      seed: o.seed,
      ...(o.nbAlpha > 0 ? { nbAlpha: o.nbAlpha } : {}),
      ...(o.classBalance > 0 ? { classBalance: o.classBalance } : {}),
      ...(o.maxFeatures > 0 ? { maxFeatures: o.maxFeatures } : {}),
    },
  };
}

/** Brotli at its densest (quality 11; deterministic for the pinned Node's brotli): about 10 % below DEFLATE -9 here. */
function compress(bytes: Uint8Array): Uint8Array {
  return brotliCompressSync(bytes, {
    params: {
      [zlibConstants.BROTLI_PARAM_QUALITY]: 11,
      [zlibConstants.BROTLI_PARAM_LGWIN]: 22,
      [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface TextModel {
  readonly labels: readonly string[];
  readonly artifact: ModelArtifact;
  /** Calibrated probabilities, one per label (same order as `labels`). */
  probabilities(text: string): Float64Array;
  /**
   * `probabilities(text)` given `folded = text.normalize('NFKC').toLowerCase()` (e.g. `nfkcLower` of core/text/fold.ts,
   * which the keyword matcher computed already): the same numbers without folding the text again.
   */
  probabilitiesOfFolded?(folded: string): Float64Array;
  /** Best label, its probability and the next `k - 1` labels. */
  predict(text: string, k?: number): Prediction;
}

function invalid(message: string): CityLoopError {
  return new CityLoopError('MODEL_INVALID', `模型文件无效：${message} (invalid model artifact: ${message})`);
}

/** Loads an artifact (object or JSON text) for inference; throws `MODEL_INVALID` on anything malformed. */
export function loadModel(input: ModelArtifact | string): TextModel {
  let a: ModelArtifact;
  try {
    a = typeof input === 'string' ? (JSON.parse(input) as ModelArtifact) : input;
  } catch {
    throw invalid('not JSON');
  }
  if (!a || typeof a !== 'object' || a.format !== MODEL_FORMAT) throw invalid(`format is not ${MODEL_FORMAT}`);
  if (!READABLE_VERSIONS.includes(a.version)) throw invalid(`unsupported version ${String(a.version)}`);
  if (a.version < 3 && a.calibration?.method === 'matrix') throw invalid('calibration matrix');
  const K = Array.isArray(a.labels) ? a.labels.length : 0;
  if (K < 2 || !Array.isArray(a.scales) || a.scales.length !== K || !Array.isArray(a.bias) || a.bias.length !== K) {
    throw invalid('labels, scales and bias must agree');
  }
  if (
    !a.features ||
    !Array.isArray(a.features.ngrams) ||
    a.features.ngrams.length === 0 ||
    !a.features.ngrams.every((n) => Number.isInteger(n) && n >= 1 && n <= 8) ||
    !(a.features.maxChars > 0)
  ) {
    throw invalid('bad feature spec');
  }
  const V = a.vocabSize;
  if (!Number.isInteger(V) || V < 0) throw invalid('vocabSize');
  const bits = (x: unknown, lo: number, hi: number) =>
    Number.isInteger(x) && (x as number) >= lo && (x as number) <= hi;
  if (!bits(a.idfBits, 1, 8) || !bits(a.weightBits, 2, 8) || !bits(a.keyBits, 16, 32) || !bits(a.keyRice, 0, 31)) {
    throw invalid('bit widths');
  }
  const idfLevels = 2 ** a.idfBits - 1;
  const weightLevels = 2 ** (a.weightBits - 1) - 1;
  if (!bits(a.idfUnknown, 0, idfLevels) || !(a.idfMax >= 1)) throw invalid('idf fields');
  let data: Uint8Array;
  let keys: Uint32Array;
  let keyBytes: number;
  try {
    data = new Uint8Array(brotliDecompressSync(fromBase85(a.data)));
    ({ keys, length: keyBytes } = decodeKeysRice(data, V, a.keyRice));
  } catch {
    throw invalid('key table');
  }
  if (data.length !== keyBytes + V + V * K) throw invalid('table sizes');
  const idfQ = data.subarray(keyBytes, keyBytes + V);
  const wq = new Int8Array(data.buffer, data.byteOffset + keyBytes + V, V * K);
  // Codes are not range-checked one by one (that loop cost 3–7 ms of a cold start): any code byte indexes a 256-entry
  // table, so a code beyond the declared width gives an out-of-scale weight or IDF, never a read out of bounds.
  const scales = Float64Array.from(a.scales);
  if (V > 0 && (keys[V - 1] as number) >= 2 ** a.keyBits) throw invalid('key table');
  const core: Core = {
    K,
    keys,
    keyShift: 32 - a.keyBits,
    index: new SortedKeyIndex(keys, a.keyBits),
    idfQ,
    idfMax: a.idfMax,
    idfUnknownQ: a.idfUnknown,
    wq,
    scales,
    bias: Float64Array.from(a.bias),
    wTable: weightTable(scales, K, weightLevels),
    idfTable: idfTableOf(a.idfMax, idfLevels),
    rowCount: new Uint16Array(V),
    scores: new Float64Array(K),
  };
  if (K <= UNROLL) {
    core.wqPadded = new Int8Array(V * K + UNROLL);
    core.wqPadded.set(wq);
  }
  const T = a.calibration?.temperature ?? 1;
  const shift = a.calibration?.bias;
  if (shift !== undefined && (!Array.isArray(shift) || shift.length !== K)) throw invalid('calibration bias');
  const matrix = a.calibration?.method === 'matrix' ? a.calibration.matrix : undefined;
  if (a.calibration?.method === 'matrix') {
    if (!Array.isArray(matrix) || matrix.length !== K * K || shift === undefined) throw invalid('calibration matrix');
    if (!matrix.every(Number.isFinite)) throw invalid('calibration matrix');
  }
  const M = matrix ? Float64Array.from(matrix) : undefined;
  const z = new Float64Array(K);
  const calibrated = (s: Float64Array) =>
    M && shift ? softmax(matrixScores(M, shift, s, z), 1) : softmax(s, T, shift);
  const labels = [...a.labels];
  const features: FeatureSpec = { ngrams: [...a.features.ngrams], maxChars: a.features.maxChars };
  if (features.ngrams.includes(1)) core.unigramRow = unigramRows(core);
  const probabilities = (text: string) => calibrated(scoreText(core, text, features));
  return {
    labels,
    artifact: a,
    probabilities,
    probabilitiesOfFolded: (folded: string) => calibrated(scoreText(core, folded, features, true)),
    predict(text: string, k = 3): Prediction {
      const p = probabilities(text);
      const order = labels.map((_, i) => i).sort((x, y) => (p[y] as number) - (p[x] as number) || x - y);
      const top = order
        .slice(0, Math.max(1, k))
        .map((i) => ({ label: labels[i] as string, confidence: p[i] as number }));
      const best = top[0] as LabelScore;
      return { label: best.label, confidence: best.confidence, alternatives: top.slice(1) };
    },
  };
}

/** The artifact as JSON text (stable key order, no whitespace: byte-identical for identical training). */
export function serializeModel(a: ModelArtifact): string {
  return `${JSON.stringify(a)}\n`;
}

// ---------------------------------------------------------------------------------------------------------------------
// Cross-validation

export interface OutOfFold {
  /** Per example: the true label, the predicted label, its calibrated probability, and the fold it was tested in. */
  rows: { label: string; predicted: string; confidence: number; fold: number }[];
  labels: string[];
  /** Milliseconds spent training each fold's model (incl. its inner calibration). */
  trainMs: number[];
}

/** k-fold cross-validation: each fold's model (calibration included) is trained without that fold. */
export function crossValidate(examples: readonly TrainExample[], folds: number, options: TrainOptions = {}): OutOfFold {
  const o: Required<TrainOptions> = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const labels = checkExamples(examples);
  if (!(folds >= 2)) throw new CityLoopError('EVAL_BAD_FOLDS', '折数至少为 2 (need at least 2 folds)');
  const fold = assignFolds(examples, folds, o.seed + 1);
  const rows: OutOfFold['rows'] = new Array(examples.length);
  const trainMs: number[] = [];
  for (let f = 0; f < folds; f++) {
    const train = examples.filter((_, i) => fold[i] !== f);
    const testIdx = examples.map((_, i) => i).filter((i) => fold[i] === f);
    if (testIdx.length === 0) continue;
    const t0 = performance.now();
    const model = loadModel(trainModel(train, o));
    trainMs.push(performance.now() - t0);
    for (const i of testIdx) {
      const ex = examples[i] as TrainExample;
      const p = model.predict(ex.text, 1);
      rows[i] = { label: ex.label, predicted: p.label, confidence: p.confidence, fold: f };
    }
  }
  return { rows, labels, trainMs };
}
