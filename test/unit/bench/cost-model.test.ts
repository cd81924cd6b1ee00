import { describe, expect, it } from 'vitest';
import {
  chunks64k,
  costPerMillion,
  indexWriteUnits,
  itemSize,
  type MeasuredCall,
  type MeasuredPath,
  MODELLED_PROJECTIONS,
  modelDurationMs,
  naivePath,
  numberSize,
  ourRequestsPerReport,
  PRICES,
  putEventsEntrySize,
  readUnits,
  tableWriteUnits,
  usageOf,
  valueSize,
  writeUnits,
} from '../../../bench/cost-model.ts';

const call = (over: Partial<MeasuredCall>): MeasuredCall => ({
  service: 'dynamodb',
  op: 'PutItem',
  entries: 1,
  ok: true,
  rru: 0,
  wru: 0,
  indexWru: {},
  billed: 0,
  bytes: 0,
  scope: 'intake',
  ...over,
});

describe('Function: itemSize', () => {
  it('should add attribute name lengths and value sizes by the DynamoDB rules', () => {
    // Prepare: 'pk' (2) + 'CASE#1' (6), 'n' (1) + 123 (3 digits → 2 + 1), 'doc' (3) + '路灯' (6 UTF-8 bytes)
    const item = { pk: { S: 'CASE#1' }, n: { N: '123' }, doc: { S: '路灯' } };
    // Act
    const size = itemSize(item);
    // Assess
    expect(size).toBe(2 + 6 + 1 + 3 + 3 + 6);
  });

  it('should size numbers by significant digits, lists and maps with their overhead', () => {
    // Assess
    expect(numberSize('0.0012300')).toBe(3);
    expect(numberSize('-1')).toBe(2);
    expect(valueSize({ BOOL: true })).toBe(1);
    expect(valueSize({ L: [{ S: 'ab' }, { N: '1' }] })).toBe(3 + (1 + 2) + (1 + 2));
    expect(valueSize({ M: { a: { S: 'xy' } } })).toBe(3 + 1 + 1 + 2);
    expect(valueSize({ SS: ['a', 'bc'] })).toBe(3);
    expect(itemSize(undefined)).toBe(0);
  });
});

describe('Function: writeUnits / readUnits', () => {
  it('should charge 1 WRU per KB written, rounded up, at least 1', () => {
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
  });

  it('should charge 1 RRU per 4 KB strongly consistent and half eventually consistent', () => {
    expect(readUnits(0, true)).toBe(1);
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(100, false)).toBe(0.5);
  });
});

describe('Function: tableWriteUnits', () => {
  it('should charge the larger of the item before and after a write', () => {
    // Prepare
    const small = { pk: { S: 'a' } };
    const big = { pk: { S: 'a' }, doc: { S: 'x'.repeat(3000) } };
    // Assess
    expect(tableWriteUnits(big, small, true)).toBe(3);
    expect(tableWriteUnits(undefined, big, true)).toBe(3);
  });

  it("should charge a failed condition the existing item's size, at least 1", () => {
    expect(tableWriteUnits({ pk: { S: 'a' }, doc: { S: 'x'.repeat(1500) } }, undefined, false)).toBe(2);
    expect(tableWriteUnits(undefined, undefined, false)).toBe(1);
  });
});

describe('Function: indexWriteUnits', () => {
  const ix = [{ name: 'gsi3', pk: 'gsi3pk', sk: 'gsi3sk' }];
  const item = (dept: string | undefined, extra = '') => ({
    pk: { S: 'CASE#1' },
    ...(dept ? { gsi3pk: { S: `DEPT#${dept}` }, gsi3sk: { S: 'dispatched#x' } } : {}),
    doc: { S: `d${extra}` },
  });

  it('should charge 1 write when an item enters or leaves the index', () => {
    expect(indexWriteUnits(item(undefined), item('a'), ix)).toEqual({ gsi3: 1 });
    expect(indexWriteUnits(item('a'), undefined, ix)).toEqual({ gsi3: 1 });
  });

  it('should charge 2 writes when the index key changes, 1 when only projected attributes do', () => {
    expect(indexWriteUnits(item('a'), item('b'), ix)).toEqual({ gsi3: 2 });
    expect(indexWriteUnits(item('a'), item('a', 'changed'), ix)).toEqual({ gsi3: 1 });
  });

  it('should charge nothing for an item outside the index before and after', () => {
    expect(indexWriteUnits(item(undefined), item(undefined, 'x'), ix)).toEqual({});
  });

  it('should size index writes like the item (projection ALL)', () => {
    const big = { ...item('a'), doc: { S: 'x'.repeat(5000) } };
    expect(indexWriteUnits(undefined, big, ix)).toEqual({ gsi3: 5 });
  });

  it('should size index writes like the projected entry, and skip changes of attributes it does not carry', () => {
    // Prepare: the same 5 KB item in an index that carries only `version`.
    const slim = [{ ...ix[0]!, projection: ['version'] as const }];
    const big = (version: string, doc: string) => ({
      ...item('a'),
      version: { N: version },
      doc: { S: doc.repeat(5000) },
    });
    // Act + Assess
    expect(indexWriteUnits(undefined, big('1', 'x'), slim)).toEqual({ gsi3: 1 });
    expect(indexWriteUnits(big('1', 'x'), big('2', 'y'), slim)).toEqual({ gsi3: 1 });
    expect(indexWriteUnits(big('1', 'x'), big('1', 'y'), slim)).toEqual({});
    expect(indexWriteUnits(big('1', 'x'), big('1', 'y'), [{ ...ix[0]!, projection: 'KEYS_ONLY' }])).toEqual({});
  });

  it('should model the projections the stack declares', async () => {
    // Prepare
    const { GSI_PROJECTIONS } = await import('#infra/stack.ts');
    // Act
    const declared = Object.fromEntries(
      Object.entries(GSI_PROJECTIONS).map(([k, p]) => [k, p.type === 'INCLUDE' ? [...p.attributes] : p.type]),
    );
    // Assess
    expect(declared).toEqual(MODELLED_PROJECTIONS);
  });
});

