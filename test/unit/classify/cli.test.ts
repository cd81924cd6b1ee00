import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { toCsvLine } from '#core/classify/classifier.ts';
import { loadModel } from '#core/classify/model.ts';
import { classifyLine, run as classifyRun } from '../../../cli/commands/classify.ts';
import { run as evalRun } from '../../../cli/commands/eval.ts';
import { run as trainRun } from '../../../cli/commands/train.ts';
import { syntheticExamples } from './fixtures.ts';

let dir: string;
let stderr: MockInstance;
let stdout: MockInstance;
const err = () => stderr.mock.calls.map((c) => String(c[0])).join('');
const out = () => stdout.mock.calls.map((c) => String(c[0])).join('');

const csv = (rows: { text: string; label: string }[], header = 'text,label') =>
  `${header}\n${rows.map(toCsvLine).join('\n')}\n`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cityloop-clf-'));
  stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('Command: train', () => {
  it('should train from a CSV with quoted multi-line fields and write a loadable model', async () => {
    // Prepare
    const rows = syntheticExamples().map((r, i) => (i % 7 === 0 ? { ...r, text: `${r.text}\n"第二行", 补充` } : r));
    writeFileSync(join(dir, 'd.csv'), csv(rows));

    // Act
    const code = await trainRun(['--data', join(dir, 'd.csv'), '--out', join(dir, 'm.json')]);

    // Assess
    expect(code).toBe(0);
    const model = loadModel(readFileSync(join(dir, 'm.json'), 'utf8'));
    expect(model.labels).toEqual(['交通运输', '教育文体', '环境保护']);
    expect(err()).toMatch(/trained on 60 rows/);
  });

  it('should train on several files in order, as on their concatenation (history + corrections)', async () => {
    // Prepare: a corrections export (extra columns, one label) after the history.
    const rows = syntheticExamples();
    const history = rows.slice(0, 50);
    const corrections = rows.slice(50).map((r) => ({ ...r, label: rows[50]?.label as string }));
    writeFileSync(join(dir, 'h.csv'), csv(history));
    writeFileSync(
      join(dir, 'c.csv'),
      `text,label,category,corrected\n${corrections.map((r) => `${toCsvLine(r)},SZ-07,true`).join('\n')}\n`,
    );
    writeFileSync(join(dir, 'all.csv'), csv([...history, ...corrections]));
    // Act
    const two = await trainRun([
      '--data',
      join(dir, 'h.csv'),
      '--data',
      join(dir, 'c.csv'),
      '--out',
      join(dir, 'a.json'),
    ]);
    const one = await trainRun(['--data', join(dir, 'all.csv'), '--out', join(dir, 'b.json')]);
    const single = await trainRun(['--data', join(dir, 'c.csv'), '--out', join(dir, 'x.json')]);
    // Assess
    expect([two, one]).toEqual([0, 0]);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe(readFileSync(join(dir, 'b.json'), 'utf8'));
    expect(single).toBe(1);
    expect(err()).toContain('CSV_TOO_FEW_CLASSES');
  });

  it('should read custom column names', async () => {
    // Prepare
    const body = `id,类别,留言\n${syntheticExamples()
      .map((r, i) => `${i},${r.label},${r.text}`)
      .join('\n')}\n`;
    writeFileSync(join(dir, 'd.csv'), body);

    // Act
    const code = await trainRun([
      '--data',
      join(dir, 'd.csv'),
      '--text-column',
      '留言',
      '--label-column=类别',
      '--out',
      join(dir, 'm.json'),
    ]);

    // Assess
    expect(code).toBe(0);
  });

  it.each([
    ['a missing column', 'content,label\n路灯坏了,城乡建设\n修路,交通运输\n', 'CSV_MISSING_COLUMN'],
    ['an empty label', 'text,label\n路灯坏了,城乡建设\n修路,\n', 'CSV_EMPTY_LABEL'],
    ['a single label', 'text,label\n路灯坏了,城乡建设\n修路,城乡建设\n', 'CSV_TOO_FEW_CLASSES'],
    ['an unterminated quote', 'text,label\n"路灯坏了,城乡建设\n', 'CSV_UNTERMINATED_QUOTE'],
  ])('should fail with a clear code on %s', async (_name, body, expected) => {
    // Prepare
    writeFileSync(join(dir, 'bad.csv'), body);

    // Act
    const code = await trainRun(['--data', join(dir, 'bad.csv'), '--out', join(dir, 'm.json')]);

    // Assess
    expect(code).toBe(1);
    expect(err()).toContain(expected);
  });

  it('should refuse a GBK-encoded file as invalid UTF-8', async () => {
    // Prepare
    writeFileSync(
      join(dir, 'gbk.csv'),
      iconv.encode('text,label\n小区垃圾无人清运,城乡建设\n公交太挤,交通运输\n', 'gbk'),
    );

    // Act
    const code = await trainRun(['--data', join(dir, 'gbk.csv'), '--out', join(dir, 'm.json')]);

    // Assess
    expect(code).toBe(1);
    expect(err()).toContain('CSV_INVALID_ENCODING');
  });

  it('should print usage and exit 2 without --data or --out, and exit 1 for a missing file', async () => {
    // Act & Assess
    expect(await trainRun(['--data', 'x.csv'])).toBe(2);
    expect(await trainRun(['stray'])).toBe(2);
    expect(await trainRun(['--data', join(dir, 'none.csv'), '--out', join(dir, 'm.json')])).toBe(1);
    expect(err()).toContain('FILE_NOT_FOUND');
  });
});

