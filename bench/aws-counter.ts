/**
 * Counts every AWS SDK call the code makes, on real clients against the local emulators: the `send` of each client
 * class (DynamoDB, SQS, EventBridge, S3, SES v2) is wrapped once, so clients created anywhere (the adapters'
 * module-scope singletons, the emulators' own) are counted, with billing units:
 * - DynamoDB: read units from the items read, write units from the item before and after each write (read aside,
 *   uncounted, with the original `send`), and the writes each global secondary index takes (`cost-model.ts`);
 * - SQS: requests in 64 KB chunks; EventBridge: PutEvents entries and billed events.
 * Calls are labelled with a scope (`run('intake', fn)`, AsyncLocalStorage), and each scope run counts its sequential
 * rounds (how often its in-flight calls went from 0 to 1): the shape of the invocation's critical path.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DescribeTableCommand, DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  chunks64k,
  type IndexKeys,
  indexWriteUnits,
  itemSize,
  putEventsEntrySize,
  readUnits,
  tableWriteUnits,
  type WireItem,
} from './cost-model.ts';

export type Service = 'dynamodb' | 'sqs' | 'eventbridge' | 's3' | 'sesv2';

export interface AwsCall {
  service: Service;
  /** Operation without the `Command` suffix: `PutItem`, `SendMessageBatch`, `PutEvents`. */
  op: string;
  /** Table name, queue name (the URL's last segment) or bus name. */
  target: string;
  /** Items, messages or events the call carried (1 for single-item calls). */
  entries: number;
  ok: boolean;
  /** Error name when the call failed (e.g. `ConditionalCheckFailedException`). */
  error?: string;
  /** DynamoDB table read/write units, and write units per GSI. */
  rru: number;
  wru: number;
  indexWru: Record<string, number>;
  /** SQS billed requests / EventBridge billed events (64 KB chunks). */
  billed: number;
  /** Payload bytes (message bodies, event entries, items written). */
  bytes: number;
  /** DynamoDB single-item calls: the item kind, the partition key's prefix (`RPT`, `CASE`, `SEQ`, `AGGMON` …). */
  item?: string;
  /** DynamoDB queries: the index read (absent: the table). */
  index?: string;
  scope: string;
}

interface ScopeState {
  scope: string;
  inflight: number;
  rounds: number;
}

type Send = (this: unknown, command: unknown, ...rest: unknown[]) => Promise<unknown>;
type ClientClass = { prototype: { send: Send } };

const CLIENTS: [Service, ClientClass][] = [
  ['dynamodb', DynamoDBClient as unknown as ClientClass],
  ['sqs', SQSClient as unknown as ClientClass],
  ['eventbridge', EventBridgeClient as unknown as ClientClass],
  ['s3', S3Client as unknown as ClientClass],
  ['sesv2', SESv2Client as unknown as ClientClass],
];

const opOf = (command: unknown): string =>
  String((command as { constructor?: { name?: string } })?.constructor?.name ?? 'Unknown').replace(/Command$/, '');

interface TableShape {
  keys: string[];
  indexes: IndexKeys[];
}

// biome-ignore lint/suspicious/noExplicitAny: SDK inputs and outputs are inspected generically
type Any = any;

export class AwsCallCounter {
  readonly calls: AwsCall[] = [];
  /** Read items aside to size DynamoDB writes (off: counts only, no extra load). */
  measureCapacity = true;
  private readonly als = new AsyncLocalStorage<ScopeState>();
  private readonly originals = new Map<ClientClass, Send>();
  private readonly tables = new Map<string, Promise<TableShape>>();

