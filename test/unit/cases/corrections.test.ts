import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoTrainingExamples } from '#adapters/dynamo/training-examples.ts';
import { correctionOf, examplesCsv, MemoryTrainingExamples, type TrainingExample } from '#core/cases/corrections.ts';
import { readLabelledCsv } from '#core/classify/csv.ts';
import { indexTaxonomy } from '#core/classify/taxonomy.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { harness, SUPERVISOR, seed, triagedCase } from './fakes.ts';

const index = indexTaxonomy(defaultTaxonomy);

/** Runs one supervisor step through the real CaseService and returns the example the hook saw (if any). */
async function step(
  text: string,
  action: Parameters<ReturnType<typeof harness>['service']['act']>[1],
  actor: Parameters<ReturnType<typeof harness>['service']['act']>[2] = SUPERVISOR,
): Promise<{ example?: TrainingExample; calls: number }> {
  const seen: TrainingExample[] = [];
  let calls = 0;
  const h = harness({
    corrections: async (before, after, audit) => {
      calls++;
      const e = correctionOf(before, after, audit, index);
      if (e) seen.push(e);
    },
  });
  const c = await seed(h, triagedCase('20251128000001', text));
  await h.service.act(c.caseId, action, actor);
  return { ...(seen[0] ? { example: seen[0] } : {}), calls };
}

describe('Module: supervisors’ corrections → training examples', () => {
  it('should keep a 人工分拨 decision as a corrected example with the model label, masked contacts and the old guess', async () => {
    // Prepare: nothing in the text names a matter, so triage left it in manual triage.
    const text = '我想反映个情况，请回电13912345678或写信到a.b@example.com';
    // Act
    const { example } = await step(text, { type: 'assignTriage', department: 'shuiwu', category: 'GY-02' });
    // Assess
    expect(example).toMatchObject({
      id: '20251128000001@2',
      caseId: '20251128000001',
      version: 2,
      day: '2025-11-28',
      label: '城乡建设',
      category: 'GY-02',
      corrected: true,
      action: 'assignTriage',
      by: 'sup-001',
      channel: 'web',
      predicted: { decision: 'manual' },
    });
    expect(example?.text).not.toContain('13912345678');
    expect(example?.text).not.toContain('a.b@example.com');
    expect(example?.text).toContain('139****5678');
  });

  it('should keep a 改派 that changes the category, with what triage had guessed', async () => {
    const { example } = await step('和平路88号路灯不亮', {
      type: 'redispatch',
      department: 'gongdian',
      category: 'GY-05',
      reason: '属供电设施',
    });
    expect(example).toMatchObject({
      category: 'GY-05',
      corrected: true,
      action: 'redispatch',
      predicted: { category: 'SZ-01', decision: 'auto' },
    });
  });

  it('should skip a 改派 to another department that keeps the category', async () => {
    const { example, calls } = await step('和平路88号路灯不亮', {
      type: 'redispatch',
      department: 'zhujian',
      reason: '属住建',
    });
    expect(calls).toBe(1);
    expect(example).toBeUndefined();
  });

  it('should skip steps that set no category (a department signing)', async () => {
    const { example, calls } = await step('和平路88号路灯不亮', { type: 'sign', text: '已安排' }, {
      role: 'department',
      id: 'cg',
      department: 'chengguan',
    } as never);
    expect(calls).toBe(1);
    expect(example).toBeUndefined();
  });

  it('should never fail the step when keeping the example fails', async () => {
    const warned: string[] = [];
    const h = harness({
      corrections: async () => {
        throw new Error('table unavailable');
      },
      log: { warn: (m) => warned.push(m), error: (m) => warned.push(m) },
    });
    const c = await seed(h, triagedCase('20251128000001', '我想反映个情况'));
    const done = await h.service.act(
      c.caseId,
      { type: 'assignTriage', department: 'shuiwu', category: 'GY-02' },
      SUPERVISOR,
    );
    expect(done.case.state).toBe('dispatched');
    expect(warned).toContain('training example not recorded');
  });

  it('should write a CSV that the training reader accepts, quoting commas, quotes and new lines', async () => {
    const store = new MemoryTrainingExamples();
    const base: TrainingExample = {
      id: 'A@2',
      caseId: 'A',
      version: 2,
      at: '2025-11-28T10:00:00.000+08:00',
      day: '2025-11-28',
      text: '标题\n正文，有"引号"和,逗号',
      label: '城乡建设',
      category: 'GY-02',
      predicted: { confidence: 0.41, decision: 'manual' },
      corrected: true,
      action: 'assignTriage',
      by: 'sup-001',
    };
    await store.putExample(base);
    await store.putExample({ ...base }); // the same step again: still one example
    await store.putExample({ ...base, id: 'B@3', caseId: 'B', day: '2025-12-02', at: '2025-12-02T09:00:00.000+08:00' });
    const rows = await store.listExamples('2025-11-01', '2025-11-30');
    expect(rows.map((r) => r.id)).toEqual(['A@2']);
    const parsed = readLabelledCsv(Buffer.from(examplesCsv(rows)), {});
    expect(parsed).toEqual([expect.objectContaining({ text: base.text, label: '城乡建设' })]);
    const byCategory = readLabelledCsv(Buffer.from(examplesCsv(rows)), { labelColumn: 'category' });
    expect(byCategory[0]?.label).toBe('GY-02');
  });
});

