import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDedupeStore, entryItem, readEntries } from '#adapters/dynamo/dedupe-store.ts';
import type { CandidateEntry } from '#core/dedupe/store.ts';
import { sketchOfShingles } from '#core/dedupe/text.ts';

const db = mockClient(DynamoDBClient);
const NOW = Date.parse('2025-11-28T10:00:00+08:00');
const store = (opts: ConstructorParameters<typeof DynamoDedupeStore>[2] = {}) =>
  new DynamoDedupeStore(new DynamoDBClient({}), 'tbl', { now: () => NOW, sleep: async () => undefined, ...opts });
const conditionFailed = (item?: Record<string, unknown>) =>
  Object.assign(
    new ConditionalCheckFailedException({ message: 'conditional', $metadata: {} }),
    item ? { Item: item } : {},
  );

const entry = (caseId: string, extra: Partial<CandidateEntry> = {}): CandidateEntry => ({
  caseId,
  reportId: `r-${caseId}`,
  at: NOW,
  group: 'water',
  root: 'GY',
  lat: 22.69,
  lon: 114.35,
  placeKeys: ['d:和平路#12', 'r:和平路'],
  citizenKeys: ['abc'],
  sketch: sketchOfShingles(['和', '平', '和平', '水管']),
  title: '和平路12号水管爆裂',
  ...extra,
});