  /** Wraps `send` of every client class; idempotent. */
  install(): this {
    for (const [service, cls] of CLIENTS) {
      if (this.originals.has(cls)) continue;
      const hadOwn = Object.hasOwn(cls.prototype, 'send');
      const original = cls.prototype.send;
      this.originals.set(cls, original);
      const counter = this;
      const wrapped: Send = function countedSend(this: unknown, command: unknown, ...rest: unknown[]) {
        return counter.record(service, original, this, command, rest);
      };
      Object.defineProperty(cls.prototype, 'send', { value: wrapped, configurable: true, writable: true });
      if (!hadOwn) (wrapped as Send & { inherited?: boolean }).inherited = true;
    }
    return this;
  }

  uninstall(): void {
    for (const [cls, original] of this.originals) {
      const own = cls.prototype.send as Send & { inherited?: boolean };
      if (own.inherited) delete (cls.prototype as { send?: Send }).send;
      else Object.defineProperty(cls.prototype, 'send', { value: original, configurable: true, writable: true });
    }
    this.originals.clear();
  }

  reset(): void {
    this.calls.length = 0;
  }

  /** Runs `fn` with its calls labelled `scope`; returns its value and its sequential AWS rounds. */
  async run<T>(scope: string, fn: () => Promise<T>): Promise<{ value: T; rounds: number }> {
    const state: ScopeState = { scope, inflight: 0, rounds: 0 };
    const value = await this.als.run(state, fn);
    return { value, rounds: state.rounds };
  }

  private async record(service: Service, send: Send, client: unknown, command: Any, rest: unknown[]): Promise<unknown> {
    const state = this.als.getStore();
    if (state && state.inflight++ === 0) state.rounds++;
    const input = command?.input ?? {};
    const op = opOf(command);
    const call: AwsCall = {
      service,
      op,
      target: targetOf(service, input),
      entries: entriesOf(service, op, input),
      ok: true,
      rru: 0,
      wru: 0,
      indexWru: {},
      billed: 0,
      bytes: 0,
      scope: state?.scope ?? 'other',
    };
    if (service === 'dynamodb') {
      const pk = input.Item?.pk?.S ?? input.Key?.pk?.S;
      if (typeof pk === 'string') call.item = pk.split('#')[0];
      if (input.IndexName) call.index = String(input.IndexName);
    }
    const sizing = service === 'dynamodb' && this.measureCapacity;
    const side = (c: unknown) => send.call(client, c) as Promise<Any>;
    let before: WireItem[] | undefined;
    try {
      if (sizing && isWrite(op)) before = await this.readAside(side, input, op);
      let output: Any;
      try {
        output = await send.call(client, command, ...rest);
      } catch (e) {
        call.ok = false;
        call.error = (e as Error).name;
        throw e;
      } finally {
        if (state) state.inflight--;
      }
      if (service === 'dynamodb' && sizing) await this.sizeDynamo(call, side, op, input, output, before);
      if (service === 'sqs') this.sizeSqs(call, op, input, output);
      if (service === 'eventbridge') this.sizeEvents(call, op, input, output);
      return output;
    } catch (e) {
      if (sizing && !call.ok && isWrite(op)) {
        // A failed condition still costs the existing item's size (at least 1 unit).
        call.wru = tableWriteUnits(before?.[0], undefined, false);
      }
      throw e;
    } finally {
      this.calls.push(call);
    }
  }

  private shape(side: (c: unknown) => Promise<Any>, table: string): Promise<TableShape> {
    let p = this.tables.get(table);
    if (!p) {
      p = side(new DescribeTableCommand({ TableName: table })).then((out: Any) => {
        const t = out.Table ?? {};
        const keyNames = (ks: Any[] = []) => ks.map((k) => String(k.AttributeName));
        const indexes: IndexKeys[] = (t.GlobalSecondaryIndexes ?? []).map((g: Any) => {
          const [pk, sk] = [
            g.KeySchema?.find((k: Any) => k.KeyType === 'HASH')?.AttributeName,
            g.KeySchema?.find((k: Any) => k.KeyType === 'RANGE')?.AttributeName,
          ];
          return { name: String(g.IndexName), pk: String(pk), ...(sk ? { sk: String(sk) } : {}) };
        });
        return { keys: keyNames(t.KeySchema), indexes };
      });
      this.tables.set(table, p);
    }
    return p;
  }

