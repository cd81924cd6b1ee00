/**
 * The request classifier (issue 9): 5-fold cross-validation on the shared training data (each fold's model, its
 * calibration included, trained without the fold), training time, artifact load time and per-request inference time.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createClassifier } from '#core/classify/classifier.ts';
import { readLabelledCsv } from '#core/classify/csv.ts';
import { defaultTaxonomy } from '#core/classify/default.ts';
import { evaluate } from '#core/classify/metrics.ts';
import { crossValidate, loadModel, serializeModel, type TrainExample, trainModel } from '#core/classify/model.ts';
import { median, quantile } from './measure.ts';
import type { BenchSuite, BenchTable } from './types.ts';

const DATA = fileURLToPath(new URL('../../shared/data/classify/train.csv', import.meta.url));
const SHIPPED = fileURLToPath(new URL('../config/model/classifier.json', import.meta.url));

const f4 = (x: number) => x.toFixed(4);
const ms = (x: number) => `${x.toFixed(x < 1 ? 4 : 1)} ms`;

const suite: BenchSuite = async ({ quick }) => {
  const all = readLabelledCsv(readFileSync(DATA));
  // --quick: every third row, 3 folds: a smoke run, not the figures of record.
  const rows: TrainExample[] = quick ? all.filter((_, i) => i % 3 === 0) : all;
  const folds = quick ? 3 : 5;

  const cv = crossValidate(rows, folds);
  const report = evaluate(cv.rows, [0.5, 0.7, 0.8, 0.9, 1]);
  const at = (c: number) => report.coverage.find((p) => p.coverage === c) as { precision: number; threshold: number };

  let floor: ReturnType<typeof evaluate> | undefined;
  // The floor doubles the suite's time (about 2.5 min here), which would push `npm run bench` past its 5-minute budget:
  // it runs with CITYLOOP_BENCH_FLOOR=1 (measured 2026-11-28: macro-F1 0.8869, precision@80% 0.9574).
  if (!quick && process.env.CITYLOOP_BENCH_FLOOR === '1') {
    // The floor as the issue states it: TF-IDF character 1–3-grams, linear SVM (C = 1), all n-grams, plain temperature.
    floor = evaluate(
      crossValidate(rows, folds, {
        features: { ngrams: [1, 2, 3], maxChars: 100_000 },
        minDf: 1,
        C: 1,
        calibration: 'temperature',
        nbAlpha: 0,
      }).rows,
    );
  }

  const t0 = performance.now();
  const artifact = trainModel(rows);
  const trainMs = performance.now() - t0;
  const json = serializeModel(artifact);

  const shipped = readFileSync(SHIPPED, 'utf8');
  const loads: number[] = [];
  for (let i = 0; i < 7; i++) {
    const s = performance.now();
    loadModel(JSON.parse(shipped));
    loads.push(performance.now() - s);
  }
  const model = loadModel(shipped);
  const texts = all.map((r) => r.text);
  const classifier = createClassifier({ taxonomy: defaultTaxonomy, model });
  for (const t of texts.slice(0, 300)) classifier.classify({ text: t });
  // Two clocks: CPU time of this process (what a request costs, immune to other work on the shared cores) and wall time
  // per batch of 100 (median over batches, so a preempted batch does not stand for the rest).
  const cpuMs = () => process.cpuUsage().user / 1000;
  const timeAll = (fn: (t: string) => unknown) => {
    const batches: number[] = [];
    const c0 = cpuMs();
    for (let b = 0; b < texts.length; b += 100) {
      const s = performance.now();
      for (const t of texts.slice(b, b + 100)) fn(t);
      batches.push((performance.now() - s) / Math.min(100, texts.length - b));
    }
    return { cpu: (cpuMs() - c0) / texts.length, wallMedian: median(batches), wallP90: quantile(batches, 0.9) };
  };
  const inf = timeAll((t) => model.predict(t));
  const infFull = timeAll((t) => classifier.classify({ text: t }));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  const main: BenchTable = {
    title: `分类模型 classifier: ${folds}-fold cross-validation on train.csv (${rows.length} rows${quick ? ', --quick subsample' : ''})`,
    columns: [
      'figure',
      'measured',
      'target',
      floor ? 'floor (char 1–3 TF-IDF SVM, measured)' : 'floor (run with CITYLOOP_BENCH_FLOOR=1)',
    ],
    rows: [
      ['macro-F1', f4(report.macroF1), '≥ 0.92', floor ? f4(floor.macroF1) : '0.8869 (2026-11-28)'],
      ['accuracy', f4(report.accuracy), '', floor ? f4(floor.accuracy) : ''],
      ['precision @ 50% coverage', f4(at(0.5).precision), '', floor ? f4(floor.coverage[0]?.precision ?? 0) : ''],
      ['precision @ 70% coverage', f4(at(0.7).precision), '', floor ? f4(floor.coverage[1]?.precision ?? 0) : ''],
      ['precision @ 80% coverage', f4(at(0.8).precision), '≥ 0.98', floor ? f4(floor.coverage[2]?.precision ?? 0) : ''],
      ['precision @ 90% coverage', f4(at(0.9).precision), '', floor ? f4(floor.coverage[3]?.precision ?? 0) : ''],
      ['confidence threshold for 80% coverage', f4(at(0.8).threshold), '', ''],
      ['expected calibration error (10 bins)', f4(report.ece), 'small', floor ? f4(floor.ece) : ''],
      ['train time, one model on all rows (incl. 3-fold calibration)', ms(trainMs), '≤ 60000 ms', ''],
      ['train time per CV fold (mean)', ms(mean(cv.trainMs)), '', ''],
      [
        'artifact size (shipped config/model/classifier.json)',
        `${(shipped.length / 1024).toFixed(0)} KiB`,
        '< 3 MiB',
        '',
      ],
      [
        'artifact size (this run)',
        `${(json.length / 1024).toFixed(0)} KiB (vocabulary ${artifact.vocabSize}, keys ${artifact.keyBits} bits, ` +
          `IDF ${artifact.idfBits} bits, weights ${artifact.weightBits} bits, Brotli, Base85)`,
        '',
        '',
      ],
      ['load time (JSON.parse + loadModel, median of 7)', ms(median(loads)), '≪ 100 ms', ''],
      ['inference per request, model: CPU time (mean)', ms(inf.cpu), '≤ 0.2 ms', ''],
      [
        'inference per request, model: wall, batches of 100 (median / p90)',
        `${ms(inf.wallMedian)} / ${ms(inf.wallP90)}`,
        '',
        '',
      ],
      ['inference per request, model + keyword rules: CPU time (mean)', ms(infFull.cpu), '', ''],
      [
        'inference per request, model + keyword rules: wall (median / p90)',
        `${ms(infFull.wallMedian)} / ${ms(infFull.wallP90)}`,
        '',
        '',
      ],
    ],
    figures: [
      {
        name: `classifier: ${folds}-fold CV macro-F1`,
        value: f4(report.macroF1),
        target: '≥ 0.92',
        met: report.macroF1 >= 0.92,
      },
      {
        name: 'classifier: precision at 80% auto-dispatch coverage',
        value: f4(at(0.8).precision),
        target: '≥ 0.98',
        met: at(0.8).precision >= 0.98,
      },
      {
        name: `classifier: training time (${rows.length} rows)`,
        value: ms(trainMs),
        target: '≤ 60 s',
        met: trainMs <= 60_000,
      },
      { name: 'classifier: model load time', value: ms(median(loads)), target: '< 100 ms', met: median(loads) < 100 },
      {
        name: 'classifier: inference per request (CPU time, mean)',
        value: ms(inf.cpu),
        target: '≤ 0.2 ms',
        met: inf.cpu <= 0.2,
      },
      {
        name: 'classifier: artifact size',
        value: `${(shipped.length / 1024).toFixed(0)} KiB`,
        target: '< 3 MiB',
        met: shipped.length < 3 * 1024 * 1024,
      },
    ],
    notes: [
      'Folds are stratified by label and keep identical texts together (108 exact duplicates in the data), seed fixed.',
      'Features: character 1–2-grams (FNV-1a hashes, df ≥ 2), sublinear TF-IDF, L2; NBSVM: each one-vs-rest L2-loss',
      "linear SVM (dual coordinate descent, C = 1) sees its features scaled by its class's Naive Bayes log-count ratio",
      '(smoothing 1; folded into the stored weights); softmax(T·s + b) fitted on inner 3-fold out-of-fold scores.',
      'Artifact (issue 12): the n-grams that move the decision most keep the full fit’s weights (max − min over labels ×',
      'TF-IDF mass), pruned inside every CV fold; the rest count as unknown (one RMS IDF). Before: all 121,015 n-grams,',
      '8-bit codes, varint keys, base64 in JSON: 1675 KiB, macro-F1 0.9127, precision@80% 0.9692 (same folds).',
      'Inference: one pass, no string per n-gram (code units → incremental FNV-1a → open-addressing key index, direct table',
      'for 1-grams), weight codes read in place through 256-entry tables. Before NBSVM (plain SVM, C = 3): macro-F1 0.9073.',
      `Inference timed on the ${texts.length} training texts (mean ${Math.round(mean(texts.map((t) => t.length)))} characters), one core, machine shared with others.`,
    ],
  };
  const perClass: BenchTable = {
    title: 'classifier: per-class precision / recall / F1 (cross-validation)',
    columns: ['label', 'precision', 'recall', 'F1', 'support'],
    rows: report.perClass.map((c) => [c.label, f4(c.precision), f4(c.recall), f4(c.f1), c.support]),
  };
  return [main, perClass];
};

export default suite;
