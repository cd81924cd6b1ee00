/**
 * `cityloop import --channel hotline <file.csv> [--agent <id>] [--api-key <key>] [--source letter|walkin]
 *   [--rejects <file>] [--concurrency N] [--url <base>] [--dry-run]`
 * Bulk entry of paper requests (来信/来访登记表) through the agent API of the running stack, so every row takes the
 * path an agent's form takes (`POST /api/agent/reports`). Re-running the same file is safe: a row is identified by
 * its ref (letters: `letter:<ref>`; walk-ins: a uuid derived from the ref), so it is never filed twice.
 * Every row ends as accepted (new or already filed) or rejected with a reason; rejected rows are printed and written
 * to `<file>.rejected.csv` (UTF-8 with BOM, opens in Excel) with the original fields, ready to fix and re-import.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CSV_COLUMNS,
  type CsvHeader,
  decodeCsv,
  mapHeader,
  readCsvRecords,
  rowToSubmission,
} from '#channels/hotline/csv.ts';
import type { AgentSubmission, Source } from '#channels/hotline/submission.ts';
import { loadKeys } from '#local/auth.ts';
import { int, parseArgs, str, UsageError } from '../lib/args.ts';
import { localStackInfo } from '../lib/stack.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const summary = '批量录入来信/来访 bulk entry of paper/letter requests from CSV (--channel hotline)';

export const USAGE = `用法 usage:
  cityloop import --channel hotline <file.csv> [--agent <agent id>] [--api-key <key>] [--source letter|walkin]
                  [--rejects <file>] [--concurrency N] [--url <base url>] [--dry-run]

CSV: first row is the header; UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030 (detected).
Quoted fields may contain commas, quotes ("") and line breaks. Columns (English or Chinese header names):
${(Object.entries(CSV_COLUMNS) as [string, readonly string[]][]).map(([k, names]) => `  ${k.padEnd(11)} ${names.join(' / ')}`).join('\n')}
  required: ref (the letter / registration number: re-importing the same ref never files twice) and text;
  phone or email, or anonymous = 是; source 来信|来访 (default: --source, else letter);
  received_at: the day the letter arrived (YYYY-MM-DD), default today; nature: 咨询/求助/投诉/举报/建议;
  category: a 事项清单 code (a hint for triage). A column named 序号/no is ignored; any other unknown column is an error.

Credential: --api-key, else CITYLOOP_API_KEY, else the local key of --agent <id> (config/local-keys.json or
CITYLOOP_KEYS_FILE), else local-agent-001. The agent behind the key is recorded as 录入人 (enteredBy) on every report.
Exit code: 0 every row accepted, 1 some rows rejected, 2 usage error or the file/stack could not be used.`;

interface Row {
  line: number;
  fields?: string[];
  ref?: string;
  submission?: AgentSubmission;
}

export interface RowOutcome {
  line: number;
  ref?: string;
  status: 'created' | 'duplicate' | 'rejected';
  trackingNo?: string;
  code?: string;
  reason?: string;
  fields?: string[];
}

/** The API key to use: explicit key, env, the local key of an agent id, the default local agent. */
export function agentKey(apiKey: string | undefined, agent: string | undefined): string {
  if (apiKey) return apiKey;
  if (process.env.CITYLOOP_API_KEY) return process.env.CITYLOOP_API_KEY;
  if (!agent) return 'local-agent-001';
  const file = process.env.CITYLOOP_KEYS_FILE ?? join(ROOT, 'config/local-keys.json');
  const found = loadKeys(file).find((k) => k.id === agent && (k.role === 'agent' || k.role === 'supervisor'));
  if (!found) throw new UsageError(`没有话务员 ${agent} 的本地凭据 no local key for agent ${agent} in ${file}`);
  return found.key;
}

/** The base URL of the agent API: --url, else the running local stack's. */
export function stackUrl(explicit: string | undefined): string {
  if (explicit) return explicit.replace(/\/+$/, '');
  const info = localStackInfo();
  if (!info) {
    throw new UsageError(
      '找不到本地运行的系统 no local stack found: run `npm start` (or set CITYLOOP_DATA_DIR), or pass --url',
    );
  }
  return info.url;
}

