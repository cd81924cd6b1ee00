/**
 * In-memory stand-ins for DynamoDB, SQS and EventBridge behind aws-sdk-client-mock, so the REAL adapters
 * (DynamoStore, SqsWorkQueue, EventBridgeBus), handlers and CLI commands run unchanged, and faults are injected at the
 * SDK boundary: throttling, timeouts before or after a write is applied (a lost response), a conditional write that
 * loses a race, PutEvents entries that fail (FailedEntryCount), SQS batch entries refused, redelivery after the
 * visibility timeout, maxReceiveCount → DLQ. aws-sdk-client-mock replaces `send`, so the SDK's own retries are
 * bypassed: every injected fault reaches our code (a harsher world than AWS, where throttles are retried first).
 *
 * Expressions: a small evaluator for the condition/key/filter grammar (comparisons, BETWEEN, AND/OR/NOT, parentheses,
 * attribute_exists, attribute_not_exists, begins_with, contains) and update expressions (SET a = v, ADD a n, REMOVE a).
 * Paths may be document paths into maps (`#a.#b`) in conditions and in SET; a SET under a missing map raises
 * DynamoDB's ValidationException ("The document path provided in the update expression is invalid for update"), after
 * the condition was checked, as DynamoDB and dynalite do, and the item is left unchanged.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { compilePattern } from '#core/eventbridge/pattern.ts';
import { TABLE_INDEXES, type Topology } from '#core/topology.ts';

// ---- faults ------------------------------------------------------------------------------------------------------

/** What to do with one SDK call: nothing, fail before applying it, or apply it and then lose the response. */
export type Fault = 'none' | 'throttle' | 'timeout-before' | 'timeout-after';

/** Decides the fault of each call; `op` is e.g. `PutItem:RPT`, `UpdateItem:CASE`, `PutEvents`, `SendMessageBatch`. */
export type FaultPlan = (op: string) => Fault;

export const noFaults: FaultPlan = () => 'none';

export function throttleError(): Error {
  return new ProvisionedThroughputExceededException({ message: 'injected: throughput exceeded', $metadata: {} });
}

export function timeoutError(): Error {
  const e = new Error('injected: socket timeout, the response was lost');
  e.name = 'TimeoutError';
  return e;
}

function before(f: Fault): void {
  if (f === 'throttle') throw throttleError();
  if (f === 'timeout-before') throw timeoutError();
}

// ---- expressions ---------------------------------------------------------------------------------------------------

type Item = Record<string, unknown>;
type Ctx = { names: Record<string, string>; values: Record<string, unknown> };

type Node =
  | { k: 'or' | 'and'; a: Node; b: Node }
  | { k: 'not'; a: Node }
  | { k: 'cmp'; op: string; a: Operand; b: Operand }
  | { k: 'fn'; name: string; args: Operand[] };
type Operand = { path: string } | { value: string };

