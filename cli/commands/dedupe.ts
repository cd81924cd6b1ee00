/**
 * `cityloop dedupe [--config file] [--explain]`: replays reports (JSON lines on stdin, in arrival order) through the
 * production dedupe engine with an in-memory store and writes one JSON line per input:
 * `{"id","caseId","relation"}` (`--explain` adds score, explanation, reopen, reporterCount).
 * Cities use it to replay their history and judge the thresholds before changing `config/dedupe.json`.
 * A report without `category` gets one from the classifier (`core/classify/classifier.ts` with
 * `config/model/classifier.json`) when both exist, else from the taxonomy keywords.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as z from 'zod/mini';
import { type DedupeConfig, parseDedupeConfig } from '#core/dedupe/config.ts';
import { defaultDedupeConfig } from '#core/dedupe/defaults.ts';
import { createDedupeEngine } from '#core/dedupe/engine.ts';
import type { DedupeReport } from '#core/dedupe/features.ts';
import { createGroupResolver } from '#core/dedupe/groups.ts';
import { InMemoryDedupeStore } from '#core/dedupe/store.ts';
import { isCityLoopError } from '#core/errors.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import type { Taxonomy } from '#core/taxonomy/types.ts';

export const summary =
  '离线回放去重 replay reports (JSON lines on stdin) through the dedupe engine: id → caseId, relation';

export const USAGE = '用法 usage: cityloop dedupe [--config dedupe.json] [--explain] < reports.jsonl';

const InputLine = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(200)),
  receivedAt: z.union([z.string().check(z.minLength(1)), z.number()]),
  text: z.string(),
  title: z.optional(z.string()),
  category: z.optional(z.string()),
  channel: z.optional(z.string()),
  channelMessageId: z.optional(z.string()),
  location: z.optional(
    z.object({
      lat: z.optional(z.number().check(z.gte(-90), z.lte(90))),
      lon: z.optional(z.number().check(z.gte(-180), z.lte(180))),
      address: z.optional(z.string()),
    }),
  ),
  citizen: z.optional(
    z.object({ phone: z.optional(z.string()), openid: z.optional(z.string()), email: z.optional(z.string()) }),
  ),
});

type Classify = (input: { title?: string; text: string }) => Promise<string | undefined>;

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The classifier being written in `core/classify/classifier.ts`, when it and its model are present. */
async function loadClassifier(taxonomy: Taxonomy): Promise<{ classify?: Classify; note: string }> {
  const modulePath = join(root, 'core', 'classify', 'classifier.ts');
  const modelPath = join(root, 'config', 'model', 'classifier.json');
  if (!existsSync(modulePath) || !existsSync(modelPath)) {
    return { note: '分类：未找到分类器，按事项清单关键词归组 (no classifier: taxonomy keyword fallback)' };
  }
  try {
    const mod = (await import(modulePath)) as {
      createClassifier?: (o: { taxonomy: Taxonomy; model: unknown }) => {
        classify(i: { title?: string; text: string }): { category?: string } | Promise<{ category?: string }>;
      };
    };
    if (typeof mod.createClassifier !== 'function') throw new Error('createClassifier is not exported');
    const model = JSON.parse(readFileSync(modelPath, 'utf8')) as unknown;
    const classifier = mod.createClassifier({ taxonomy, model });
    return {
      classify: async (i) => (await classifier.classify(i)).category,
      note: '分类：使用分类器 core/classify/classifier.ts (classifier)',
    };
  } catch (e) {
    return { note: `分类：分类器不可用（${(e as Error).message}），按关键词归组 (keyword fallback)` };
  }
}

export interface DedupeCliIo {
  input: Readable;
  output: Writable;
  errput: Writable;
}

function write(out: Writable, line: string): Promise<void> {
  return new Promise((resolveWrite) => {
    if (out.write(`${line}\n`)) resolveWrite();
    else out.once('drain', () => resolveWrite());
  });
}

