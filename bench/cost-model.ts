/**
 * The cost model of the hot path: DynamoDB capacity units from item sizes (on-demand rules), EventBridge events and
 * SQS requests in 64 KB chunks, Lambda requests and GB-seconds, priced at public on-demand list prices; and the same
 * usage for a naive design (one call per step, no batching) for comparison. Pure: the counter (`aws-counter.ts`)
 * feeds it.
 */

/**
 * On-demand list prices, us-east-1, per unit. Source: AWS public pricing pages, us-east-1, as known to the author
 * (Lambda, DynamoDB on-demand, EventBridge, SQS). Edit here when prices change; every table is computed from these.
 */
export const PRICES = {
  source: 'AWS public pricing pages, us-east-1, as known to the author',
  /** Lambda on Arm (Graviton), per GB-second. */
  lambdaArmGbSecond: 0.0000133334,
  /** Lambda, per request. */
  lambdaRequest: 0.2 / 1e6,
  /** DynamoDB on-demand, per write request unit (1 KB). */
  dynamoWru: 0.625 / 1e6,
  /** DynamoDB on-demand, per read request unit (4 KB strongly consistent; eventually consistent = ½). */
  dynamoRru: 0.125 / 1e6,
  /** EventBridge custom events, per event (each 64 KB chunk of an entry is one event). */
  eventBridgeEvent: 1.0 / 1e6,
  /** SQS standard queue, per request (each 64 KB chunk of a payload is one request). */
  sqsRequest: 0.4 / 1e6,
} as const;

export type Prices = Omit<typeof PRICES, 'source'> & { source: string };

// ---------------------------------------------------------------------------------------------------------------
// DynamoDB item sizes and capacity units
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
// ---------------------------------------------------------------------------------------------------------------

/** A DynamoDB AttributeValue as it travels on the wire (`{ S: 'x' }`, `{ N: '1' }`, `{ M: {...} }` ...). */
export type WireValue = Record<string, unknown>;
export type WireItem = Record<string, WireValue>;

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Size of a number: about 1 byte per 2 significant digits, plus 1 (at most 21). */
export function numberSize(n: string): number {
  const digits = n.replace(/^[-+]/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.min(21, Math.ceil(Math.max(1, digits.length) / 2) + 1);
}

function byteLength(b: unknown): number {
  if (typeof b === 'string') return Buffer.from(b, 'base64').length;
  if (b instanceof Uint8Array) return b.length;
  return 0;
}

/** Size of one attribute value by the DynamoDB rules (strings UTF-8, lists/maps 3 bytes + 1 per element). */
export function valueSize(v: WireValue): number {
  const [type, val] = Object.entries(v)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return utf8(String(val));
    case 'N':
      return numberSize(String(val));
    case 'B':
      return byteLength(val);
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (val as string[]).reduce((s, x) => s + utf8(x), 0);
    case 'NS':
      return (val as string[]).reduce((s, x) => s + numberSize(x), 0);
    case 'BS':
      return (val as unknown[]).reduce<number>((s, x) => s + byteLength(x), 0);
    case 'L':
      return 3 + (val as WireValue[]).reduce((s, x) => s + 1 + valueSize(x), 0);
    case 'M': {
      const m = val as WireItem;
      return 3 + Object.entries(m).reduce((s, [k, x]) => s + 1 + utf8(k) + valueSize(x), 0);
    }
    default:
      return 0;
  }
}

/** Item size: the sum of attribute name lengths (UTF-8) and value sizes. */
export function itemSize(item: WireItem | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, v] of Object.entries(item)) size += utf8(name) + valueSize(v);
  return size;
}

/** Write request units for an item of `bytes`: 1 per KB, rounded up, at least 1. */
export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/** Read request units for `bytes` read: 1 per 4 KB (strongly consistent), half that eventually consistent; ≥ ½. */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistent ? units : units / 2;
}

/** What a GSI carries besides the keys: everything, nothing, or the listed attributes. */
export type IndexProjection = 'ALL' | 'KEYS_ONLY' | readonly string[];