function tokenize(s: string): string[] {
  const out: string[] = [];
  // A path is one name or a document path of names (`#seen.#s0`, `a.b`).
  const re = /\s*(<=|>=|<>|[=<>(),]|[#:]?[A-Za-z_]\w*(?:\.#?[A-Za-z_]\w*)*|\S)/gy;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1]!);
  return out;
}

function parseCondition(expr: string): Node {
  const t = tokenize(expr);
  let i = 0;
  const peek = () => t[i];
  const take = (want?: string) => {
    const x = t[i++];
    if (x === undefined || (want !== undefined && x.toUpperCase() !== want)) {
      throw new Error(`fake DynamoDB: cannot parse "${expr}" near ${x ?? 'end'}`);
    }
    return x;
  };
  const operand = (): Operand => {
    const x = take();
    return x.startsWith(':') ? { value: x } : { path: x };
  };
  const factor = (): Node => {
    const x = peek();
    if (x?.toUpperCase() === 'NOT') {
      take();
      return { k: 'not', a: factor() };
    }
    if (x === '(') {
      take();
      const e = orExpr();
      take(')');
      return e;
    }
    if (x && /^(attribute_exists|attribute_not_exists|begins_with|contains)$/i.test(x) && t[i + 1] === '(') {
      take();
      take('(');
      const args = [operand()];
      while (peek() === ',') {
        take();
        args.push(operand());
      }
      take(')');
      return { k: 'fn', name: x.toLowerCase(), args };
    }
    const a = operand();
    const op = take();
    if (op.toUpperCase() === 'BETWEEN') {
      const lo = operand();
      take('AND');
      return { k: 'and', a: { k: 'cmp', op: '>=', a, b: lo }, b: { k: 'cmp', op: '<=', a, b: operand() } };
    }
    if (!['=', '<>', '<', '<=', '>', '>='].includes(op)) throw new Error(`fake DynamoDB: operator ${op} in "${expr}"`);
    return { k: 'cmp', op, a, b: operand() };
  };
  const andExpr = (): Node => {
    let a = factor();
    while (peek()?.toUpperCase() === 'AND') {
      take();
      a = { k: 'and', a, b: factor() };
    }
    return a;
  };
  const orExpr = (): Node => {
    let a = andExpr();
    while (peek()?.toUpperCase() === 'OR') {
      take();
      a = { k: 'or', a, b: andExpr() };
    }
    return a;
  };
  const node = orExpr();
  if (i !== t.length) throw new Error(`fake DynamoDB: trailing tokens in "${expr}"`);
  return node;
}

const attrName = (p: string, ctx: Ctx) => (p.startsWith('#') ? (ctx.names[p] ?? p) : p);
/** The names of a document path (`#a.#b` → [a, b]), each resolved through ExpressionAttributeNames. */
const pathNames = (p: string, ctx: Ctx) => p.split('.').map((seg) => attrName(seg, ctx));
const isMap = (x: unknown): x is Item =>
  typeof x === 'object' && x !== null && !(x instanceof Set) && !Array.isArray(x) && !ArrayBuffer.isView(x);
/** The value at a document path; undefined where the path or a map on it is missing. */
function readPath(item: Item, names: readonly string[]): unknown {
  let cur: unknown = item;
  for (const n of names) {
    if (!isMap(cur)) return undefined;
    cur = cur[n];
  }
  return cur;
}
const read = (o: Operand, item: Item, ctx: Ctx): unknown =>
  'value' in o ? ctx.values[o.value] : readPath(item, pathNames(o.path, ctx));

/** What DynamoDB answers to a SET of `a.b` where the map `a` does not exist (the item is left unchanged). */
export function invalidDocumentPathError(): Error {
  return Object.assign(new Error('The document path provided in the update expression is invalid for update'), {
    name: 'ValidationException',
  });
}

function evaluate(n: Node, item: Item, ctx: Ctx): boolean {
  switch (n.k) {
    case 'or':
      return evaluate(n.a, item, ctx) || evaluate(n.b, item, ctx);
    case 'and':
      return evaluate(n.a, item, ctx) && evaluate(n.b, item, ctx);
    case 'not':
      return !evaluate(n.a, item, ctx);
    case 'fn': {
      const [a, b] = n.args;
      if (n.name === 'attribute_exists') return read(a!, item, ctx) !== undefined;
      if (n.name === 'attribute_not_exists') return read(a!, item, ctx) === undefined;
      const x = read(a!, item, ctx);
      const y = read(b!, item, ctx);
      if (n.name === 'begins_with') return typeof x === 'string' && typeof y === 'string' && x.startsWith(y);
      if (x instanceof Set) return x.has(y);
      if (typeof x === 'string') return typeof y === 'string' && x.includes(y);
      return Array.isArray(x) && x.includes(y);
    }
    case 'cmp': {
      const x = read(n.a, item, ctx) as string | number | undefined;
      const y = read(n.b, item, ctx) as string | number | undefined;
      if (x === undefined || y === undefined) return n.op === '<>';
      switch (n.op) {
        case '=':
          return x === y;
        case '<>':
          return x !== y;
        case '<':
          return x < y;
        case '<=':
          return x <= y;
        case '>':
          return x > y;
        default:
          return x >= y;
      }
    }
  }
}

function applyUpdate(expr: string, item: Item, ctx: Ctx): void {
  const clauses = expr.split(/\b(SET|ADD|REMOVE)\b/i).filter((s) => s.trim() !== '');
  for (let i = 0; i < clauses.length; i += 2) {
    const verb = clauses[i]!.toUpperCase();
    for (const part of clauses[i + 1]!.split(',').map((s) => s.trim())) {
      if (verb === 'SET') {
        const [l, r] = part.split('=').map((s) => s.trim()) as [string, string];
        const value = r.startsWith(':') ? ctx.values[r] : readPath(item, pathNames(r, ctx));
        const path = pathNames(l, ctx);
        // A nested path needs its parent map to exist: DynamoDB refuses the whole update otherwise.
        const parent = readPath(item, path.slice(0, -1));
        if (!isMap(parent)) throw invalidDocumentPathError();
        parent[path[path.length - 1]!] = value;
      } else if (verb === 'REMOVE') {
        delete item[attrName(part, ctx)];
      } else if (verb === 'ADD') {
        const [l, r] = part.split(/\s+/) as [string, string];
        const name = attrName(l, ctx);
        const v = ctx.values[r];
        const cur = item[name];
        if (v instanceof Set) item[name] = new Set([...((cur as Set<unknown>) ?? []), ...v]);
        else item[name] = Number(cur ?? 0) + Number(v);
      } else throw new Error(`fake DynamoDB: update verb ${verb}`);
    }
  }
}

// ---- DynamoDB ------------------------------------------------------------------------------------------------------

const keyOf = (pk: unknown, sk: unknown) => `${String(pk)}\u0000${String(sk)}`;

/** Kind of item by its sort key or key prefix, for fault plans: RPT, CASE, SEQ, AGG, … */
function kindOf(key: Item): string {
  const sk = String(key.sk ?? '');
  if (sk === 'RPT' || sk === 'CASE' || sk === 'SEQ') return sk;
  return String(key.pk ?? '').split('#')[0] ?? 'ITEM';
}

export class FakeDynamo {
  readonly items = new Map<string, Item>();
  calls = 0;
  plan: FaultPlan = noFaults;
  /** Runs before a conditional PutItem is checked: a test writes the competing item here (a lost race). */
  beforeConditionalPut?: (item: Item) => void;

  install(): ReturnType<typeof mockClient> {
    const m = mockClient(DynamoDBClient);
    m.on(PutItemCommand).callsFake(async (input) =>
      this.run(`PutItem:${kindOf(unmarshall(input.Item))}`, () => this.put(input)),
    );
    m.on(GetItemCommand).callsFake(async (input) =>
      this.run(`GetItem:${kindOf(unmarshall(input.Key))}`, () => this.get(input)),
    );
    m.on(UpdateItemCommand).callsFake(async (input) =>
      this.run(`UpdateItem:${kindOf(unmarshall(input.Key))}`, () => this.update(input)),
    );
    m.on(QueryCommand).callsFake(async (input) => this.run('Query', () => this.query(input)));
    m.on(BatchGetItemCommand).callsFake(async (input) => this.run('BatchGetItem', () => this.batchGet(input)));
    m.on(BatchWriteItemCommand).callsFake(async (input) => this.run('BatchWriteItem', () => this.batchWrite(input)));
    m.on(ScanCommand).callsFake(async (input) => this.run('Scan', () => this.scan(input)));
    return m;
  }

  private run<T>(op: string, fn: () => T): T {
    this.calls++;
    const f = this.plan(op);
    before(f);
    const out = fn();
    if (f === 'timeout-after') throw timeoutError();
    return out;
  }

  private ctx(input: { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: unknown }): Ctx {
    return {
      names: input.ExpressionAttributeNames ?? {},
      values: input.ExpressionAttributeValues ? unmarshall(input.ExpressionAttributeValues as never) : {},
    };
  }

  private check(existing: Item | undefined, condition: string | undefined, ctx: Ctx, returnOld?: string): void {
    if (!condition) return;
    if (!evaluate(parseCondition(condition), existing ?? {}, ctx)) {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        ...(returnOld === 'ALL_OLD' && existing ? { Item: marshall(existing, { removeUndefinedValues: true }) } : {}),
      });
    }
  }

  batchGet(input: { RequestItems?: Record<string, { Keys?: unknown[] }> }) {
    const Responses: Record<string, unknown[]> = {};
    for (const [table, req] of Object.entries(input.RequestItems ?? {})) {
      Responses[table] = (req.Keys ?? []).flatMap((k) => {
        const key = unmarshall(k as never);
        const item = this.items.get(keyOf(key.pk, key.sk));
        return item ? [marshall(item, { removeUndefinedValues: true })] : [];
      });
    }
    return { Responses, UnprocessedKeys: {} };
  }

  batchWrite(input: {
    RequestItems?: Record<string, { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } }[]>;
  }) {
    for (const reqs of Object.values(input.RequestItems ?? {})) {
      for (const r of reqs) {
        if (r.PutRequest) {
          const item = unmarshall(r.PutRequest.Item as never);
          this.items.set(keyOf(item.pk, item.sk), structuredClone(item));
        } else if (r.DeleteRequest) {
          const key = unmarshall(r.DeleteRequest.Key as never);
          this.items.delete(keyOf(key.pk, key.sk));
        }
      }
    }
    return { UnprocessedItems: {} };
  }

  put(
    input: { Item?: unknown; ConditionExpression?: string; ReturnValuesOnConditionCheckFailure?: string } & Parameters<
      FakeDynamo['ctx']
    >[0],
  ) {
    const item = unmarshall(input.Item as never);
    if (input.ConditionExpression) this.beforeConditionalPut?.(item);
    const k = keyOf(item.pk, item.sk);
    this.check(
      this.items.get(k),
      input.ConditionExpression,
      this.ctx(input),
      input.ReturnValuesOnConditionCheckFailure,
    );
    this.items.set(k, structuredClone(item));
    return {};
  }

  get(input: { Key?: unknown }) {
    const key = unmarshall(input.Key as never);
    const item = this.items.get(keyOf(key.pk, key.sk));
    return item ? { Item: marshall(item, { removeUndefinedValues: true }) } : {};
  }

  update(
    input: {
      Key?: unknown;
      UpdateExpression?: string;
      ConditionExpression?: string;
      ReturnValues?: string;
      ReturnValuesOnConditionCheckFailure?: string;
    } & Parameters<FakeDynamo['ctx']>[0],
  ) {
    const key = unmarshall(input.Key as never);
    const k = keyOf(key.pk, key.sk);
    const existing = this.items.get(k);
    const ctx = this.ctx(input);
    this.check(existing, input.ConditionExpression, ctx, input.ReturnValuesOnConditionCheckFailure);
    const item: Item = structuredClone(existing ?? key);
    applyUpdate(input.UpdateExpression ?? '', item, ctx);
    this.items.set(k, item);
    return input.ReturnValues && input.ReturnValues !== 'NONE' ? { Attributes: marshall(item) } : {};
  }

  query(input: {
    IndexName?: string;
    KeyConditionExpression?: string;
    FilterExpression?: string;
    Limit?: number;
    ScanIndexForward?: boolean;
    ExclusiveStartKey?: unknown;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: unknown;
  }) {
    const ctx = this.ctx(input);
    const cond = parseCondition(input.KeyConditionExpression ?? '');
    const index = input.IndexName === undefined ? { pk: 'pk', sk: 'sk' } : INDEXES[input.IndexName];
    // As DynamoDB answers a Query on an index the table does not have.
    if (!index) {
      throw Object.assign(new Error(`The table does not have the specified index: ${input.IndexName}`), {
        name: 'ValidationException',
      });
    }
    let rows = [...this.items.values()]
      .filter((it) => it[index.pk] !== undefined && evaluate(cond, it, ctx))
      .sort((a, b) => String(a[index.sk] ?? '').localeCompare(String(b[index.sk] ?? '')));
    if (input.ScanIndexForward === false) rows.reverse();
    if (input.FilterExpression) {
      const f = parseCondition(input.FilterExpression);
      rows = rows.filter((it) => evaluate(f, it, ctx));
    }
    return this.page(rows, input.Limit, input.ExclusiveStartKey);
  }

  scan(input: {
    Segment?: number;
    TotalSegments?: number;
    FilterExpression?: string;
    Limit?: number;
    ExclusiveStartKey?: unknown;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: unknown;
  }) {
    const ctx = this.ctx(input);
    const total = input.TotalSegments ?? 1;
    const seg = input.Segment ?? 0;
    const all = [...this.items.values()].filter((it) => hash(keyOf(it.pk, it.sk)) % total === seg);
    // Pages of at most 25 items evaluated, as a 1 MB page would cut a big table.
    const start = input.ExclusiveStartKey ? unmarshall(input.ExclusiveStartKey as never) : undefined;
    const from = start ? all.findIndex((it) => keyOf(it.pk, it.sk) === keyOf(start.pk, start.sk)) + 1 : 0;
    const slice = all.slice(from, from + Math.min(input.Limit ?? 25, 25));
    const f = input.FilterExpression ? parseCondition(input.FilterExpression) : undefined;
    const items = f ? slice.filter((it) => evaluate(f, it, ctx)) : slice;
    const last = slice.at(-1);
    return {
      Items: items.map((it) => marshall(it, { removeUndefinedValues: true })),
      Count: items.length,
      ScannedCount: slice.length,
      ...(from + slice.length < all.length && last ? { LastEvaluatedKey: marshall({ pk: last.pk, sk: last.sk }) } : {}),
    };
  }

  private page(rows: Item[], limit: number | undefined, startKey: unknown) {
    const start = startKey ? unmarshall(startKey as never) : undefined;
    const from = start ? rows.findIndex((it) => keyOf(it.pk, it.sk) === keyOf(start.pk, start.sk)) + 1 : 0;
    const slice = rows.slice(from, limit ? from + limit : undefined);
    const last = slice.at(-1);
    return {
      Items: slice.map((it) => marshall(it, { removeUndefinedValues: true })),
      Count: slice.length,
      ...(limit && from + slice.length < rows.length && last
        ? { LastEvaluatedKey: marshall({ pk: last.pk, sk: last.sk }) }
        : {}),
    };
  }

  /** Items whose pk starts with `prefix`, parsed. */
  itemsOf(prefix: string): Item[] {
    return [...this.items.values()].filter((it) => String(it.pk).startsWith(prefix));
  }
}

