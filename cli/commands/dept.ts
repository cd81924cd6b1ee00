/**
 * `cityloop dept pull --department <id> [--max N] [--wait S] [--json] [--queue-url URL]`
 * For departments without their own system: long-polls the department's queue, prints each case (with its tracking
 * number; one JSON line per case with --json), and deletes only what it printed. A message that is not a case event is
 * left in the queue (it reaches the DLQ after maxReceiveCount) and reported on stderr.
 *
 * `cityloop dept list|show|sign|contact|return|extend|resolve|note ...`: the department API over HTTP, with the
 * department's credential from `--api-key` or `CITYLOOP_API_KEY` (local API key, or a Cognito JWT on AWS), against
 * `--url`, `CITYLOOP_API_URL`, or the running local stack (its `stack.json` `url`).
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { sqsClientConfig } from '#adapters/sqs/queue.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { departmentQueueId, queueEnvName } from '#core/topology.ts';
import { type ActionResponse, DepartmentApiError, DepartmentClient } from '../../clients/department.ts';
import { int, parseArgs, str, UsageError } from '../lib/args.ts';
import { type Subcommand, subcommands } from '../lib/command.ts';
import { localStackInfo, useLocalStack } from '../lib/stack.ts';

export const summary =
  '部门取件/签收/办结 department work: pull the queue, list, sign, contact, return, extend, resolve, note';

export const USAGE = `用法 usage:
  cityloop dept pull --department <id> [--max N] [--wait seconds] [--json] [--queue-url URL]
  cityloop dept list [--state <state>] [--limit N] [--cursor C]     我的工单 (by state and deadline, N per state)
  cityloop dept show <caseId>                                        工单详情
  cityloop dept sign <caseId> [--text T]                             签收
  cityloop dept contact <caseId> [--text T]                          先行联系
  cityloop dept return <caseId> --reason R                           退单申请
  cityloop dept extend <caseId> --reason R --due <YYYY-MM-DD|ISO>    延期申请
  cityloop dept resolve <caseId> --text T [--attachments JSON]       办结反馈
  cityloop dept note <caseId> --text T [--public]                    备注
  API options: [--api-key K | CITYLOOP_API_KEY] [--url URL | CITYLOOP_API_URL] [--json] [--expected-version V]
部门 departments: ${defaultDepartments
  .filter((d) => d.kind !== 'centre')
  .map((d) => d.id)
  .join(', ')}`;

export interface PulledCase {
  eventId: string;
  trackingNo: string;
  caseId: string;
  department: string;
  detailType: string;
  title: string;
  category?: string;
  categoryName?: string;
  nature?: string;
  urgency?: string;
  receivedAt?: string;
  dispatchedAt?: string;
  reportCount?: number;
  text?: string;
  address?: string;
  detail: Record<string, unknown>;
}

export function readCaseMessage(body: string): PulledCase | undefined {
  try {
    const e = JSON.parse(body) as { 'detail-type'?: string; detail?: Record<string, unknown> };
    const d = e.detail;
    if (!d || typeof d.trackingNo !== 'string' || typeof d.caseId !== 'string') return undefined;
    const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const loc = d.location as { address?: string } | undefined;
    return {
      eventId: s(d.eventId) ?? `${d.caseId}:${d.version}`,
      trackingNo: d.trackingNo,
      caseId: d.caseId,
      department: s(d.department) ?? '',
      detailType: e['detail-type'] ?? '',
      title: s(d.title) ?? '',
      category: s(d.category),
      categoryName: s(d.categoryName),
      nature: s(d.nature),
      urgency: s(d.urgency),
      receivedAt: s(d.receivedAt),
      dispatchedAt: s(d.dispatchedAt),
      reportCount: typeof d.reportCount === 'number' ? d.reportCount : undefined,
      text: s(d.text),
      address: loc?.address,
      detail: d,
    };
  } catch {
    return undefined;
  }
}

function resolveQueueUrl(department: string, explicit: string | undefined): string {
  if (explicit) return explicit;
  const qid = departmentQueueId(department);
  const fromEnv = process.env[queueEnvName(qid)];
  if (fromEnv) return fromEnv;
  const info = localStackInfo();
  if (!info) {
    throw new UsageError(
      `找不到本地运行的系统 no local stack found (run \`npm start\`, or set CITYLOOP_DATA_DIR), and no --queue-url / ${queueEnvName(qid)} for AWS`,
    );
  }
  useLocalStack(info);
  const url = info.queues[qid];
  if (!url) throw new UsageError(`部门不存在 unknown department: ${department}`);
  return url;
}

function humanLine(c: PulledCase): string {
  const parts = [
    `【${c.trackingNo}】${c.title}`,
    `  类别 ${c.categoryName ?? c.category ?? '-'} · 性质 ${c.nature ?? '-'} · 紧急程度 ${c.urgency ?? '-'}${
      c.reportCount && c.reportCount > 1 ? ` · 并案 ${c.reportCount} 人反映` : ''
    }`,
    `  受理 ${c.receivedAt ?? '-'} · 派单 ${c.dispatchedAt ?? '-'}${c.address ? ` · 地点 ${c.address}` : ''}`,
  ];
  if (c.text) parts.push(`  ${c.text.replace(/\s+/g, ' ').slice(0, 200)}`);
  return parts.join('\n');
}

async function pull(args: string[]): Promise<number> {
  const p = parseArgs(args, { values: ['department', 'max', 'wait', 'queue-url'], booleans: ['json'] });
  const department = str(p, 'department');
  if (!department) throw new UsageError('--department is required');
  if (!defaultDepartments.some((d) => d.id === department) && !str(p, 'queue-url')) {
    throw new UsageError(`部门不存在 unknown department: ${department}`);
  }
  const max = int(p, 'max', 100);
  const wait = Math.min(int(p, 'wait', 5), 20);
  const asJson = p.flags.json === true;
  const queueUrl = resolveQueueUrl(department, str(p, 'queue-url'));
  const sqs = new SQSClient(sqsClientConfig());
  const seen = new Set<string>();
  let printed = 0;
  while (printed < max) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - printed),
        WaitTimeSeconds: wait,
        VisibilityTimeout: 60,
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    const done: string[] = [];
    for (const m of messages) {
      const c = readCaseMessage(m.Body ?? '');
      if (!c) {
        process.stderr.write(`skipped a message that is not a case event (${m.MessageId})\n`);
        continue;
      }
      // The same announcement delivered twice (at-least-once) is printed once.
      if (!seen.has(c.eventId)) {
        seen.add(c.eventId);
        process.stdout.write(`${asJson ? JSON.stringify(c) : humanLine(c)}\n`);
        printed++;
      }
      done.push(m.ReceiptHandle ?? '');
    }
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((h, i) => ({ Id: String(i), ReceiptHandle: h })),
        }),
      );
    }
  }
  if (!asJson) process.stderr.write(`共取出 ${printed} 件 pulled ${printed} case(s) for ${department}\n`);
  return 0;
}

const API_VALUES = ['api-key', 'url', 'expected-version'];

function apiClient(p: ReturnType<typeof parseArgs>): DepartmentClient {
  const apiKey = str(p, 'api-key') ?? process.env.CITYLOOP_API_KEY;
  if (!apiKey) throw new UsageError('--api-key (or CITYLOOP_API_KEY) is required');
  const url = str(p, 'url') ?? process.env.CITYLOOP_API_URL ?? localStackInfo()?.url;
  if (!url) {
    throw new UsageError(
      '找不到接口地址 no API URL: pass --url, set CITYLOOP_API_URL, or run `npm start` (local stack)',
    );
  }
  // A JWT (three base64url parts) goes as a bearer token; anything else is a local API key.
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(apiKey)
    ? new DepartmentClient({ apiUrl: url, token: apiKey })
    : new DepartmentClient({ apiUrl: url, apiKey });
}

function caseIdArg(p: ReturnType<typeof parseArgs>): string {
  const id = p.positionals[0];
  if (!id || p.positionals.length > 1) throw new UsageError('exactly one <caseId> (受理编号) is required');
  return id;
}

function versioned(p: ReturnType<typeof parseArgs>): { expectedVersion?: number } {
  const v = str(p, 'expected-version');
  return v === undefined ? {} : { expectedVersion: int(p, 'expected-version', 0) };
}

function required(p: ReturnType<typeof parseArgs>, name: string): string {
  const v = str(p, name);
  if (!v?.trim()) throw new UsageError(`--${name} is required`);
  return v;
}

/** `YYYY-MM-DD` means the end of that day in Asia/Shanghai (the working-day limits fall due then). */
export function dueArg(v: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return `${v}T23:59:59.999+08:00`;
  if (!Number.isFinite(Date.parse(v)) || !/(Z|[+-]\d{2}:\d{2})$/.test(v)) {
    throw new UsageError('--due must be YYYY-MM-DD or an ISO 8601 instant with an offset');
  }
  return v;
}

