/**
 * `cityloop connect-event <event.json> [--contact-id <id>] [--phone <number>] [--show] [--url <connect url>]
 *   [--agent <id>] [--api-key <key>]`
 * Replays an Amazon Connect contact flow event against the running local stack, as a contact flow would invoke the
 * `connect-contact` function, and prints the attributes the flow gets back. The local service `connect`
 * (local/services/connect.ts, URL in stack.json) does the invoking: the function has no HTTP route on AWS.
 * `--contact-id` / `--phone` override the event's ContactId and caller number (CustomerEndpoint.Address);
 * `--show` then fetches the call record the way the agent console does (`GET /api/agent/calls/{contactId}`).
 */
import { readFileSync } from 'node:fs';
import { parseArgs, str, UsageError } from '../lib/args.ts';
import { localStackInfo } from '../lib/stack.ts';
import { agentKey, stackUrl } from './import.ts';

export const summary = '回放 Amazon Connect 来电事件 replay a contact flow event against the local stack';

export const USAGE = `用法 usage:
  cityloop connect-event <event.json> [--contact-id <id>] [--phone <number>] [--show] [--url <connect url>]
                         [--agent <id>] [--api-key <key>]
  e.g. cityloop connect-event ../shared/data/aws-events/connectContactFlowEventAll.json --phone +8613800138000 --show
Exit code: 0 the call record was saved, 1 the function refused the event (see "error"), 2 usage error.`;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The event with the ContactId and the caller number replaced (missing objects are created). */
export function withOverrides(event: unknown, contactId?: string, phone?: string): unknown {
  if (!contactId && !phone) return event;
  if (!isObj(event)) throw new UsageError('事件不是 JSON 对象 the event is not a JSON object');
  const copy = structuredClone(event);
  if (!isObj(copy.Details)) copy.Details = {};
  const details = copy.Details as Obj;
  if (!isObj(details.ContactData)) details.ContactData = {};
  const data = details.ContactData as Obj;
  if (contactId) data.ContactId = contactId;
  if (phone) data.CustomerEndpoint = { Address: phone, Type: 'TELEPHONE_NUMBER' };
  return copy;
}

function connectUrl(explicit: string | undefined): string {
  if (explicit) return explicit;
  const info = localStackInfo();
  const described = info?.services?.connect;
  const url = described ? /http:\/\/127\.0\.0\.1:\d+\/connect/.exec(described)?.[0] : undefined;
  if (!url) {
    throw new UsageError(
      '找不到本地运行的系统或其 connect 服务 no local stack with a connect service: run `npm start` (or set CITYLOOP_DATA_DIR), or pass --url',
    );
  }
  return url;
}

export async function run(args: string[]): Promise<number> {
  try {
    return await replay(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

async function replay(args: string[]): Promise<number> {
  const p = parseArgs(args, {
    values: ['contact-id', 'phone', 'url', 'agent', 'api-key'],
    booleans: ['show', 'help'],
  });
  if (p.flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const file = p.positionals[0];
  if (!file || p.positionals.length > 1) throw new UsageError('请给出一个事件 JSON 文件 give one event file');
  let event: unknown;
  try {
    event = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`无法读取事件 cannot read ${file}: ${(e as Error).message}`);
  }
  event = withOverrides(event, str(p, 'contact-id'), str(p, 'phone'));
  const res = await fetch(connectUrl(str(p, 'url')), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
    signal: AbortSignal.timeout(15_000),
  });
  const attributes = (await res.json()) as Record<string, string>;
  process.stdout.write(`${JSON.stringify(attributes, null, 2)}\n`);
  if (res.status !== 200 || attributes.callRecord !== 'saved') return 1;
  if (p.flags.show) {
    const base = stackUrl(undefined);
    const call = await fetch(`${base}/api/agent/calls/${encodeURIComponent(attributes.contactId ?? '')}`, {
      headers: { 'x-api-key': agentKey(str(p, 'api-key'), str(p, 'agent')) },
      signal: AbortSignal.timeout(15_000),
    });
    process.stdout.write(`${JSON.stringify(await call.json(), null, 2)}\n`);
    if (call.status !== 200) return 1;
  }
  return 0;
}