describe('Class: DynamoDedupeStore', () => {
  beforeEach(() => db.reset());

  it('should claim with one conditional put that also lets the same value win again', async () => {
    // Prepare
    db.on(PutItemCommand).resolves({});
    // Act
    const out = await store().claim('a|water|g:ws10|1#0', 'C1');
    // Assess
    expect(out).toEqual({ won: true, value: 'C1' });
    const input = db.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(input.Item?.pk).toEqual({ S: 'DDC#a|water|g:ws10|1#0' });
    expect(input.ConditionExpression).toBe('attribute_not_exists(pk) OR v = :v OR expiresAt < :now');
    expect(input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    // 60 days of life by default.
    expect(Number(input.Item?.expiresAt?.N)).toBe(Math.floor(NOW / 1000) + 60 * 86_400);
  });

  it("should tell the loser the winner's value from the failed condition, or from a consistent read", async () => {
    // Prepare
    db.on(PutItemCommand)
      .rejectsOnce(conditionFailed({ v: { S: 'C0' } }))
      .rejectsOnce(conditionFailed());
    db.on(GetItemCommand).resolves({ Item: { v: { S: 'C9' } } });
    // Act
    const first = await store().claim('k', 'C1');
    const second = await store().claim('k', 'C1');
    // Assess
    expect(first).toEqual({ won: false, value: 'C0' });
    expect(second).toEqual({ won: false, value: 'C9' });
    expect(db.commandCalls(GetItemCommand)).toHaveLength(1);
    expect(db.commandCalls(GetItemCommand)[0]!.args[0].input.ConsistentRead).toBe(true);
  });

  it('should read an expired claim as absent (TTL deletes late)', async () => {
    db.on(GetItemCommand).resolves({ Item: { v: { S: 'old' }, expiresAt: { N: String(NOW / 1000 - 1) } } });
    await expect(store().readClaim('k')).resolves.toBeUndefined();
  });

  it('should read many keys with one consistent batched read, newest entry first, skipping expired entries', async () => {
    // Prepare: key g|x holds a live and an expired entry, g|y one entry; 130 keys asked → 100 + 30.
    const older = entry('20251128000001', { at: NOW - 60_000 });
    const item = {
      ...entryItem('g|x', entry('20251128000003', { at: NOW - 120_000 }), NOW / 1000 + 100),
      ...entryItem('g|x', entry('20251128000002'), NOW / 1000 + 100),
      ...entryItem('g|x', older, NOW / 1000 - 100),
    };
    db.on(BatchGetItemCommand).callsFake((input) => {
      const keys = input.RequestItems.tbl.Keys as { pk: { S: string } }[];
      const found = keys.flatMap((k) =>
        k.pk.S === 'DDK#g|x' ? [item] : k.pk.S === 'DDK#g|y' ? [entryItem('g|y', older, NOW / 1000 + 100)] : [],
      );
      return { Responses: { tbl: found } };
    });
    const keys = ['g|x', 'g|y', ...Array.from({ length: 128 }, (_, i) => `g|none${i}`), 'g|x'];
    // Act
    const out = await store().getByKeys(keys);
    // Assess
    expect(out.get('g|x')?.map((e) => e.caseId)).toEqual(['20251128000002', '20251128000003']);
    expect(out.get('g|x')?.[0]).toEqual(entry('20251128000002'));
    expect(out.get('g|y')).toEqual([older]);
    expect(out.get('g|none0') ?? []).toEqual([]);
    const calls = db.commandCalls(BatchGetItemCommand).map((c) => c.args[0].input.RequestItems!.tbl!);
    expect(calls.map((c) => c.Keys!.length)).toEqual([100, 30]);
    expect(calls[0]).toMatchObject({ ConsistentRead: true });
    expect(calls[0]!.Keys![0]).toEqual({ pk: { S: 'DDK#g|x' }, sk: { S: 'L' } });
  });

  it('should upsert an entry into each key with one update of its own attribute, trimming past the limit', async () => {
    // Prepare: the second key's item comes back with 3 entries, the limit is 2.
    const full = {
      ...entryItem('p|b', entry('C0', { at: NOW - 3000 }), NOW / 1000 + 100),
      ...entryItem('p|b', entry('C8', { at: NOW - 1000 }), NOW / 1000 + 100),
      ...entryItem('p|b', entry('C9'), NOW / 1000 + 100),
    };
    db.on(UpdateItemCommand).callsFake((input) =>
      input.Key.pk.S === 'DDK#p|b' && input.UpdateExpression.startsWith('SET') ? { Attributes: full } : {},
    );
    // Act
    await store({ maxEntriesPerKey: 2 }).putKeys(['p|a', 'p|b', 'p|a'], entry('C9'));
    // Assess: one upsert per distinct key, then one removal of the oldest entry.
    const inputs = db.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    const upserts = inputs.filter((i) => i.UpdateExpression?.startsWith('SET'));
    expect(upserts.map((i) => i.Key?.pk?.S).sort()).toEqual(['DDK#p|a', 'DDK#p|b']);
    expect(upserts[0]).toMatchObject({
      UpdateExpression: 'SET #e = :e, expiresAt = :x',
      ExpressionAttributeNames: { '#e': 'eC9' },
      ReturnValues: 'ALL_NEW',
    });
    expect(Number(upserts[0]!.ExpressionAttributeValues?.[':x']?.N)).toBe(Math.floor(NOW / 1000) + 180 * 86_400);
    const removals = inputs.filter((i) => i.UpdateExpression?.startsWith('REMOVE'));
    expect(removals).toHaveLength(1);
    expect(removals[0]).toMatchObject({ UpdateExpression: 'REMOVE #d0', ExpressionAttributeNames: { '#d0': 'eC0' } });
  });

  it('should make an entry the only one of band keys with plain puts, 25 to a call, re-sending what is unprocessed', async () => {
    // Prepare: the first call leaves one item unprocessed.
    let calls = 0;
    db.on(BatchWriteItemCommand).callsFake((input) => {
      calls++;
      const reqs = input.RequestItems.tbl;
      return calls === 1 ? { UnprocessedItems: { tbl: reqs.slice(0, 1) } } : {};
    });
    const keys = Array.from({ length: 30 }, (_, i) => `t|${i}|h|1`);
    // Act
    await store().putLatest([...keys, keys[0]!], entry('C1'));
    // Assess: 25 + the unprocessed 1 + 5; the duplicate key written once; each put is the whole item.
    const sizes = db.commandCalls(BatchWriteItemCommand).map((c) => c.args[0].input.RequestItems!.tbl!.length);
    expect(sizes).toEqual([25, 1, 5]);
    const first = db.commandCalls(BatchWriteItemCommand)[0]!.args[0].input.RequestItems!.tbl![0]!.PutRequest!.Item!;
    expect(Object.keys(first).sort()).toEqual(['eC1', 'expiresAt', 'pk', 'sk']);
  });

  it('should read many claims in one batched read, leaving out absent and expired ones', async () => {
    // Prepare
    db.on(BatchGetItemCommand).resolves({
      Responses: {
        tbl: [
          { pk: { S: 'DDC#f|a' }, v: { S: 'A' } },
          { pk: { S: 'DDC#f|b' }, v: { S: 'B' }, expiresAt: { N: String(NOW / 1000 - 1) } },
        ],
      },
    });
    // Act
    const out = await store().readClaims(['f|a', 'f|b', 'f|c']);
    // Assess
    expect([...out]).toEqual([['f|a', 'A']]);
    expect(db.commandCalls(BatchGetItemCommand)).toHaveLength(1);
  });

  it('should give up (and throw) when the service keeps refusing a batch', async () => {
    db.on(BatchWriteItemCommand).callsFake((input) => ({ UnprocessedItems: input.RequestItems }));
    await expect(store().putLatest(['t|k'], entry('C1'))).rejects.toThrow(/unprocessed/);
    expect(db.commandCalls(BatchWriteItemCommand)).toHaveLength(8);
  });

  it('should read case states in batches of 100 keys, and the closing time only of closed cases', async () => {
    // Prepare
    const ids = Array.from({ length: 60 }, (_, i) => `C${i}`);
    db.on(BatchGetItemCommand).callsFake((input) => {
      const req = input.RequestItems.tbl;
      if (req.ProjectionExpression === 'pk, doc') {
        return {
          Responses: {
            tbl: [
              {
                pk: { S: 'CASE#C1' },
                doc: { S: JSON.stringify({ timestamps: { closedAt: '2025-11-20T10:00:00+08:00' } }) },
              },
            ],
          },
        };
      }
      const items = req.Keys.flatMap((k: { pk: { S: string } }) => {
        const pk = k.pk.S;
        if (pk === 'CASE#C1') return [{ pk: { S: pk }, state: { S: 'closed' } }];
        if (pk === 'CASE#C2') return [{ pk: { S: pk }, state: { S: 'rejected' } }];
        if (pk === 'CASE#C3') return [{ pk: { S: pk }, state: { S: 'signed' } }];
        if (pk === 'DDS#C3') return [{ pk: { S: pk }, reporterCount: { N: '7' }, lastReportAt: { N: '99' } }];
        return [];
      });
      return { Responses: { tbl: items } };
    });
    // Act
    const states = await store().getCaseStates(ids);
    // Assess
    const calls = db.commandCalls(BatchGetItemCommand).map((c) => c.args[0].input.RequestItems!.tbl!);
    expect(calls.map((c) => c.Keys!.length)).toEqual([100, 20, 1]);
    expect(calls[0]).toMatchObject({ ConsistentRead: true, ExpressionAttributeNames: { '#s': 'state' } });
    expect(states.get('C1')).toEqual({
      status: 'closed',
      closedAt: Date.parse('2025-11-20T10:00:00+08:00'),
      reporterCount: 0,
    });
    expect(states.get('C2')).toEqual({ status: 'closed', closedAt: 0, reporterCount: 0 });
    expect(states.get('C3')).toEqual({ status: 'open', reporterCount: 7, lastReportAt: 99 });
    expect(states.get('C40')).toEqual({ status: 'open', reporterCount: 0 });
  });

  it('should add a new reporter with one conditional update and return the counts around it', async () => {
    // Prepare
    db.on(UpdateItemCommand).resolves({ Attributes: { reporterCount: { N: '5' } } });
    // Act
    const out = await store().addReporter('C1', 'tel-digest', 1234);
    // Assess
    expect(out).toEqual({ before: 4, after: 5 });
    const input = db.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.Key).toEqual({ pk: { S: 'DDS#C1' }, sk: { S: 'S' } });
    expect(input.UpdateExpression).toBe('ADD reporterCount :one, m :k SET lastReportAt = :at');
    expect(input.ConditionExpression).toContain('NOT contains(m, :key)');
  });

  it('should count a reporter once: a known one only moves the last report time forward', async () => {
    // Prepare: the condition fails because the key is in the set already.
    db.on(UpdateItemCommand)
      .rejectsOnce(
        conditionFailed({ reporterCount: { N: '3' }, lastReportAt: { N: '100' }, m: { SS: ['a', 'b', 'c'] } }),
      )
      .resolves({});
    // Act
    const out = await store().addReporter('C1', 'b', 200);
    // Assess
    expect(out).toEqual({ before: 3, after: 3 });
    const second = db.commandCalls(UpdateItemCommand)[1]!.args[0].input;
    expect(second.UpdateExpression).toBe('SET lastReportAt = :at');
    expect(second.ConditionExpression).toBe('attribute_not_exists(lastReportAt) OR lastReportAt < :at');
  });

  it('should count a new reporter whose report is older than the last one without moving the time back', async () => {
    // Prepare
    db.on(UpdateItemCommand)
      .rejectsOnce(
        conditionFailed({ reporterCount: { N: '3' }, lastReportAt: { N: '500' }, m: { SS: ['a', 'b', 'c'] } }),
      )
      .resolves({ Attributes: { reporterCount: { N: '4' } } });
    // Act
    const out = await store().addReporter('C1', 'd', 200);
    // Assess
    expect(out).toEqual({ before: 3, after: 4 });
    const second = db.commandCalls(UpdateItemCommand)[1]!.args[0].input;
    expect(second.UpdateExpression).toBe('ADD reporterCount :one, m :k');
    expect(second.ExpressionAttributeValues?.[':at']).toBeUndefined();
  });

  it('should keep reporters past the inline cap as member items, still once each', async () => {
    // Prepare: 2 inline members, cap 2.
    const full = { reporterCount: { N: '2' }, lastReportAt: { N: '100' }, m: { SS: ['a', 'b'] } };
    db.on(UpdateItemCommand)
      .rejectsOnce(conditionFailed(full))
      .resolvesOnce({ Attributes: { reporterCount: { N: '3' }, lastReportAt: { N: '100' } } })
      .resolvesOnce({})
      .rejects(conditionFailed({ ...full, reporterCount: { N: '3' } }));
    db.on(PutItemCommand).resolvesOnce({}).rejects(conditionFailed());
    db.on(GetItemCommand).resolves({ Item: { ...full, reporterCount: { N: '3' } } });
    const s = store({ maxInlineMembers: 2 });
    // Act
    const first = await s.addReporter('C1', 'c', 200);
    const again = await s.addReporter('C1', 'c', 50);
    // Assess
    expect(first).toEqual({ before: 2, after: 3 });
    expect(again).toEqual({ before: 3, after: 3 });
    const put = db.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(put.Item?.pk).toEqual({ S: 'DDM#C1#c' });
    expect(put.ConditionExpression).toBe('attribute_not_exists(pk)');
  });

  it('should rethrow what is not a lost condition', async () => {
    db.on(PutItemCommand).rejects(new Error('ProvisionedThroughputExceeded'));
    await expect(store().claim('k', 'v')).rejects.toThrow('ProvisionedThroughputExceeded');
  });
});