function printAction(r: ActionResponse, asJson: boolean): void {
  if (asJson) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const c = r.case;
  process.stdout.write(
    `【${c.trackingNo}】${c.title}：${c.stateLabel}（版本 ${c.version}）${r.announced ? '' : ' 通知待补发'}\n`,
  );
}

async function withClient(
  args: string[],
  spec: { values?: string[]; booleans?: string[] },
  fn: (client: DepartmentClient, p: ReturnType<typeof parseArgs>, asJson: boolean) => Promise<void>,
): Promise<number> {
  const p = parseArgs(args, {
    values: [...API_VALUES, ...(spec.values ?? [])],
    booleans: ['json', ...(spec.booleans ?? [])],
  });
  const client = apiClient(p);
  try {
    await fn(client, p, p.flags.json === true);
    return 0;
  } catch (e) {
    if (!(e instanceof DepartmentApiError)) throw e;
    process.stderr.write(`${e.code} (${e.status}): ${e.message}\n`);
    return 1;
  }
}

const list = (args: string[]) =>
  withClient(args, { values: ['state', 'limit', 'cursor'] }, async (client, p, asJson) => {
    const state = str(p, 'state');
    const cursor = str(p, 'cursor');
    const r = await client.list({
      ...(state ? { state } : {}),
      limit: int(p, 'limit', 100),
      ...(cursor ? { cursor } : {}),
    });
    // Where each state with more cases goes on (stderr: stdout stays the list).
    const more = Object.entries(r.more ?? {}).map(
      ([s, c]) => `  还有更多 more in ${s}: cityloop dept list --state ${s} --cursor ${c}\n`,
    );
    if (asJson) {
      for (const c of r.cases) process.stdout.write(`${JSON.stringify(c)}\n`);
      for (const line of more) process.stderr.write(line);
      return;
    }
    for (const c of r.cases) {
      process.stdout.write(
        `【${c.trackingNo}】${c.title} · ${c.stateLabel} · 时限 ${c.dueAt ?? '-'} · 版本 ${c.version}\n`,
      );
    }
    process.stderr.write(`共 ${r.cases.length} 件 ${r.department}\n`);
    for (const line of more) process.stderr.write(line);
  });

