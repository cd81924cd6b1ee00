import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateArchiveCommand,
  CreateEventBusCommand,
  DeleteRuleCommand,
  DescribeArchiveCommand,
  DescribeEventBusCommand,
  DescribeReplayCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  StartReplayCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import { type EventBridgeEmulator, startEventBridgeEmulator } from '#local/eventbridge/server.ts';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;

interface Delivery {
  arn: string;
  body: string;
}

interface Harness {
  eb: EventBridgeEmulator;
  client: EventBridgeClient;
  delivered: Delivery[];
  logs: string[];
}

const running: EventBridgeEmulator[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((eb) => eb.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An emulator whose deliveries are recorded; ARNs in `failing` always reject. */
async function start(opts: { failing?: string[]; archiveDir?: string } = {}): Promise<Harness> {
  const delivered: Delivery[] = [];
  const logs: string[] = [];
  const failing = new Set(opts.failing ?? []);
  const eb = await startEventBridgeEmulator({
    account: ACCOUNT,
    region: REGION,
    archiveDir: opts.archiveDir,
    retryDelayMs: 1,
    maxAttempts: 3,
    log: (line) => logs.push(line),
    deliver: async (arn, body) => {
      if (failing.has(arn)) throw new Error(`queue ${arn} is down`);
      delivered.push({ arn, body });
    },
  });
  running.push(eb);
  const client = new EventBridgeClient({
    endpoint: eb.url,
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return { eb, client, delivered, logs };
}

const dispatched = (department: string): PutEventsRequestEntry => ({
  EventBusName: 'cityloop',
  Source: 'cityloop.triage',
  DetailType: 'Case.Dispatched',
  Detail: JSON.stringify({ trackingNo: `T-${department}`, department }),
});

async function departmentRules(h: Harness, departments: string[]): Promise<void> {
  await h.client.send(new CreateEventBusCommand({ Name: 'cityloop' }));
  for (const d of departments) {
    await h.client.send(
      new PutRuleCommand({
        Name: `dept-${d}`,
        EventBusName: 'cityloop',
        EventPattern: JSON.stringify({ 'detail-type': ['Case.Dispatched'], detail: { department: [d] } }),
      }),
    );
    await h.client.send(
      new PutTargetsCommand({
        Rule: `dept-${d}`,
        EventBusName: 'cityloop',
        Targets: [{ Id: 'queue', Arn: queueArn(`dept-${d}`), DeadLetterConfig: { Arn: queueArn(`dept-${d}-dlq`) } }],
      }),
    );
  }
}

async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

describe('Class: EventBridge emulator (buses and rules)', () => {
  it('should create, describe and list event buses, the default one included', async () => {
    // Prepare
    const h = await start();

    // Act
    const created = await h.client.send(new CreateEventBusCommand({ Name: 'cityloop' }));
    const described = await h.client.send(new DescribeEventBusCommand({ Name: created.EventBusArn }));
    const listed = await h.client.send(new ListEventBusesCommand({}));
    const again = await errorOf(h.client.send(new CreateEventBusCommand({ Name: 'cityloop' })));

    // Assess
    expect(created.EventBusArn).toBe(`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/cityloop`);
    expect(described.Name).toBe('cityloop');
    expect(described.CreationTime).toBeInstanceOf(Date);
    expect(listed.EventBuses?.map((b) => b.Name).sort()).toEqual(['cityloop', 'default']);
    expect(again).toMatchObject({ name: 'ResourceAlreadyExistsException', status: 400 });
  });

  it('should refuse an invalid event pattern with the AWS error and reason', async () => {
    // Prepare
    const h = await start();

    // Act
    const err = await errorOf(
      h.client.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"detail":{"n":[{"numeric":["<",1,">",0]}]}}' })),
    );

    // Assess
    expect(err.name).toBe('InvalidEventPatternException');
    expect(err.message).toMatch(/^Event pattern is not valid\. Reason: /);
  });

  it('should describe, list, disable, enable and delete rules as EventBridge does', async () => {
    // Prepare
    const h = await start();
    await departmentRules(h, ['01', '02']);

    // Act
    const described = await h.client.send(new DescribeRuleCommand({ Name: 'dept-01', EventBusName: 'cityloop' }));
    const listed = await h.client.send(
      new ListRulesCommand({ EventBusName: 'cityloop', NamePrefix: 'dept-0', Limit: 1 }),
    );
    const page2 = await h.client.send(
      new ListRulesCommand({ EventBusName: 'cityloop', NamePrefix: 'dept-0', NextToken: listed.NextToken }),
    );
    await h.client.send(new DisableRuleCommand({ Name: 'dept-01', EventBusName: 'cityloop' }));
    await h.client.send(new PutEventsCommand({ Entries: [dispatched('01')] }));
    await h.eb.drain();
    const whileDisabled = h.delivered.length;
    await h.client.send(new EnableRuleCommand({ Name: 'dept-01', EventBusName: 'cityloop' }));
    await h.client.send(new PutEventsCommand({ Entries: [dispatched('01')] }));
    await h.eb.drain();
    const withTargets = await errorOf(
      h.client.send(new DeleteRuleCommand({ Name: 'dept-01', EventBusName: 'cityloop' })),
    );
    await h.client.send(new RemoveTargetsCommand({ Rule: 'dept-01', EventBusName: 'cityloop', Ids: ['queue'] }));
    await h.client.send(new DeleteRuleCommand({ Name: 'dept-01', EventBusName: 'cityloop' }));
    const gone = await errorOf(h.client.send(new DescribeRuleCommand({ Name: 'dept-01', EventBusName: 'cityloop' })));

    // Assess
    expect(described).toMatchObject({
      Name: 'dept-01',
      Arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/cityloop/dept-01`,
      State: 'ENABLED',
      EventBusName: 'cityloop',
      CreatedBy: ACCOUNT,
    });
    expect(JSON.parse(described.EventPattern ?? '')).toEqual({
      'detail-type': ['Case.Dispatched'],
      detail: { department: ['01'] },
    });
    expect(listed.Rules?.map((r) => r.Name)).toEqual(['dept-01']);
    expect(page2.Rules?.map((r) => r.Name)).toEqual(['dept-02']);
    expect(whileDisabled).toBe(0);
    expect(h.delivered.map((d) => d.arn)).toEqual([queueArn('dept-01')]);
    expect(withTargets).toMatchObject({
      name: 'ValidationException',
      message: "Rule can't be deleted since it has targets.",
    });
    expect(gone).toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Rule dept-01 does not exist on EventBus cityloop.',
    });
  });

  it('should keep targets listed by rule and refuse more than one kind of input', async () => {
    // Prepare
    const h = await start();
    await departmentRules(h, ['01']);

    // Act
    const targets = await h.client.send(new ListTargetsByRuleCommand({ Rule: 'dept-01', EventBusName: 'cityloop' }));
    const both = await errorOf(
      h.client.send(
        new PutTargetsCommand({
          Rule: 'dept-01',
          EventBusName: 'cityloop',
          Targets: [{ Id: 'x', Arn: queueArn('x'), Input: '{}', InputPath: '$.detail' }],
        }),
      ),
    );

    // Assess
    expect(targets.Targets).toEqual([
      { Id: 'queue', Arn: queueArn('dept-01'), DeadLetterConfig: { Arn: queueArn('dept-01-dlq') } },
    ]);
    expect(both.name).toBe('ValidationException');
  });

  it('should answer TestEventPattern with the matcher', async () => {
    // Prepare
    const h = await start();
    const event = {
      id: '1',
      account: ACCOUNT,
      source: 'cityloop.triage',
      time: '2025-01-01T00:00:00Z',
      region: REGION,
      'detail-type': 'Case.Dispatched',
      detail: { department: '07' },
    };

    // Act
    const yes = await h.client.send(
      new TestEventPatternCommand({
        EventPattern: '{"detail":{"department":[{"prefix":"0"}]}}',
        Event: JSON.stringify(event),
      }),
    );
    const no = await h.client.send(
      new TestEventPatternCommand({ EventPattern: '{"detail":{"department":["08"]}}', Event: JSON.stringify(event) }),
    );

    // Assess
    expect(yes.Result).toBe(true);
    expect(no.Result).toBe(false);
  });
});

describe('Class: EventBridge emulator (PutEvents and delivery)', () => {
  it('should route each event to the queue of the matching department only, in the AWS envelope', async () => {
    // Prepare
    const h = await start();
    await departmentRules(h, ['01', '02', '03']);

    // Act
    const out = await h.client.send(
      new PutEventsCommand({
        Entries: [
          { ...dispatched('02'), Time: new Date('2025-03-04T05:06:07.890Z'), Resources: ['arn:aws:x:case/1'] },
          dispatched('03'),
          dispatched('99'),
        ],
      }),
    );
    await h.eb.drain();

    // Assess
    expect(out.FailedEntryCount).toBe(0);
    expect(h.delivered.map((d) => d.arn).sort()).toEqual([queueArn('dept-02'), queueArn('dept-03')]);
    const toDept2 = h.delivered.find((d) => d.arn === queueArn('dept-02'));
    const event = JSON.parse(toDept2?.body ?? '{}');
    expect(Object.keys(event)).toEqual([
      'version',
      'id',
      'detail-type',
      'source',
      'account',
      'time',
      'region',
      'resources',
      'detail',
    ]);
    expect(event).toEqual({
      version: '0',
      id: out.Entries?.[0]?.EventId,
      'detail-type': 'Case.Dispatched',
      source: 'cityloop.triage',
      account: ACCOUNT,
      time: '2025-03-04T05:06:07Z',
      region: REGION,
      resources: ['arn:aws:x:case/1'],
      detail: { trackingNo: 'T-02', department: '02' },
    });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.eb.stats()).toMatchObject({ delivered: 2, dropped: 0 });
  });

  it('should fail bad entries one by one with AWS error codes and accept the rest', async () => {
    // Prepare
    const h = await start();
    await departmentRules(h, ['01']);
    const good = dispatched('01');

    // Act
    const out = await h.client.send(
      new PutEventsCommand({
        Entries: [
          { ...good, Source: undefined },
          { ...good, DetailType: undefined },
          { ...good, Detail: undefined },
          { ...good, Detail: '{not json' },
          { ...good, Detail: '[1,2]' },
          good,
        ],
      }),
    );
    await h.eb.drain();

    // Assess
    expect(out.FailedEntryCount).toBe(5);
    expect(out.Entries?.slice(0, 5)).toEqual([
      {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
      },
      {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
      },
      {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.',
      },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
    ]);
    expect(out.Entries?.[5]?.EventId).toBeTruthy();
    expect(h.delivered).toHaveLength(1);
  });

  it('should refuse more than 10 entries and more than 256 KB of entries as a whole request', async () => {
    // Prepare
    const h = await start();
    const big = { Source: 's', DetailType: 'd', Detail: JSON.stringify({ text: 'x'.repeat(256 * 1024) }) };

    // Act
    const tooMany = await errorOf(h.client.send(new PutEventsCommand({ Entries: Array(11).fill(dispatched('01')) })));
    const tooBig = await errorOf(h.client.send(new PutEventsCommand({ Entries: [big] })));

    // Assess
    expect(tooMany).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(tooMany.message).toMatch(/Member must have length less than or equal to 10/);
    expect(tooBig).toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
  });

  it('should retry a failing target, then put the original event on its dead-letter queue', async () => {
    // Prepare
    const h = await start({ failing: [queueArn('dept-01')] });
    await departmentRules(h, ['01']);

    // Act
    const out = await h.client.send(new PutEventsCommand({ Entries: [dispatched('01')] }));
    await h.eb.drain();

    // Assess
    expect(out.FailedEntryCount).toBe(0);
    expect(h.delivered.map((d) => d.arn)).toEqual([queueArn('dept-01-dlq')]);
    expect(JSON.parse(h.delivered[0]?.body ?? '{}')).toMatchObject({
      id: out.Entries?.[0]?.EventId,
      detail: { department: '01' },
    });
    expect(h.eb.stats()).toEqual({ delivered: 0, retried: 2, deadLettered: 1, dropped: 0 });
    expect(h.logs.some((l) => l.includes('dead-letter queue') && l.includes('dept-01'))).toBe(true);
  });

  it('should log and drop an event whose target keeps failing and has no dead-letter queue', async () => {
    // Prepare
    const h = await start({ failing: [queueArn('broken')] });
    await h.client.send(new PutRuleCommand({ Name: 'all', EventPattern: '{"source":[{"prefix":""}]}' }));
    await h.client.send(
      new PutTargetsCommand({
        Rule: 'all',
        Targets: [{ Id: 't', Arn: queueArn('broken'), RetryPolicy: { MaximumRetryAttempts: 0 } }],
      }),
    );

    // Act
    await h.client.send(new PutEventsCommand({ Entries: [{ Source: 'a', DetailType: 'b', Detail: '{}' }] }));
    await h.eb.drain();

    // Assess
    expect(h.delivered).toEqual([]);
    expect(h.eb.stats()).toEqual({ delivered: 0, retried: 0, deadLettered: 0, dropped: 1 });
    expect(h.logs.some((l) => l.includes('no dead-letter queue'))).toBe(true);
  });

  it('should shape target input with Input, InputPath and InputTransformer', async () => {
    // Prepare
    const h = await start();
    await h.client.send(new PutRuleCommand({ Name: 'r', EventPattern: '{"source":["cityloop.triage"]}' }));
    await h.client.send(
      new PutTargetsCommand({
        Rule: 'r',
        Targets: [
          { Id: 'constant', Arn: queueArn('constant'), Input: '{"fixed":true}' },
          { Id: 'path', Arn: queueArn('path'), InputPath: '$.detail' },
          {
            Id: 'template',
            Arn: queueArn('template'),
            InputTransformer: {
              InputPathsMap: { dept: '$.detail.department', no: '$.detail.trackingNo', tags: '$.detail.tags' },
              InputTemplate:
                '{"text": "<no> to <dept>", "dept": <dept>, "tags": <tags>, "rule": "<aws.events.rule-name>"}',
            },
          },
        ],
      }),
    );

    // Act
    await h.client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'cityloop.triage',
            DetailType: 'Case.Dispatched',
            Detail: JSON.stringify({ trackingNo: 'T-1', department: 'dept "7"', tags: ['a', 'b'] }),
          },
        ],
      }),
    );
    await h.eb.drain();

    // Assess
    const body = (arn: string) => h.delivered.find((d) => d.arn === queueArn(arn))?.body;
    expect(body('constant')).toBe('{"fixed":true}');
    expect(JSON.parse(body('path') ?? '')).toEqual({ trackingNo: 'T-1', department: 'dept "7"', tags: ['a', 'b'] });
    expect(JSON.parse(body('template') ?? '')).toEqual({
      text: 'T-1 to dept "7"',
      dept: 'dept "7"',
      tags: ['a', 'b'],
      rule: 'r',
    });
  });
});

describe('Class: EventBridge emulator (archive and replay)', () => {
  it('should archive matching events to a JSON-lines file and replay a time window marked with replay-name', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'cityloop-eb-'));
    dirs.push(dir);
    const h = await start({ archiveDir: dir });
    await departmentRules(h, ['01']);
    const bus = await h.client.send(new DescribeEventBusCommand({ Name: 'cityloop' }));
    const archive = await h.client.send(
      new CreateArchiveCommand({
        ArchiveName: 'cases',
        EventSourceArn: bus.Arn,
        EventPattern: '{"detail-type":["Case.Dispatched"]}',
      }),
    );
    const at = (iso: string) => ({ ...dispatched('01'), Time: new Date(iso) });
    const put = await h.client.send(
      new PutEventsCommand({
        Entries: [
          at('2025-01-01T10:00:00Z'),
          at('2025-01-01T11:00:00Z'),
          at('2025-01-01T12:00:00Z'),
          { ...at('2025-01-01T11:00:00Z'), DetailType: 'Case.Other' },
        ],
      }),
    );
    await h.eb.drain();
    h.delivered.length = 0;

    // Act
    const started = await h.client.send(
      new StartReplayCommand({
        ReplayName: 'morning',
        EventSourceArn: archive.ArchiveArn,
        EventStartTime: new Date('2025-01-01T10:30:00Z'),
        EventEndTime: new Date('2025-01-01T12:00:00Z'),
        Destination: { Arn: bus.Arn },
      }),
    );
    await h.eb.drain();
    const replay = await h.client.send(new DescribeReplayCommand({ ReplayName: 'morning' }));
    const described = await h.client.send(new DescribeArchiveCommand({ ArchiveName: 'cases' }));

    // Assess
    expect(started.State).toBe('STARTING');
    expect(replay.State).toBe('COMPLETED');
    const replayed = h.delivered.map((d) => JSON.parse(d.body));
    expect(replayed.map((e) => e.time)).toEqual(['2025-01-01T11:00:00Z', '2025-01-01T12:00:00Z']);
    expect(replayed.map((e) => e['replay-name'])).toEqual(['morning', 'morning']);
    expect(replayed.map((e) => e.id)).toEqual([put.Entries?.[1]?.EventId, put.Entries?.[2]?.EventId]);
    expect(described.EventCount).toBe(3);
    const lines = readFileSync(join(dir, 'cases.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
  });

  it('should find archived events again after a restart with the same archive folder', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'cityloop-eb-'));
    dirs.push(dir);
    const first = await start({ archiveDir: dir });
    const defaultBus = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`;
    await first.client.send(new CreateArchiveCommand({ ArchiveName: 'all', EventSourceArn: defaultBus }));
    await first.client.send(
      new PutEventsCommand({
        Entries: [{ Source: 'a', DetailType: 'b', Detail: '{"n":1}', Time: new Date('2025-02-01T00:00:00Z') }],
      }),
    );
    await first.eb.stop();

    // Act
    const second = await start({ archiveDir: dir });
    await second.client.send(
      new PutRuleCommand({ Name: 'replayed', EventPattern: '{"replay-name":[{"exists":true}]}' }),
    );
    await second.client.send(
      new PutTargetsCommand({ Rule: 'replayed', Targets: [{ Id: 'q', Arn: queueArn('replayed') }] }),
    );
    const archive = await second.client.send(
      new CreateArchiveCommand({ ArchiveName: 'all', EventSourceArn: defaultBus }),
    );
    await second.client.send(
      new StartReplayCommand({
        ReplayName: 'again',
        EventSourceArn: archive.ArchiveArn,
        EventStartTime: new Date('2025-01-01T00:00:00Z'),
        EventEndTime: new Date('2025-03-01T00:00:00Z'),
        Destination: { Arn: defaultBus },
      }),
    );
    await second.eb.drain();
    const described = await second.client.send(new DescribeArchiveCommand({ ArchiveName: 'all' }));

    // Assess
    expect(second.delivered.map((d) => d.arn)).toEqual([queueArn('replayed')]);
    expect(JSON.parse(second.delivered[0]?.body ?? '{}')).toMatchObject({ detail: { n: 1 }, 'replay-name': 'again' });
    expect(described.EventCount).toBe(1);
  });

  it('should refuse a replay window that ends before it starts and an unknown archive', async () => {
    // Prepare
    const h = await start();
    const defaultBus = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`;
    const archive = await h.client.send(new CreateArchiveCommand({ ArchiveName: 'a', EventSourceArn: defaultBus }));
    const replay = (name: string, arn: string | undefined, from: string, to: string) =>
      h.client.send(
        new StartReplayCommand({
          ReplayName: name,
          EventSourceArn: arn,
          EventStartTime: new Date(from),
          EventEndTime: new Date(to),
          Destination: { Arn: defaultBus },
        }),
      );

    // Act
    const backwards = await errorOf(replay('r1', archive.ArchiveArn, '2025-02-01T00:00:00Z', '2025-01-01T00:00:00Z'));
    const unknown = await errorOf(
      replay('r2', `${archive.ArchiveArn}x`, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z'),
    );

    // Assess
    expect(backwards).toMatchObject({
      name: 'ValidationException',
      message: 'Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.',
    });
    expect(unknown).toMatchObject({
      name: 'ValidationException',
      message: 'Parameter EventSourceArn is not valid. Reason: Archive ax does not exist.',
    });
  });
});

describe('Class: EventBridge emulator (protocol)', () => {
  it('should answer unknown operations and bad JSON in the AWS JSON error shape', async () => {
    // Prepare
    const h = await start();
    const post = (target: string, body: string) =>
      fetch(h.eb.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
        body,
      });

    // Act
    const unknown = await post('AWSEvents.Nope', '{}');
    const badJson = await post('AWSEvents.ListRules', '{');

    // Assess
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ __type: 'SerializationException' });
    expect(h.eb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
