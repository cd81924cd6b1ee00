/**
 * `cityloop classify [--model model.json]`: JSON lines in (`{"text": ...}`, optional `"title"`), JSON lines out in the
 * same order: `{"label","confidence","alternatives":[{"label","confidence"}]}`. A bad line yields
 * `{"error":{"code","message"}}` on its own line so the output stays aligned with the input.
 * Without `--model`, the shipped default `config/model/classifier.json` is used.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadModel, type TextModel } from '#core/classify/model.ts';
import { type Flags, fail, parseFlags } from './train.ts';

export const summary = '用模型分类 classify JSON lines from stdin ({"text":...}) with a trained model (--model)';

export const USAGE = '用法 usage: cityloop classify [--model model.json] [--top 3] < in.jsonl > out.jsonl';

export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('../../config/model/classifier.json', import.meta.url));

export function classifyLine(model: TextModel, line: string, k = 3): string {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return JSON.stringify({ error: { code: 'INVALID_JSON', message: '该行不是 JSON (line is not JSON)' } });
  }
  const rec = obj as { text?: unknown; title?: unknown };
  if (typeof obj !== 'object' || obj === null || typeof rec.text !== 'string') {
    return JSON.stringify({ error: { code: 'MISSING_TEXT', message: '缺少 text 字段 (missing string field "text")' } });
  }
  const text = typeof rec.title === 'string' && rec.title.trim() !== '' ? `${rec.title}\n${rec.text}` : rec.text;
  const p = model.predict(text, k);
  const r = (x: number) => Math.round(x * 1e6) / 1e6;
  return JSON.stringify({
    label: p.label,
    confidence: r(p.confidence),
    alternatives: p.alternatives.map((a) => ({ label: a.label, confidence: r(a.confidence) })),
  });
}

export async function run(args: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(args);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let model: TextModel;
  try {
    model = loadModel(readFileSync(flags.values.get('model') ?? DEFAULT_MODEL_PATH, 'utf8'));
  } catch (e) {
    return fail(e);
  }
  const k = Math.max(1, Number(flags.values.get('top') ?? 3) || 3);
  const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  let out = '';
  for await (const line of rl) {
    if (line.trim() === '') continue;
    out += `${classifyLine(model, line, k)}\n`;
    if (out.length > 1 << 16) {
      if (!process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
      out = '';
    }
  }
  if (out) process.stdout.write(out);
  return 0;
}