describe('Function: entryItem / readEntries', () => {
  it('should give back every entry as it was written (binary sketches included)', () => {
    fc.assert(
      fc.property(
        fc.record({
          caseId: fc.string({ minLength: 1, maxLength: 20 }),
          reportId: fc.string({ minLength: 1, maxLength: 20 }),
          at: fc.nat(),
          group: fc.string({ minLength: 1, maxLength: 12 }),
          root: fc.option(fc.string({ minLength: 1, maxLength: 6 }), { nil: undefined }),
          // (-0 is stored as 0: a JSON number.)
          coords: fc.option(
            fc.tuple(
              fc.double({ min: -90, max: 90, noNaN: true }).map((x) => x + 0),
              fc.double({ min: -180, max: 180, noNaN: true }).map((x) => x + 0),
            ),
            { nil: undefined },
          ),
          placeKeys: fc.array(fc.string({ maxLength: 12 }), { maxLength: 4 }),
          citizenKeys: fc.array(fc.string({ maxLength: 22 }), { maxLength: 3 }),
          shingles: fc.array(fc.string({ maxLength: 3 }), { maxLength: 300 }),
          title: fc.string({ maxLength: 60 }),
        }),
        (r) => {
          const e: CandidateEntry = {
            caseId: r.caseId,
            reportId: r.reportId,
            at: r.at,
            group: r.group,
            ...(r.root ? { root: r.root } : {}),
            ...(r.coords ? { lat: r.coords[0], lon: r.coords[1] } : {}),
            placeKeys: r.placeKeys,
            citizenKeys: r.citizenKeys,
            sketch: sketchOfShingles(r.shingles),
            title: r.title,
          };
          expect(readEntries(entryItem('k', e, 2), 1)).toEqual([e]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