export interface IndexKeys {
  name: string;
  pk: string;
  sk?: string;
  /** Absent: `MODELLED_PROJECTIONS[name]`, else ALL. */
  projection?: IndexProjection;
}

/**
 * The GSI projections the stack declares on AWS (`GSI_PROJECTIONS` in infra/stack.ts; a unit test keeps the two in
 * step). The local emulators create every index with ALL, so the model applies these to price what AWS bills.
 */
export const MODELLED_PROJECTIONS: Readonly<Record<string, IndexProjection>> = {
  due: ['version'],
  reqday: 'KEYS_ONLY',
};

/** The index entry of an item: the table's and the index's keys, and the projected attributes. */
function projected(item: WireItem, ix: IndexKeys, tableKeys: readonly string[]): WireItem {
  const p = ix.projection ?? MODELLED_PROJECTIONS[ix.name] ?? 'ALL';
  if (p === 'ALL') return item;
  const keep = new Set([...tableKeys, ix.pk, ...(ix.sk ? [ix.sk] : []), ...(p === 'KEYS_ONLY' ? [] : p)]);
  return Object.fromEntries(Object.entries(item).filter(([k]) => keep.has(k)));
}

const keyOf = (item: WireItem | undefined, ix: IndexKeys): string | undefined => {
  if (!item?.[ix.pk] || (ix.sk && !item[ix.sk])) return undefined;
  return JSON.stringify([item[ix.pk], ix.sk ? item[ix.sk] : null]);
};

/**
 * Write units a table write costs in each global secondary index: entering or leaving the index 1 write, a changed
 * index key 2 (delete + put), a change of projected attributes under the same key 1, not in the index before or
 * after 0. Each write is sized like the index entry it carries: the whole item for projection ALL, the keys and the
 * included attributes otherwise (`IndexKeys.projection`, default `MODELLED_PROJECTIONS`).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
 */
export function indexWriteUnits(
  before: WireItem | undefined,
  after: WireItem | undefined,
  indexes: readonly IndexKeys[],
  tableKeys: readonly string[] = ['pk', 'sk'],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const ix of indexes) {
    const a = keyOf(before, ix);
    const b = keyOf(after, ix);
    const pb = before ? projected(before, ix, tableKeys) : undefined;
    const pa = after ? projected(after, ix, tableKeys) : undefined;
    let units = 0;
    if (a && b) {
      if (a !== b) units = writeUnits(itemSize(pb)) + writeUnits(itemSize(pa));
      else if (JSON.stringify(pb) !== JSON.stringify(pa)) units = writeUnits(Math.max(itemSize(pb), itemSize(pa)));
    } else if (b) units = writeUnits(itemSize(pa));
    else if (a) units = writeUnits(itemSize(pb));
    if (units > 0) out[ix.name] = units;
  }
  return out;
}

/**
 * Table write units of one single-item write: the larger of the item before and after (PutItem, UpdateItem), the
 * deleted item (DeleteItem); a write whose condition failed still costs the existing item's size (at least 1).
 */
export function tableWriteUnits(before: WireItem | undefined, after: WireItem | undefined, succeeded: boolean): number {
  if (!succeeded) return writeUnits(itemSize(before));
  return writeUnits(Math.max(itemSize(before), itemSize(after)));
}

// ---------------------------------------------------------------------------------------------------------------
// EventBridge and SQS billing units
// ---------------------------------------------------------------------------------------------------------------

export const CHUNK_64K = 64 * 1024;

/**
 * Size of a PutEvents entry as EventBridge bills it: 14 bytes for the time if set, plus the UTF-8 bytes of Source,
 * DetailType, Detail and each Resource. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export function putEventsEntrySize(e: {
  Time?: unknown;
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
}): number {
  let size = e.Time ? 14 : 0;
  for (const s of [e.Source, e.DetailType, e.Detail]) if (s) size += utf8(s);
  for (const r of e.Resources ?? []) size += utf8(r);
  return size;
}

/** Billed units of a payload in 64 KB chunks (EventBridge events, SQS requests): at least 1. */
export const chunks64k = (bytes: number): number => Math.max(1, Math.ceil(bytes / CHUNK_64K));