/** The table's indexes, from the topology the stack deploys (so a new index is known here the day it is added). */
const INDEXES: Record<string, { pk: string; sk: string }> = Object.fromEntries(
  TABLE_INDEXES.map((i) => [i.name, { pk: i.pk, sk: i.sk }]),
);

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

// ---- SQS -----------------------------------------------------------------------------------------------------------

export interface FakeMessage {
  id: string;
  body: string;
  receiveCount: number;
  /** Virtual ms when it is visible again. */
  visibleAt: number;
  handle?: string;
  attributes?: Record<string, string>;
}

interface FakeQueue {
  id: string;
  url: string;
  arn: string;
  visibilityMs: number;
  maxReceiveCount?: number;
  dlq?: string;
  messages: FakeMessage[];
}

export class FakeSqs {
  readonly queues = new Map<string, FakeQueue>();
  /** Virtual time, ms; tests move it (visibility timeouts). */
  now = 0;
  plan: FaultPlan = noFaults;
  /** Probability-free refusal of batch entries: return the indexes to refuse in a SendMessageBatch. */
  refuseEntries?: (queueId: string, count: number) => number[];
  private seq = 0;

  constructor(topology: Topology) {
    for (const q of topology.queues) {
      this.queues.set(q.id, {
        id: q.id,
        url: FakeSqs.urlOf(q.id),
        arn: `arn:aws:sqs:us-east-1:000000000000:cityloop-${q.id}`,
        visibilityMs: q.visibilityTimeoutSec * 1000,
        ...(q.dlq ? { dlq: q.dlq, maxReceiveCount: q.maxReceiveCount } : {}),
        messages: [],
      });
    }
  }