describe('Class: DynamoTrainingExamples', () => {
  const ddb = mockClient(DynamoDBClient);
  afterEach(() => ddb.reset());

  const example = (caseId: string, version: number, day: string): TrainingExample => ({
    id: `${caseId}@${version}`,
    caseId,
    version,
    at: `${day}T10:00:00.000+08:00`,
    day,
    text: '路灯不亮',
    label: '城乡建设',
    category: 'SZ-01',
    predicted: { confidence: 0.9, decision: 'auto' },
    corrected: true,
    action: 'redispatch',
    by: 'sup-001',
  });

  it('should put one item per step in the day’s partition', async () => {
    ddb.on(PutItemCommand).resolves({});
    await new DynamoTrainingExamples(new DynamoDBClient({}), 't').putExample(example('C1', 7, '2025-11-28'));
    const input = ddb.commandCalls(PutItemCommand)[0]!.args[0].input;
    expect(input.TableName).toBe('t');
    expect(input.Item?.pk).toEqual({ S: 'TRAINEX#2025-11-28' });
    expect(input.Item?.sk).toEqual({ S: 'C1#000007' });
  });

  it('should read one partition per day, following pages, oldest first', async () => {
    const item = (e: TrainingExample) => marshall({ pk: `TRAINEX#${e.day}`, sk: e.caseId, doc: JSON.stringify(e) });
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: 'TRAINEX#2025-11-28' } } })
      .resolvesOnce({
        Items: [item(example('C2', 2, '2025-11-28'))],
        LastEvaluatedKey: { pk: { S: 'x' }, sk: { S: 'y' } },
      })
      .resolvesOnce({ Items: [item(example('C1', 2, '2025-11-28'))] });
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': { S: 'TRAINEX#2025-11-29' } } })
      .resolves({ Items: [item(example('C0', 3, '2025-11-29'))] });
    const got = await new DynamoTrainingExamples(new DynamoDBClient({}), 't').listExamples('2025-11-28', '2025-11-29');
    expect(got.map((e) => e.id)).toEqual(['C1@2', 'C2@2', 'C0@3']);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(3);
    expect(ddb.commandCalls(QueryCommand)[1]!.args[0].input.ExclusiveStartKey).toEqual({
      pk: { S: 'x' },
      sk: { S: 'y' },
    });
  });

  it('should refuse a reversed or too long period', async () => {
    const s = new DynamoTrainingExamples(new DynamoDBClient({}), 't');
    expect(await s.listExamples('2025-11-29', '2025-11-28')).toEqual([]);
    await expect(s.listExamples('2000-01-01', '2025-11-28')).rejects.toThrow(RangeError);
  });
});