class Progress {
  private lastPct = -1;
  private readonly tty = Boolean(process.stderr.isTTY);
  constructor(private readonly total: number) {}
  update(done: number, rejected: number): void {
    const pct = this.total === 0 ? 100 : Math.floor((done / this.total) * 100);
    if (this.tty) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      process.stderr.write(
        `\r[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${this.total} ${pct}%  拒绝 rejected ${rejected}`,
      );
      if (done === this.total) process.stderr.write('\n');
      return;
    }
    // Not a terminal (a log, a pipe): one line per quarter.
    const step = Math.floor(pct / 25) * 25;
    if (step !== this.lastPct && (step > this.lastPct || done === this.total)) {
      this.lastPct = step;
      process.stderr.write(`进度 progress ${done}/${this.total} (${step}%), 拒绝 rejected ${rejected}\n`);
    }
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Sent = { ok: true; status: number; body: Record<string, unknown> | undefined } | { ok: false; error: string };

async function post(url: string, key: string, body: unknown): Promise<Sent> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    return { ok: true, status: res.status, body: parsed };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Sends one row; network errors, 429 and 5xx are retried (the row's id makes a retry harmless). */
async function send(url: string, key: string, row: Row): Promise<RowOutcome | 'auth'> {
  const base = { line: row.line, ...(row.ref ? { ref: row.ref } : {}) };
  let last = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await sleep(200 * 2 ** (attempt - 1));
    const r = await post(url, key, row.submission);
    if (!r.ok) {
      last = r.error;
      continue;
    }
    const error = r.body?.error as { code?: string; message?: string } | undefined;
    if (r.status === 401 || r.status === 403) return 'auth';
    if (r.status === 200 || r.status === 202) {
      return {
        ...base,
        status: r.body?.duplicate === true ? 'duplicate' : 'created',
        trackingNo: String(r.body?.trackingNo ?? ''),
      };
    }
    if (r.status >= 400 && r.status < 500 && r.status !== 429) {
      return {
        ...base,
        status: 'rejected',
        code: error?.code ?? `HTTP_${r.status}`,
        reason: detailOf(error) ?? `HTTP ${r.status}`,
        ...(row.fields ? { fields: row.fields } : {}),
      };
    }
    last = `HTTP ${r.status} ${error?.code ?? ''}`.trim();
  }
  return {
    ...base,
    status: 'rejected',
    code: 'SEND_FAILED',
    reason: `发送失败，可重新导入 could not be sent (${last}); re-run the import`,
    ...(row.fields ? { fields: row.fields } : {}),
  };
}

function detailOf(error: { code?: string; message?: string; details?: unknown } | undefined): string | undefined {
  if (!error?.message) return undefined;
  const issues = (error.details as { issues?: { path: string; message: string }[] } | undefined)?.issues;
  return issues?.length ? `${error.message}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}` : error.message;
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function writeRejects(file: string, header: string[], rejected: RowOutcome[]): void {
  const lines = [['行号 line', '错误码 code', '原因 reason', ...header].map(csvField).join(',')];
  for (const r of rejected) {
    lines.push([String(r.line), r.code ?? '', r.reason ?? '', ...(r.fields ?? [])].map(csvField).join(','));
  }
  writeFileSync(file, `\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
}

export async function run(args: string[]): Promise<number> {
  try {
    return await importFile(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

async function importFile(args: string[]): Promise<number> {
  const p = parseArgs(args, {
    values: ['channel', 'agent', 'api-key', 'source', 'rejects', 'concurrency', 'url'],
    booleans: ['dry-run', 'help'],
  });
  if (p.flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const channel = str(p, 'channel');
  if (channel !== 'hotline')
    throw new UsageError('--channel hotline 为必填（目前仅支持热线批量录入） --channel hotline is required');
  const file = p.positionals[0];
  if (!file || p.positionals.length > 1) throw new UsageError('请给出一个 CSV 文件 give one CSV file');
  const source = (str(p, 'source') ?? 'letter') as Source;
  if (source !== 'letter' && source !== 'walkin') throw new UsageError('--source 应为 letter 或 walkin');
  const concurrency = Math.min(Math.max(int(p, 'concurrency', 4), 1), 16);
  const dryRun = p.flags['dry-run'] === true;
  const key = agentKey(str(p, 'api-key'), str(p, 'agent'));
  const url = dryRun ? '' : `${stackUrl(str(p, 'url'))}/api/agent/reports`;

  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    process.stderr.write(`无法读取文件 cannot read ${file}: ${(e as Error).message}\n`);
    return 2;
  }
  const { text, encoding } = decodeCsv(bytes);
  const records = readCsvRecords(text);
  const first = records[0];
  if (!first) {
    process.stderr.write(`文件为空 ${file} is empty\n`);
    return 2;
  }
  if ('error' in first) {
    process.stderr.write(`表头无法读取 the header row cannot be read: ${first.error.message}\n`);
    return 2;
  }
  const mapped = mapHeader(first.fields);
  if (!mapped.ok) {
    process.stderr.write(`${mapped.code}: ${mapped.message}\n`);
    return 2;
  }
  const header: CsvHeader = mapped.header;

  // Rows → submissions, or rejections that never leave this machine.
  const outcomes: RowOutcome[] = [];
  const toSend: Row[] = [];
  const seenRefs = new Map<string, number>();
  for (const rec of records.slice(1)) {
    if ('error' in rec) {
      outcomes.push({ line: rec.line, status: 'rejected', code: rec.error.code, reason: rec.error.message });
      continue;
    }
    const row = rowToSubmission(rec.fields, header, source);
    if (!row.ok) {
      outcomes.push({
        line: rec.line,
        ...(row.ref ? { ref: row.ref } : {}),
        status: 'rejected',
        code: row.code,
        reason: row.message,
        fields: rec.fields,
      });
      continue;
    }
    const dupKey = `${row.submission.source}:${row.ref}`;
    const earlier = seenRefs.get(dupKey);
    if (earlier !== undefined) {
      outcomes.push({
        line: rec.line,
        ref: row.ref,
        status: 'rejected',
        code: 'DUPLICATE_REF',
        reason: `编号与第 ${earlier} 行重复 the same ref as line ${earlier}`,
        fields: rec.fields,
      });
      continue;
    }
    seenRefs.set(dupKey, rec.line);
    toSend.push({ line: rec.line, fields: rec.fields, ref: row.ref, submission: row.submission });
  }

  const total = outcomes.length + toSend.length;
  const progress = new Progress(total);
  let done = outcomes.length;
  const rejectedCount = () => outcomes.filter((o) => o.status === 'rejected').length;
  progress.update(done, rejectedCount());
  let authFailed = false;
  if (dryRun) {
    for (const r of toSend) outcomes.push({ line: r.line, ...(r.ref ? { ref: r.ref } : {}), status: 'created' });
    done = total;
    progress.update(done, rejectedCount());
  } else {
    let next = 0;
    const worker = async () => {
      while (next < toSend.length && !authFailed) {
        const row = toSend[next++]!;
        const out = await send(url, key, row);
        if (out === 'auth') {
          authFailed = true;
          break;
        }
        outcomes.push(out);
        done++;
        progress.update(done, rejectedCount());
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, toSend.length) }, worker));
    if (authFailed) {
      // Every row not sent is reported, never dropped.
      const sentLines = new Set(outcomes.map((o) => o.line));
      for (const r of toSend) {
        if (sentLines.has(r.line)) continue;
        outcomes.push({
          line: r.line,
          ...(r.ref ? { ref: r.ref } : {}),
          status: 'rejected',
          code: 'NOT_SENT',
          reason: '凭据无效或无权录入，未发送 credential refused: not sent',
          ...(r.fields ? { fields: r.fields } : {}),
        });
      }
    }
  }
  outcomes.sort((a, b) => a.line - b.line);
  return report(file, encoding, first.fields, outcomes, { dryRun, authFailed, rejectsFile: str(p, 'rejects') });
}

function report(
  file: string,
  encoding: string,
  header: string[],
  outcomes: RowOutcome[],
  opts: { dryRun: boolean; authFailed: boolean; rejectsFile: string | undefined },
): number {
  const created = outcomes.filter((o) => o.status === 'created');
  const duplicate = outcomes.filter((o) => o.status === 'duplicate');
  const rejected = outcomes.filter((o) => o.status === 'rejected');
  const out: string[] = [];
  if (!opts.dryRun) {
    for (const o of [...created, ...duplicate].sort((a, b) => a.line - b.line)) {
      out.push(
        `第 ${o.line} 行 line ${o.line}  ${o.ref ?? ''}  受理编号 ${o.trackingNo}${o.status === 'duplicate' ? '  (已录入过 already filed)' : ''}`,
      );
    }
  }
  out.push(
    '',
    `${opts.dryRun ? '检查完成 checked (dry run)' : '导入完成 import finished'}: ${outcomes.length} 行 rows (${encoding})`,
    `  ${opts.dryRun ? '可导入 valid' : '新受理 created'}       ${created.length}`,
    `  已录入过 already filed ${duplicate.length}`,
    `  拒绝 rejected        ${rejected.length}`,
  );
  if (rejected.length > 0) {
    const rejectsFile = opts.rejectsFile ?? `${file}.rejected.csv`;
    writeRejects(rejectsFile, header, rejected);
    out.push('', `被拒绝的行 rejected rows (also in ${rejectsFile}):`);
    for (const r of rejected) {
      out.push(`  第 ${r.line} 行 line ${r.line}${r.ref ? ` [${r.ref}]` : ''}  ${r.code}: ${r.reason}`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (opts.authFailed) {
    process.stderr.write('凭据被拒绝 the credential was refused (401/403): check --api-key / --agent\n');
    return 2;
  }
  return rejected.length > 0 ? 1 : 0;
}