  static urlOf(id: string): string {
    return `https://sqs.us-east-1.amazonaws.com/000000000000/cityloop-${id}`;
  }

  byUrl(url: string | undefined): FakeQueue {
    const q = [...this.queues.values()].find((x) => x.url === url);
    if (!q) throw new Error(`fake SQS: no queue ${url}`);
    return q;
  }

  byArn(arn: string): FakeQueue | undefined {
    return [...this.queues.values()].find((x) => x.arn === arn);
  }

  install(): ReturnType<typeof mockClient> {
    const m = mockClient(SQSClient);
    m.on(SendMessageBatchCommand).callsFake(async (input) =>
      this.run('SendMessageBatch', () => {
        const q = this.byUrl(input.QueueUrl);
        const entries = input.Entries ?? [];
        const refused = new Set(this.refuseEntries?.(q.id, entries.length) ?? []);
        const Successful: { Id: string; MessageId: string }[] = [];
        const Failed: { Id: string; Code: string; SenderFault: boolean; Message: string }[] = [];
        entries.forEach((e: { Id?: string; MessageBody?: string }, i: number) => {
          if (refused.has(i)) {
            Failed.push({ Id: e.Id!, Code: 'InternalError', SenderFault: false, Message: 'injected: entry refused' });
            return;
          }
          Successful.push({ Id: e.Id!, MessageId: this.send(q.id, e.MessageBody ?? '') });
        });
        return { Successful, ...(Failed.length ? { Failed } : {}) };
      }),
    );
    m.on(SendMessageCommand).callsFake(async (input) =>
      this.run('SendMessage', () => ({ MessageId: this.send(this.byUrl(input.QueueUrl).id, input.MessageBody ?? '') })),
    );
    m.on(ReceiveMessageCommand).callsFake(async (input) =>
      this.run('ReceiveMessage', () => {
        const q = this.byUrl(input.QueueUrl);
        const got = this.receive(q.id, input.MaxNumberOfMessages ?? 1, input.VisibilityTimeout);
        return {
          Messages: got.map((msg) => ({
            MessageId: msg.id,
            ReceiptHandle: msg.handle,
            Body: msg.body,
            Attributes: { ApproximateReceiveCount: String(msg.receiveCount), SentTimestamp: '0' },
            ...(msg.attributes
              ? {
                  MessageAttributes: Object.fromEntries(
                    Object.entries(msg.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
                  ),
                }
              : {}),
          })),
        };
      }),
    );
    m.on(DeleteMessageBatchCommand).callsFake(async (input) =>
      this.run('DeleteMessageBatch', () => {
        const q = this.byUrl(input.QueueUrl);
        for (const e of input.Entries ?? []) this.deleteByHandle(q.id, e.ReceiptHandle ?? '');
        return { Successful: (input.Entries ?? []).map((e: { Id?: string }) => ({ Id: e.Id! })) };
      }),
    );
    m.on(ChangeMessageVisibilityBatchCommand).callsFake(async (input) =>
      this.run('ChangeMessageVisibilityBatch', () => {
        const q = this.byUrl(input.QueueUrl);
        for (const e of input.Entries ?? []) {
          const msg = q.messages.find((x) => x.handle === e.ReceiptHandle);
          if (msg) msg.visibleAt = this.now + (e.VisibilityTimeout ?? 0) * 1000;
        }
        return { Successful: (input.Entries ?? []).map((e: { Id?: string }) => ({ Id: e.Id! })) };
      }),
    );
    m.on(GetQueueUrlCommand).callsFake(async (input) =>
      this.run('GetQueueUrl', () => {
        const q = [...this.queues.values()].find((x) => x.arn.endsWith(`:${input.QueueName}`));
        if (!q) throw Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
        return { QueueUrl: q.url };
      }),
    );
    m.on(GetQueueAttributesCommand).callsFake(async (input) =>
      this.run('GetQueueAttributes', () => {
        const q = this.byUrl(input.QueueUrl);
        const visible = q.messages.filter((x) => x.visibleAt <= this.now).length;
        return {
          Attributes: {
            QueueArn: q.arn,
            ApproximateNumberOfMessages: String(visible),
            ApproximateNumberOfMessagesNotVisible: String(q.messages.length - visible),
          },
        };
      }),
    );
    return m;
  }

  private run<T>(op: string, fn: () => T): T {
    const f = this.plan(op);
    before(f);
    const out = fn();
    if (f === 'timeout-after') throw timeoutError();
    return out;
  }

  send(queueId: string, body: string, attributes?: Record<string, string>): string {
    const q = this.queues.get(queueId);
    if (!q) throw new Error(`fake SQS: no queue ${queueId}`);
    const id = `m-${++this.seq}`;
    q.messages.push({ id, body, receiveCount: 0, visibleAt: this.now, ...(attributes ? { attributes } : {}) });
    return id;
  }

  /** Receives like SQS: visible messages, receive count +1, past maxReceiveCount moved to the DLQ instead. */
  receive(queueId: string, max: number, visibilitySec?: number): FakeMessage[] {
    const q = this.queues.get(queueId)!;
    const out: FakeMessage[] = [];
    for (const msg of [...q.messages]) {
      if (out.length >= Math.min(max, 10)) break;
      if (msg.visibleAt > this.now) continue;
      msg.receiveCount++;
      if (q.dlq && q.maxReceiveCount !== undefined && msg.receiveCount > q.maxReceiveCount) {
        q.messages.splice(q.messages.indexOf(msg), 1);
        this.queues.get(q.dlq)!.messages.push({ ...msg, visibleAt: this.now, handle: undefined });
        continue;
      }
      msg.handle = `${msg.id}#${msg.receiveCount}`;
      msg.visibleAt = this.now + (visibilitySec !== undefined ? visibilitySec * 1000 : q.visibilityMs);
      out.push({ ...msg });
    }
    return out;
  }

  deleteByHandle(queueId: string, handle: string): void {
    const q = this.queues.get(queueId)!;
    // Like SQS, only the latest receipt handle deletes (an expired one is ignored).
    const i = q.messages.findIndex((x) => x.handle === handle);
    if (i >= 0) q.messages.splice(i, 1);
  }

  /** The earliest instant a message of `queueId` becomes visible, if any is waiting. */
  nextVisible(queueId: string): number | undefined {
    const q = this.queues.get(queueId)!;
    return q.messages.length ? Math.min(...q.messages.map((m) => m.visibleAt)) : undefined;
  }

  bodies(queueId: string): string[] {
    return this.queues.get(queueId)!.messages.map((m) => m.body);
  }
}

// ---- EventBridge ---------------------------------------------------------------------------------------------------

export interface Envelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  'replay-name'?: string;
}