const show = (args: string[]) =>
  withClient(args, {}, async (client, p, asJson) => {
    const c = await client.get(caseIdArg(p));
    if (asJson) {
      process.stdout.write(`${JSON.stringify(c)}\n`);
      return;
    }
    const who = [c.citizen.name, c.citizen.phone, c.citizen.email].filter(Boolean).join(' ');
    process.stdout.write(
      `${[
        `【${c.trackingNo}】${c.title}（${c.stateLabel}，版本 ${c.version}）`,
        `  类别 ${c.categoryName ?? c.category ?? '-'} · 性质 ${c.nature} · 时限 ${c.dueAt ?? '-'}`,
        `  市民 ${who || '匿名'}${c.location?.address ? ` · 地点 ${c.location.address}` : ''}`,
        `  ${c.text.replace(/\s+/g, ' ')}`,
        ...c.history.map(
          (h) => `  ${h.at} ${h.action}${h.reason ? ` 理由：${h.reason}` : ''}${h.text ? ` ${h.text}` : ''}`,
        ),
        `  可办理 ${c.allowedActions.join(', ') || '-'}`,
      ].join('\n')}\n`,
    );
  });

const textAction = (call: 'sign' | 'contact') => (args: string[]) =>
  withClient(args, { values: ['text'] }, async (client, p, asJson) => {
    const text = str(p, 'text');
    printAction(await client[call](caseIdArg(p), { ...(text ? { text } : {}), ...versioned(p) }), asJson);
  });

const giveBack = (args: string[]) =>
  withClient(args, { values: ['reason'] }, async (client, p, asJson) => {
    printAction(await client.requestReturn(caseIdArg(p), { reason: required(p, 'reason'), ...versioned(p) }), asJson);
  });

const extend = (args: string[]) =>
  withClient(args, { values: ['reason', 'due'] }, async (client, p, asJson) => {
    const body = { reason: required(p, 'reason'), newDueAt: dueArg(required(p, 'due')), ...versioned(p) };
    printAction(await client.requestExtension(caseIdArg(p), body), asJson);
  });

const resolve = (args: string[]) =>
  withClient(args, { values: ['text', 'attachments'] }, async (client, p, asJson) => {
    let attachments: unknown;
    const raw = str(p, 'attachments');
    if (raw !== undefined) {
      try {
        attachments = JSON.parse(raw);
      } catch {
        throw new UsageError('--attachments must be a JSON array of {name, contentType, size, storageKey}');
      }
      if (!Array.isArray(attachments)) throw new UsageError('--attachments must be a JSON array');
    }
    const body = {
      text: required(p, 'text'),
      ...(attachments ? { attachments: attachments as never } : {}),
      ...versioned(p),
    };
    printAction(await client.resolve(caseIdArg(p), body), asJson);
  });

const note = (args: string[]) =>
  withClient(args, { values: ['text'], booleans: ['public'] }, async (client, p, asJson) => {
    const body = {
      text: required(p, 'text'),
      ...(p.flags.public === true ? { visibility: 'public' as const } : {}),
      ...versioned(p),
    };
    printAction(await client.addNote(caseIdArg(p), body), asJson);
  });

const SUBCOMMANDS: Record<string, Subcommand> = {
  pull,
  list,
  show,
  sign: textAction('sign'),
  contact: textAction('contact'),
  return: giveBack,
  extend,
  resolve,
  note,
};

export const run: (args: string[]) => Promise<number> = subcommands(SUBCOMMANDS, USAGE);
