/**
 * `cityloop train --data file.csv [--data more.csv …] [--text-column text] [--label-column label] --out model.json
 *   [--C 1] [--nb-alpha 1] [--class-balance 0.25] [--calibration affine|matrix|temperature] [--min-df 2] [--seed N] [--max-features 40000] [--weight-bits 7]
 *   [--idf-bits 6] [--key-bits K]`
 * Trains the request classifier from labelled UTF-8 CSVs (read in the order given, e.g. the city's history and the
 * supervisors' corrections from `cityloop corrections`) and writes one JSON artifact. The defaults are those of the
 * shipped model (`DEFAULT_TRAIN_OPTIONS`): `--max-features 0 --weight-bits 8 --idf-bits 8 --key-bits 32` keeps every
 * n-gram at full precision (a larger artifact, the same accuracy within noise).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { csvError, readLabelledCsv } from '#core/classify/csv.ts';
import { serializeModel, type TrainOptions, trainModel } from '#core/classify/model.ts';
import { isCityLoopError } from '#core/errors.ts';

export const summary = '训练分类模型 train the request classifier from a labelled CSV (--data, --out)';

export const USAGE =
  '用法 usage: cityloop train --data file.csv [--data more.csv] [--text-column text] [--label-column label] --out model.json\n' +
  '  [--C 1] [--nb-alpha 1] [--class-balance 0.25] [--calibration matrix|affine|temperature] [--min-df 2] [--seed N]\n' +
  '  [--max-features 30000] [--weight-bits 7] [--idf-bits 6] [--key-bits 26] [--calibration-folds 3]';

export interface Flags {
  /** The last value of each flag. */
  values: Map<string, string>;
  /** Every value of each flag, in order (`--data a.csv --data b.csv`). */
  all: Map<string, string[]>;
  bools: Set<string>;
}

/** `--name value`, `--name=value` and bare `--flag` (when listed in `booleans`). */
export function parseFlags(args: readonly string[], booleans: readonly string[] = []): Flags {
  const values = new Map<string, string>();
  const all = new Map<string, string[]>();
  const bools = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (booleans.includes(name)) {
      bools.add(name);
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values.set(name, value);
    all.set(name, [...(all.get(name) ?? []), value]);
  }
  return { values, all, bools };
}

/** Training options shared by `train` and `eval`. */
export function trainOptionsFrom(f: Flags): TrainOptions {
  const o: TrainOptions = {};
  const num = (name: string) => {
    const v = f.values.get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number`);
    return n;
  };
  const C = num('C');
  if (C !== undefined) o.C = C;
  const seed = num('seed');
  if (seed !== undefined) o.seed = seed;
  const cal = num('calibration-folds');
  if (cal !== undefined) o.calibrationFolds = cal;
  const minDf = num('min-df');
  if (minDf !== undefined) o.minDf = minDf;
  const nbAlpha = num('nb-alpha');
  if (nbAlpha !== undefined) {
    if (nbAlpha < 0) throw new Error('--nb-alpha must be ≥ 0 (0 turns the Naive Bayes scaling off)');
    o.nbAlpha = nbAlpha;
  }
  const calibration = f.values.get('calibration');
  if (calibration !== undefined) {
    if (calibration !== 'temperature' && calibration !== 'affine' && calibration !== 'matrix') {
      throw new Error('--calibration must be temperature, affine or matrix');
    }
    o.calibration = calibration;
  }
  const balance = num('class-balance');
  if (balance !== undefined) {
    if (balance < 0 || balance > 2) throw new Error('--class-balance must be from 0 (off) to 2');
    o.classBalance = balance;
  }
  const int = (name: string, lo: number, hi: number) => {
    const v = num(name);
    if (v !== undefined && !(Number.isInteger(v) && v >= lo && v <= hi)) {
      throw new Error(`--${name} must be an integer from ${lo} to ${hi}`);
    }
    return v;
  };
  const maxFeatures = int('max-features', 0, 2 ** 31);
  if (maxFeatures !== undefined) o.maxFeatures = maxFeatures;
  const weightBits = int('weight-bits', 2, 8);
  if (weightBits !== undefined) o.weightBits = weightBits;
  const idfBits = int('idf-bits', 1, 8);
  if (idfBits !== undefined) o.idfBits = idfBits;
  const keyBits = int('key-bits', 16, 32);
  if (keyBits !== undefined) o.keyBits = keyBits;
  return o;
}

export function fail(e: unknown): number {
  if (isCityLoopError(e)) {
    process.stderr.write(`错误 error ${e.code}: ${e.message}\n`);
    return 1;
  }
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') {
    process.stderr.write(`错误 error FILE_NOT_FOUND: ${(e as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`错误 error: ${(e as Error)?.message ?? String(e)}\n`);
  return 2;
}

export async function run(args: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(args);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const data = flags.all.get('data') ?? [];
  const out = flags.values.get('out');
  if (data.length === 0 || !out) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const rows = data.flatMap((file, i) =>
      readLabelledCsv(readFileSync(file), {
        textColumn: flags.values.get('text-column'),
        labelColumn: flags.values.get('label-column'),
        // Together they must name two labels at least; a file of corrections alone may hold one.
        minClasses: i === 0 && data.length === 1 ? 2 : 1,
      }),
    );
    if (new Set(rows.map((r) => r.label)).size < 2) {
      throw csvError('CSV_TOO_FEW_CLASSES', '至少需要 2 个不同的标签 (need at least 2 labels)', {
        classes: new Set(rows.map((r) => r.label)).size,
      });
    }
    const t0 = performance.now();
    const artifact = trainModel(rows, trainOptionsFrom(flags));
    const ms = performance.now() - t0;
    const json = serializeModel(artifact);
    writeFileSync(out, json);
    process.stderr.write(
      `已训练 trained on ${rows.length} rows, ${artifact.labels.length} labels in ${(ms / 1000).toFixed(1)} s; ` +
        `vocabulary ${artifact.vocabSize}, temperature ${artifact.calibration.temperature.toFixed(3)}; ` +
        `wrote ${out} (${(json.length / 1024).toFixed(0)} KiB)\n`,
    );
    return 0;
  } catch (e) {
    return fail(e);
  }
}