describe('Function: putEventsEntrySize / chunks64k', () => {
  it('should size an entry as EventBridge bills it', () => {
    // Prepare: Source 3 + DetailType 4 + Detail 2 + Resources 1 + 1, Time 14
    const e = { Source: 'src', DetailType: 'type', Detail: '{}', Resources: ['a', 'b'] };
    // Assess
    expect(putEventsEntrySize(e)).toBe(11);
    expect(putEventsEntrySize({ ...e, Time: new Date() })).toBe(25);
  });

  it('should bill 64 KB chunks, at least 1', () => {
    expect(chunks64k(0)).toBe(1);
    expect(chunks64k(65_536)).toBe(1);
    expect(chunks64k(65_537)).toBe(2);
  });
});

describe('Function: costPerMillion', () => {
  it('should price usage per report at the list prices', () => {
    // Prepare: one 512 MB invocation of 10 ms, 2 WRU, 1 RRU, 1 event, 2 SQS requests per report
    const cost = costPerMillion({
      lambda: [{ function: 'f', memoryMb: 512, invocations: 1, durationMs: 10 }],
      dynamoWru: 2,
      dynamoRru: 1,
      events: 1,
      sqsRequests: 2,
    });
    // Assess
    expect(cost.lambda).toBeCloseTo(0.2 + 1e6 * 0.005 * PRICES.lambdaArmGbSecond, 6);
    expect(cost.dynamodb).toBeCloseTo(2 * 0.625 + 0.125, 6);
    expect(cost.eventbridge).toBeCloseTo(1, 6);
    expect(cost.sqs).toBeCloseTo(0.8, 6);
    expect(cost.total).toBeCloseTo(cost.lambda + cost.dynamodb + cost.eventbridge + cost.sqs, 9);
  });

  it('should model a duration from sequential rounds, reports and the fixed overhead', () => {
    expect(modelDurationMs(3, 10, { awsCallMs: 8, cpuPerReportMs: 1, invocationOverheadMs: 2 })).toBe(36);
  });
});

describe('Function: usageOf / naivePath', () => {
  // 10 reports: intake writes each report and sends it (batch of 1), one sequence block; one triage invocation
  // receives 10, publishes 10 events in one call, deletes 10 in one call.
  const path: MeasuredPath = {
    reports: 10,
    calls: [
      call({ item: 'SEQ', op: 'UpdateItem', wru: 1 }),
      ...Array.from({ length: 10 }, () => call({ item: 'RPT', wru: 2, indexWru: { gsi1: 2 }, bytes: 1500 })),
      ...Array.from({ length: 10 }, () => call({ service: 'sqs', op: 'SendMessageBatch', billed: 1, bytes: 1500 })),
      call({ service: 'sqs', op: 'ReceiveMessage', entries: 10, billed: 1, bytes: 15_000, scope: 'esm' }),
      call({ service: 'eventbridge', op: 'PutEvents', entries: 10, billed: 10, bytes: 20_000, scope: 'triage' }),
      call({ service: 'sqs', op: 'DeleteMessageBatch', entries: 10, billed: 1, scope: 'esm' }),
      call({ op: 'BatchGetItem', entries: 40, rru: 40, scope: 'triage' }),
    ],
    functions: [
      { function: 'web', scope: 'intake', memoryMb: 512, invocations: 10, rounds: 21 },
      { function: 'triage', scope: 'triage', memoryMb: 1024, invocations: 1, rounds: 1 },
    ],
  };

  it('should amortize calls and units over the reports', () => {
    // Act
    const u = usageOf(path);
    // Assess
    expect(u.dynamoWru).toBeCloseTo((1 + 10 * 4) / 10, 9);
    expect(u.events).toBe(1);
    expect(u.sqsRequests).toBeCloseTo(1.2, 9);
    expect(u.lambda.map((l) => l.invocations)).toEqual([1, 0.1]);
    expect(ourRequestsPerReport(path)).toBeCloseTo(2.3, 9);
    expect(u.dynamoRru).toBeCloseTo(4, 9);
  });

  it('should unbatch every batched call, reserve numbers one by one and read each report in triage', () => {
    // Act
    const naive = naivePath(path);
    // Assess
    const count = (op: string, scope?: string) =>
      naive.calls.filter((c) => c.op === op && (scope === undefined || c.scope === scope)).length;
    expect(count('ReceiveMessage')).toBe(10);
    expect(count('DeleteMessageBatch')).toBe(10);
    expect(count('PutEvents')).toBe(10);
    expect(count('UpdateItem')).toBe(10);
    expect(count('GetItem', 'triage')).toBe(10);
    expect(count('BatchGetItem')).toBe(40);
    expect(naive.functions.find((f) => f.scope === 'triage')?.invocations).toBe(10);
    // EventBridge bills per entry: the same events; SQS requests grow.
    const u = usageOf(naive);
    expect(u.events).toBe(1);
    expect(u.sqsRequests).toBeCloseTo(3, 9);
    // Capacity is split, not multiplied, when a batch is unbatched (+ 1 RRU: the report read in triage).
    expect(u.dynamoRru).toBeCloseTo(usageOf(path).dynamoRru + 1, 9);
    expect(ourRequestsPerReport(naive)).toBeGreaterThan(ourRequestsPerReport(path));
  });
});