/** The command with injectable streams (tests). Returns the exit code: 0, 1 if some lines were invalid, 2 on usage. */
export async function runDedupe(args: string[], io: DedupeCliIo, opts: { classify?: Classify | null } = {}) {
  let config: DedupeConfig = defaultDedupeConfig;
  let explain = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help' || a === '-h') {
      await write(io.output, USAGE);
      return 0;
    }
    if (a === '--explain') explain = true;
    else if (a === '--config') {
      const file = args[++i];
      if (!file) {
        io.errput.write('--config needs a file\n');
        return 2;
      }
      try {
        config = parseDedupeConfig(JSON.parse(readFileSync(resolve(file), 'utf8')));
      } catch (e) {
        io.errput.write(
          `invalid --config ${file}: ${isCityLoopError(e) ? JSON.stringify(e.toJSON()) : (e as Error).message}\n`,
        );
        return 2;
      }
    } else {
      io.errput.write(`unknown option: ${a}\n`);
      return 2;
    }
  }
  const taxonomy = defaultTaxonomy;
  let classify: Classify | undefined;
  if (opts.classify === undefined) {
    const loaded = await loadClassifier(taxonomy);
    classify = loaded.classify;
    io.errput.write(`${loaded.note}\n`);
  } else classify = opts.classify ?? undefined;

  const store = new InMemoryDedupeStore();
  const engine = createDedupeEngine({ store, config, groups: createGroupResolver(config, taxonomy) });
  const counts: Record<string, number> = { new: 0, resubmission: 0, repeat: 0, incident: 0, invalid: 0 };
  const rl = createInterface({ input: io.input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let classifyFailed = false;
  for await (const raw of rl) {
    lineNo++;
    const line = raw.trim();
    if (!line) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      counts.invalid!++;
      await write(
        io.output,
        JSON.stringify({ id: null, line: lineNo, error: { code: 'INVALID_JSON', message: 'not JSON' } }),
      );
      continue;
    }
    const r = InputLine.safeParse(parsed);
    if (!r.success) {
      counts.invalid!++;
      const id = typeof (parsed as { id?: unknown })?.id === 'string' ? (parsed as { id: string }).id : null;
      const message = r.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ');
      await write(io.output, JSON.stringify({ id, line: lineNo, error: { code: 'INVALID_INPUT', message } }));
      continue;
    }
    const input = r.data as DedupeReport;
    if (!input.category && classify) {
      try {
        const category = await classify({ ...(input.title ? { title: input.title } : {}), text: input.text });
        if (category) input.category = category;
      } catch (e) {
        // One failing classification falls back to the keywords for this line; the replay goes on.
        if (!classifyFailed)
          io.errput.write(`分类器出错，该行按关键词归组 classifier failed: ${(e as Error).message}\n`);
        classifyFailed = true;
      }
    }
    try {
      const d = await engine.process(input);
      counts[d.relation]!++;
      const out: Record<string, unknown> = { id: input.id, caseId: d.caseId, relation: d.relation };
      if (explain) {
        Object.assign(out, {
          score: d.score,
          group: d.group,
          reporterCount: d.reporterCount,
          ...(d.reopen ? { reopen: true } : {}),
          ...(d.crossed.length ? { crossed: d.crossed } : {}),
          explanation: d.explanation,
        });
      }
      await write(io.output, JSON.stringify(out));
    } catch (e) {
      counts.invalid!++;
      await write(
        io.output,
        JSON.stringify({ id: input.id, line: lineNo, error: { code: 'INVALID_INPUT', message: (e as Error).message } }),
      );
    }
  }
  const cases = counts.new!;
  io.errput.write(
    `去重 dedupe: ${lineNo} lines, ${cases} cases (new), ${counts.incident} incident, ${counts.repeat} repeat, ${counts.resubmission} resubmission, ${counts.invalid} invalid\n`,
  );
  return counts.invalid! > 0 ? 1 : 0;
}

export async function run(args: string[]): Promise<number> {
  return runDedupe(args, { input: process.stdin, output: process.stdout, errput: process.stderr });
}
