/**
 * Evaluation figures for a classifier: macro-F1, per-class precision/recall/F1, the confusion matrix, the precision
 * when only the most confident share of requests is auto-dispatched (coverage), and calibration error.
 */

export interface ScoredRow {
  label: string;
  predicted: string;
  confidence: number;
}

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface CoveragePoint {
  /** Share of requests auto-dispatched (the most confident first). */
  coverage: number;
  precision: number;
  /** The confidence of the last request let through: a threshold that gives this coverage. */
  threshold: number;
}

export interface EvalReport {
  n: number;
  accuracy: number;
  macroF1: number;
  perClass: ClassMetrics[];
  labels: string[];
  /** confusion[i][j] = examples of true label i predicted as label j. */
  confusion: number[][];
  coverage: CoveragePoint[];
  /** Expected calibration error over 10 equal-width confidence bins. */
  ece: number;
}

export function evaluate(
  rows: readonly ScoredRow[],
  coverages: readonly number[] = [0.5, 0.7, 0.8, 0.9, 1],
): EvalReport {
  const labels = [...new Set(rows.flatMap((r) => [r.label, r.predicted]))].sort();
  const li = new Map(labels.map((l, i) => [l, i]));
  const K = labels.length;
  const confusion = labels.map(() => new Array<number>(K).fill(0));
  let correct = 0;
  for (const r of rows) {
    const a = li.get(r.label) as number;
    const b = li.get(r.predicted) as number;
    (confusion[a] as number[])[b] = ((confusion[a] as number[])[b] as number) + 1;
    if (a === b) correct++;
  }
  const perClass: ClassMetrics[] = labels.map((label, k) => {
    const tp = (confusion[k] as number[])[k] as number;
    const support = (confusion[k] as number[]).reduce((s, v) => s + v, 0);
    const predicted = confusion.reduce((s, row) => s + (row[k] as number), 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  const withSupport = perClass.filter((c) => c.support > 0);
  const macroF1 = withSupport.reduce((s, c) => s + c.f1, 0) / Math.max(1, withSupport.length);
  return {
    n: rows.length,
    accuracy: rows.length > 0 ? correct / rows.length : 0,
    macroF1,
    perClass,
    labels,
    confusion,
    coverage: precisionAtCoverage(rows, coverages),
    ece: expectedCalibrationError(rows),
  };
}

/** Sorts by confidence (ties keep input order) and reports the precision of the top share at each coverage. */
export function precisionAtCoverage(rows: readonly ScoredRow[], coverages: readonly number[]): CoveragePoint[] {
  const order = rows
    .map((_, i) => i)
    .sort((a, b) => (rows[b] as ScoredRow).confidence - (rows[a] as ScoredRow).confidence || a - b);
  return coverages.map((coverage) => {
    const take = Math.max(1, Math.round(coverage * rows.length));
    let ok = 0;
    for (let j = 0; j < take && j < order.length; j++) {
      const r = rows[order[j] as number] as ScoredRow;
      if (r.label === r.predicted) ok++;
    }
    const last = rows[order[Math.min(take, order.length) - 1] as number];
    return {
      coverage,
      precision: order.length > 0 ? ok / Math.min(take, order.length) : 0,
      threshold: last?.confidence ?? 1,
    };
  });
}

export function expectedCalibrationError(rows: readonly ScoredRow[], bins = 10): number {
  const count = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  const hit = new Array<number>(bins).fill(0);
  for (const r of rows) {
    const b = Math.min(bins - 1, Math.floor(r.confidence * bins));
    count[b] = (count[b] as number) + 1;
    conf[b] = (conf[b] as number) + r.confidence;
    if (r.label === r.predicted) hit[b] = (hit[b] as number) + 1;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) {
    const c = count[b] as number;
    if (c > 0) e += (c / rows.length) * Math.abs((hit[b] as number) / c - (conf[b] as number) / c);
  }
  return e;
}

/** A plain-text report (the `cityloop eval` output). */
export function formatReport(r: EvalReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const out: string[] = [];
  out.push(
    `样本 n=${r.n}  accuracy=${r.accuracy.toFixed(4)}  macro-F1=${r.macroF1.toFixed(4)}  ECE=${r.ece.toFixed(4)}`,
    '',
  );
  out.push('label\tprecision\trecall\tF1\tsupport');
  for (const c of r.perClass)
    out.push(`${c.label}\t${c.precision.toFixed(4)}\t${c.recall.toFixed(4)}\t${c.f1.toFixed(4)}\t${c.support}`);
  out.push('', '混淆矩阵 confusion (rows = true, columns = predicted)');
  out.push(['', ...r.labels.map((_, i) => `[${i}]`)].join('\t'));
  r.confusion.forEach((row, i) => {
    out.push([`[${i}] ${r.labels[i]}`, ...row.map(String)].join('\t'));
  });
  out.push('', '自动派单覆盖率下的准确率 precision at auto-dispatch coverage');
  out.push('coverage\tprecision\tthreshold');
  for (const c of r.coverage) out.push(`${pct(c.coverage)}\t${c.precision.toFixed(4)}\t${c.threshold.toFixed(4)}`);
  return out.join('\n');
}