// ---------------------------------------------------------------------------------------------------------------
// Usage per report and its price
// ---------------------------------------------------------------------------------------------------------------

export interface LambdaUsage {
  function: string;
  memoryMb: number;
  /** Invocations per report. */
  invocations: number;
  /** Billed duration per invocation, ms (Lambda bills by the 1 ms). */
  durationMs: number;
}

/** What one report costs in billing units (amortized: batches divided by their size). */
export interface UsagePerReport {
  lambda: LambdaUsage[];
  dynamoWru: number;
  dynamoRru: number;
  /** Billed EventBridge events (64 KB chunks of PutEvents entries). */
  events: number;
  /** Billed SQS requests (64 KB chunks), ours and the service's (Lambda event source polling, rule delivery). */
  sqsRequests: number;
}

export interface CostPerMillion {
  lambda: number;
  dynamodb: number;
  eventbridge: number;
  sqs: number;
  total: number;
}

export function lambdaGbSeconds(l: LambdaUsage): number {
  return l.invocations * (Math.ceil(l.durationMs) / 1000) * (l.memoryMb / 1024);
}

/** USD per million reports. */
export function costPerMillion(u: UsagePerReport, prices: Prices = PRICES): CostPerMillion {
  const M = 1e6;
  const lambda =
    M *
    u.lambda.reduce(
      (s, l) => s + l.invocations * prices.lambdaRequest + lambdaGbSeconds(l) * prices.lambdaArmGbSecond,
      0,
    );
  const dynamodb = M * (u.dynamoWru * prices.dynamoWru + u.dynamoRru * prices.dynamoRru);
  const eventbridge = M * u.events * prices.eventBridgeEvent;
  const sqs = M * u.sqsRequests * prices.sqsRequest;
  return { lambda, dynamodb, eventbridge, sqs, total: lambda + dynamodb + eventbridge + sqs };
}

/**
 * Billed duration of an invocation from its shape: sequential AWS round trips × the in-region latency of one call,
 * plus CPU. Local emulators answer at other speeds than AWS does, so the count of sequential rounds is measured and
 * the latency is an assumption (editable).
 */
export const LATENCY = {
  /** One DynamoDB/SQS/EventBridge call from Lambda in the same region, typical (ms). */
  awsCallMs: 8,
  /** CPU of a handler per report (parse, validate, classify, serialize), ms; the pipeline bench measures ~0.1–0.3. */
  cpuPerReportMs: 1,
  /** Fixed cost of an invocation in the runtime (event parsing, middy, logging), ms. */
  invocationOverheadMs: 2,
} as const;