/**
 * The bus: the topology's rules (matched by our EventBridge pattern matcher) deliver to the fake SQS queues; every
 * accepted event is archived, and `replay` re-sends archived events to the rules, like StartReplay.
 */
export class FakeEventBridge {
  readonly archive: Envelope[] = [];
  plan: FaultPlan = noFaults;
  /** Indexes of entries to fail in one PutEvents call (FailedEntryCount). */
  failEntries?: (count: number) => number[];
  private readonly rules: { match: (e: unknown) => boolean; queue: string }[];
  private seq = 0;

  constructor(
    topology: Topology,
    private readonly sqs: FakeSqs,
  ) {
    this.rules = topology.rules.map((r) => ({ match: compilePattern(r.pattern), queue: r.targetQueue }));
  }

  install(): ReturnType<typeof mockClient> {
    const m = mockClient(EventBridgeClient);
    m.on(PutEventsCommand).callsFake(async (input) => {
      const f = this.plan('PutEvents');
      before(f);
      const out = this.put(input.Entries ?? []);
      if (f === 'timeout-after') throw timeoutError();
      return out;
    });
    return m;
  }

  put(entries: PutEventsRequestEntry[]) {
    const failed = new Set(this.failEntries?.(entries.length) ?? []);
    const Entries = entries.map((e, i) => {
      if (failed.has(i)) return { ErrorCode: 'InternalFailure', ErrorMessage: 'injected: entry failed' };
      const env: Envelope = {
        version: '0',
        id: `ev-${++this.seq}`,
        'detail-type': e.DetailType ?? '',
        source: e.Source ?? '',
        account: '000000000000',
        time: new Date(0).toISOString(),
        region: 'us-east-1',
        resources: e.Resources ?? [],
        detail: JSON.parse(e.Detail ?? '{}'),
      };
      this.archive.push(env);
      this.route(env);
      return { EventId: env.id };
    });
    return { FailedEntryCount: failed.size, Entries };
  }

  private route(env: Envelope): void {
    for (const r of this.rules) if (r.match(env)) this.sqs.send(r.queue, JSON.stringify(env));
  }

  /** StartReplay of the whole archive to the source bus: every rule sees each archived event again. */
  replay(name = 'replay-1'): number {
    const events = [...this.archive];
    for (const e of events) this.route({ ...e, 'replay-name': name });
    return events.length;
  }
}