  /** The items a write will touch, as they are before it. */
  private async readAside(side: (c: unknown) => Promise<Any>, input: Any, op: string): Promise<WireItem[]> {
    const keysOf = async (table: string, item: Any) => {
      const { keys } = await this.shape(side, table);
      return Object.fromEntries(keys.map((k) => [k, item[k]]));
    };
    const get = async (table: string, key: Any) =>
      (await side(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item as WireItem;
    if (op === 'PutItem') return [await get(input.TableName, await keysOf(input.TableName, input.Item))];
    if (op === 'UpdateItem' || op === 'DeleteItem') return [await get(input.TableName, input.Key)];
    if (op === 'BatchWriteItem') {
      const out: WireItem[] = [];
      for (const [table, reqs] of Object.entries(input.RequestItems ?? {}) as [string, Any[]][]) {
        for (const r of reqs) {
          out.push(await get(table, r.PutRequest ? await keysOf(table, r.PutRequest.Item) : r.DeleteRequest?.Key));
        }
      }
      return out;
    }
    return [];
  }

  private async sizeDynamo(
    call: AwsCall,
    side: (c: unknown) => Promise<Any>,
    op: string,
    input: Any,
    output: Any,
    before: WireItem[] | undefined,
  ): Promise<void> {
    const table = String(input.TableName ?? '');
    if (op === 'GetItem') {
      call.rru = readUnits(itemSize(output?.Item), input.ConsistentRead === true);
      return;
    }
    if (op === 'Query' || op === 'Scan') {
      // Billed on what was read (the whole items), not on the projection returned.
      const full = input.ProjectionExpression
        ? await side(
            new QueryCommand({
              ...input,
              ProjectionExpression: undefined,
              ExpressionAttributeNames: namesWithout(input),
            }),
          )
        : output;
      const bytes = (full?.Items ?? []).reduce((s: number, i: WireItem) => s + itemSize(i), 0);
      call.rru = readUnits(bytes, input.ConsistentRead === true && !input.IndexName);
      return;
    }
    if (op === 'BatchGetItem') {
      for (const [t, items] of Object.entries(output?.Responses ?? {}) as [string, WireItem[]][]) {
        const consistent = input.RequestItems?.[t]?.ConsistentRead === true;
        for (const i of items) call.rru += readUnits(itemSize(i), consistent);
      }
      return;
    }
    if (!isWrite(op)) return;
    const { indexes } = await this.shape(side, table || Object.keys(input.RequestItems ?? {})[0] || '');
    const after = async (key: Any, t = table) =>
      (await side(new GetItemCommand({ TableName: t, Key: key, ConsistentRead: true }))).Item as WireItem | undefined;
    const pairs: [WireItem | undefined, WireItem | undefined][] = [];
    if (op === 'PutItem') pairs.push([before?.[0], input.Item]);
    else if (op === 'UpdateItem') pairs.push([before?.[0], await after(input.Key)]);
    else if (op === 'DeleteItem') pairs.push([before?.[0], undefined]);
    else if (op === 'BatchWriteItem') {
      let k = 0;
      for (const [, reqs] of Object.entries(input.RequestItems ?? {}) as [string, Any[]][]) {
        for (const r of reqs) pairs.push([before?.[k++], r.PutRequest ? r.PutRequest.Item : undefined]);
      }
    }
    for (const [b, a] of pairs) {
      call.wru += tableWriteUnits(b, a, true);
      call.bytes += itemSize(a);
      for (const [ix, u] of Object.entries(indexWriteUnits(b, a, indexes)))
        call.indexWru[ix] = (call.indexWru[ix] ?? 0) + u;
    }
  }

  private sizeSqs(call: AwsCall, op: string, input: Any, output: Any): void {
    const bodyBytes = (m: Any) => Buffer.byteLength(String(m?.MessageBody ?? m?.Body ?? ''), 'utf8');
    if (op === 'SendMessage') call.bytes = bodyBytes(input);
    else if (op === 'SendMessageBatch')
      call.bytes = (input.Entries ?? []).reduce((s: number, e: Any) => s + bodyBytes(e), 0);
    else if (op === 'ReceiveMessage') {
      call.entries = output?.Messages?.length ?? 0;
      call.bytes = (output?.Messages ?? []).reduce((s: number, m: Any) => s + bodyBytes(m), 0);
    }
    call.billed = chunks64k(call.bytes);
  }

  private sizeEvents(call: AwsCall, op: string, input: Any, output: Any): void {
    if (op !== 'PutEvents') return;
    const results: Any[] = output?.Entries ?? [];
    (input.Entries ?? []).forEach((e: Any, i: number) => {
      const size = putEventsEntrySize(e);
      call.bytes += size;
      if (!results[i]?.ErrorCode) call.billed += chunks64k(size);
    });
  }
}

const isWrite = (op: string): boolean => ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'].includes(op);

/** ExpressionAttributeNames still used once the projection is dropped (the SDK refuses unused ones). */
function namesWithout(input: Any): Record<string, string> | undefined {
  const names = input.ExpressionAttributeNames as Record<string, string> | undefined;
  if (!names) return undefined;
  const used = [input.KeyConditionExpression, input.FilterExpression].filter(Boolean).join(' ');
  const kept = Object.fromEntries(Object.entries(names).filter(([k]) => used.includes(k)));
  return Object.keys(kept).length ? kept : undefined;
}

function targetOf(service: Service, input: Any): string {
  if (service === 'dynamodb') return String(input.TableName ?? Object.keys(input.RequestItems ?? {})[0] ?? '');
  if (service === 'sqs')
    return (
      String(input.QueueUrl ?? '')
        .split('/')
        .pop() ?? ''
    );
  if (service === 'eventbridge')
    return String(input.Entries?.[0]?.EventBusName ?? input.EventBusName ?? input.Name ?? '');
  if (service === 's3') return String(input.Bucket ?? '');
  return '';
}

function entriesOf(service: Service, op: string, input: Any): number {
  if (service === 'sqs' && (op === 'SendMessageBatch' || op === 'DeleteMessageBatch'))
    return input.Entries?.length ?? 0;
  if (service === 'eventbridge' && op === 'PutEvents') return input.Entries?.length ?? 0;
  if (op === 'BatchWriteItem' || op === 'BatchGetItem') {
    return Object.values((input.RequestItems ?? {}) as Record<string, Any>).reduce(
      (s: number, r: Any) => s + (Array.isArray(r) ? r.length : (r.Keys?.length ?? 0)),
      0,
    );
  }
  return 1;
}

export interface OpTally {
  key: string;
  calls: number;
  entries: number;
  failed: number;
  rru: number;
  wru: number;
  indexWru: number;
  billed: number;
}

/** Sums calls by a key (default: `service op target`), in first-seen order. */
export function tally(calls: readonly AwsCall[], keyOf = (c: AwsCall) => `${c.service} ${c.op}`): OpTally[] {
  const by = new Map<string, OpTally>();
  for (const c of calls) {
    const k = keyOf(c);
    let t = by.get(k);
    if (!t) {
      t = { key: k, calls: 0, entries: 0, failed: 0, rru: 0, wru: 0, indexWru: 0, billed: 0 };
      by.set(k, t);
    }
    t.calls++;
    t.entries += c.entries;
    if (!c.ok) t.failed++;
    t.rru += c.rru;
    t.wru += c.wru;
    t.indexWru += Object.values(c.indexWru).reduce((s, x) => s + x, 0);
    t.billed += c.billed;
  }
  return [...by.values()];
}