describe('Command: classify', () => {
  it('should answer each JSON line with label, confidence and alternatives, and errors in place', async () => {
    // Prepare
    writeFileSync(join(dir, 'd.csv'), csv(syntheticExamples()));
    await trainRun(['--data', join(dir, 'd.csv'), '--out', join(dir, 'm.json')]);
    const model = loadModel(readFileSync(join(dir, 'm.json'), 'utf8'));

    // Act
    const lines = [
      JSON.stringify({ text: '出租车拒载，公交车班次太少' }),
      'not json',
      JSON.stringify({ title: 1 }),
    ].map((l) => JSON.parse(classifyLine(model, l)));

    // Assess
    expect(lines[0]).toMatchObject({ label: '交通运输' });
    expect(Object.keys(lines[0])).toEqual(['label', 'confidence', 'alternatives']);
    expect(lines[0].alternatives[0]).toEqual({ label: expect.any(String), confidence: expect.any(Number) });
    expect(lines[1]).toEqual({ error: { code: 'INVALID_JSON', message: expect.any(String) } });
    expect(lines[2].error.code).toBe('MISSING_TEXT');
  });

  it('should exit 1 with MODEL_INVALID for a file that is not a model', async () => {
    // Prepare
    writeFileSync(join(dir, 'bad.json'), '{"format":"something else"}');

    // Act
    const code = await classifyRun(['--model', join(dir, 'bad.json')]);

    // Assess
    expect(code).toBe(1);
    expect(err()).toContain('MODEL_INVALID');
  });
});

describe('Command: train (options)', () => {
  it('should train a plain TF-IDF SVM with --nb-alpha 0 and refuse a negative smoothing', async () => {
    // Prepare
    writeFileSync(join(dir, 'd.csv'), csv(syntheticExamples()));

    // Act
    const plain = await trainRun(['--data', join(dir, 'd.csv'), '--out', join(dir, 'm.json'), '--nb-alpha', '0']);
    const negative = await trainRun(['--data', join(dir, 'd.csv'), '--out', join(dir, 'n.json'), '--nb-alpha=-1']);

    // Assess
    expect(plain).toBe(0);
    expect(loadModel(readFileSync(join(dir, 'm.json'), 'utf8')).artifact.training.nbAlpha).toBeUndefined();
    expect(negative).toBe(2);
    expect(err()).toContain('--nb-alpha must be ≥ 0');
  });
  it('should train with --class-balance and refuse a value out of range', async () => {
    // Prepare
    writeFileSync(join(dir, 'd.csv'), csv(syntheticExamples()));

    // Act
    const ok = await trainRun(['--data', join(dir, 'd.csv'), '--out', join(dir, 'm.json'), '--class-balance', '0.5']);
    const bad = await trainRun(['--data', join(dir, 'd.csv'), '--out', join(dir, 'n.json'), '--class-balance=-1']);

    // Assess
    expect(ok).toBe(0);
    expect(loadModel(readFileSync(join(dir, 'm.json'), 'utf8')).artifact.training.classBalance).toBe(0.5);
    expect(bad).toBe(2);
    expect(err()).toContain('--class-balance must be from 0');
  });

  it('should prune and quantize as the artifact-size flags say and refuse widths out of range', async () => {
    // Prepare
    writeFileSync(join(dir, 'd.csv'), csv(syntheticExamples()));
    const args = ['--data', join(dir, 'd.csv'), '--out', join(dir, 'm.json')];

    // Act
    const code = await trainRun([
      ...args,
      '--max-features',
      '25',
      '--weight-bits',
      '5',
      '--idf-bits',
      '4',
      '--key-bits',
      '20',
    ]);
    const bad = await trainRun([...args, '--weight-bits', '9']);

    // Assess
    expect(code).toBe(0);
    const a = loadModel(readFileSync(join(dir, 'm.json'), 'utf8')).artifact;
    expect([a.vocabSize, a.weightBits, a.idfBits, a.keyBits]).toEqual([25, 5, 4, 20]);
    expect(bad).toBe(2);
    expect(err()).toContain('--weight-bits must be an integer from 2 to 8');
  });
});

describe('Command: eval', () => {
  it('should print macro-F1, per-class figures, the confusion matrix and precision at coverage', async () => {
    // Prepare
    writeFileSync(join(dir, 'd.csv'), csv(syntheticExamples(15)));

    // Act
    const code = await evalRun(['--data', join(dir, 'd.csv'), '--folds', '3', '--calibration-folds', '2']);

    // Assess
    expect(code).toBe(0);
    const text = out();
    expect(text).toMatch(/macro-F1=[01]\.\d{4}/);
    expect(text).toContain('混淆矩阵');
    for (const c of ['50.00%', '70.00%', '80.00%', '90.00%']) expect(text).toContain(c);
  });

  it('should emit JSON with --json and refuse fewer than 2 folds', async () => {
    // Prepare
    writeFileSync(join(dir, 'd.csv'), csv(syntheticExamples(15)));

    // Act
    const code = await evalRun(['--data', join(dir, 'd.csv'), '--folds', '3', '--calibration-folds', '0', '--json']);
    const bad = await evalRun(['--data', join(dir, 'd.csv'), '--folds', '1']);

    // Assess
    expect(code).toBe(0);
    const report = JSON.parse(out());
    expect(report.perClass).toHaveLength(3);
    expect(report.confusion).toHaveLength(3);
    expect(report.coverage.map((c: { coverage: number }) => c.coverage)).toEqual([0.5, 0.7, 0.8, 0.9, 1]);
    expect(bad).toBe(2);
  });
});
