/**
 * `cityloop eval --data file.csv [--folds 5] [--text-column text] [--label-column label] [--json]`: k-fold
 * cross-validation of the classifier (each fold's model, calibration included, is trained without that fold):
 * macro-F1, per-class precision/recall/F1, the confusion matrix, and the precision at 50/70/80/90% auto-dispatch coverage.
 */
import { readFileSync } from 'node:fs';
import { readLabelledCsv } from '#core/classify/csv.ts';
import { evaluate, formatReport } from '#core/classify/metrics.ts';
import { crossValidate } from '#core/classify/model.ts';
import { type Flags, fail, parseFlags, trainOptionsFrom } from './train.ts';

export const summary = '交叉验证 cross-validate the classifier on a labelled CSV (--data, --folds 5)';

export const USAGE =
  'usage: cityloop eval --data file.csv [--folds 5] [--text-column text] [--label-column label] [--C 1] [--nb-alpha 1] [--class-balance 0.25] [--calibration affine|matrix|temperature] [--max-features N] [--weight-bits N] [--idf-bits N] [--key-bits N] [--json]\n';

export async function run(args: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(args, ['json']);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const data = flags.values.get('data');
  const folds = Number(flags.values.get('folds') ?? 5);
  if (!data || !Number.isInteger(folds) || folds < 2) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    const rows = readLabelledCsv(readFileSync(data), {
      textColumn: flags.values.get('text-column'),
      labelColumn: flags.values.get('label-column'),
      minClasses: 2,
    });
    const cv = crossValidate(rows, folds, trainOptionsFrom(flags));
    const report = evaluate(cv.rows, [0.5, 0.7, 0.8, 0.9, 1]);
    const trainSeconds = cv.trainMs.map((ms) => Math.round(ms) / 1000);
    if (flags.bools.has('json')) {
      process.stdout.write(`${JSON.stringify({ folds, trainSeconds, ...report })}\n`);
    } else {
      process.stdout.write(`${folds}-fold cross-validation, train time per fold (s): ${trainSeconds.join(', ')}\n`);
      process.stdout.write(`${formatReport(report)}\n`);
    }
    return 0;
  } catch (e) {
    return fail(e);
  }
}