export function modelDurationMs(sequentialCalls: number, reports: number, latency = LATENCY): number {
  return Math.ceil(
    latency.invocationOverheadMs + sequentialCalls * latency.awsCallMs + reports * latency.cpuPerReportMs,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// From measured calls to usage per report, for our design and for the naive one
// ---------------------------------------------------------------------------------------------------------------

/** One counted call (the fields of `AwsCall` the model reads). */
export interface MeasuredCall {
  service: string;
  op: string;
  entries: number;
  ok: boolean;
  rru: number;
  wru: number;
  indexWru: Record<string, number>;
  billed: number;
  bytes: number;
  scope: string;
  item?: string;
}

export interface MeasuredFunction {
  function: string;
  /** The scope its calls were counted under. */
  scope: string;
  memoryMb: number;
  invocations: number;
  /** Sequential AWS rounds, summed over the invocations. */
  rounds: number;
}

/** What a benchmark measured on the hot path for `reports` accepted reports. */
export interface MeasuredPath {
  reports: number;
  calls: MeasuredCall[];
  functions: MeasuredFunction[];
}

/** Calls made by our functions (not by the Lambda event source or EventBridge rule delivery). */
export const isOurCall = (c: Pick<MeasuredCall, 'scope'>, functions: readonly MeasuredFunction[]): boolean =>
  functions.some((f) => f.scope === c.scope);

export function usageOf(path: MeasuredPath, latency = LATENCY): UsagePerReport {
  const n = Math.max(1, path.reports);
  const sum = (f: (c: MeasuredCall) => number, pred: (c: MeasuredCall) => boolean = () => true) =>
    path.calls.filter(pred).reduce((s, c) => s + f(c), 0) / n;
  return {
    lambda: path.functions.map((f) => ({
      function: f.function,
      memoryMb: f.memoryMb,
      invocations: f.invocations / n,
      durationMs: modelDurationMs(f.rounds / Math.max(1, f.invocations), n / Math.max(1, f.invocations), latency),
    })),
    dynamoWru: sum(
      (c) => c.wru + Object.values(c.indexWru).reduce((s, x) => s + x, 0),
      (c) => c.service === 'dynamodb',
    ),
    dynamoRru: sum(
      (c) => c.rru,
      (c) => c.service === 'dynamodb',
    ),
    events: sum(
      (c) => c.billed,
      (c) => c.service === 'eventbridge',
    ),
    sqsRequests: sum(
      (c) => c.billed,
      (c) => c.service === 'sqs',
    ),
  };
}

/** Requests our functions make per report (DynamoDB, PutEvents, SQS sends): the figure with the ≤ 3 target. */
export function ourRequestsPerReport(path: MeasuredPath): number {
  return path.calls.filter((c) => isOurCall(c, path.functions)).length / Math.max(1, path.reports);
}

const BATCH_OPS = new Set([
  'SendMessageBatch',
  'DeleteMessageBatch',
  'PutEvents',
  'ReceiveMessage',
  'BatchGetItem',
  'BatchWriteItem',
]);

/** One entry's share of a batched call (capacity units split evenly; SQS billed per request). */
function share(c: MeasuredCall): MeasuredCall {
  const n = c.entries;
  const each = c.bytes / n;
  const indexWru = Object.fromEntries(Object.entries(c.indexWru).map(([k, v]) => [k, v / n]));
  const billed = c.service === 'sqs' ? chunks64k(each) : c.billed / n;
  return { ...c, entries: 1, bytes: each, billed, rru: c.rru / n, wru: c.wru / n, indexWru };
}

/**
 * The same hot path, built naively: one call per step and no batching. Every batched call becomes one call per
 * entry (SQS send/receive/delete, PutEvents, DynamoDB batch reads and writes); the triage consumer takes one message per invocation and reads the
 * report from the table (our intake message carries the whole report); tracking numbers are reserved one at a time
 * (ours: blocks of 20); each function awaits its calls one after the other. Billed EventBridge events do not change
 * (EventBridge bills per entry); SQS requests, Lambda invocations and GB-seconds do.
 */
export function naivePath(path: MeasuredPath, triageScope = 'triage'): MeasuredPath {
  const calls: MeasuredCall[] = [];
  for (const c of path.calls) {
    if (c.item === 'SEQ') continue;
    if (BATCH_OPS.has(c.op) && c.entries > 1) {
      const one = share(c);
      for (let i = 0; i < c.entries; i++) calls.push({ ...one });
    } else calls.push(c);
  }
  const reports = path.reports;
  const seqScope = path.calls.find((c) => c.item === 'SEQ')?.scope ?? path.functions[0]?.scope ?? 'intake';
  const reportBytes = avg(path.calls.filter((c) => c.item === 'RPT' && c.op === 'PutItem').map((c) => c.bytes));
  for (let i = 0; i < reports; i++) {
    calls.push({ ...emptyCall('dynamodb', 'UpdateItem', seqScope), wru: 1, item: 'SEQ' });
    calls.push({ ...emptyCall('dynamodb', 'GetItem', triageScope), rru: readUnits(reportBytes, true), item: 'RPT' });
  }
  const functions = path.functions.map((f) => {
    const mine = calls.filter((c) => c.scope === f.scope).length;
    const invocations = f.scope === triageScope ? reports : f.invocations;
    return { ...f, invocations, rounds: mine };
  });
  return { reports, calls, functions };
}

function emptyCall(service: string, op: string, scope: string): MeasuredCall {
  return { service, op, entries: 1, ok: true, rru: 0, wru: 0, indexWru: {}, billed: 0, bytes: 0, scope };
}

const avg = (xs: readonly number[]): number => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
