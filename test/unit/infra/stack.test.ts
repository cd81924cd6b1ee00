import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { buildTopology, departmentQueueId, queueEnvName, type Topology } from '#core/topology.ts';
import { createApp, FEATURE_FLAGS, resolveTarget } from '#infra/create-app.ts';
import {
  CityLoopStack,
  type CityLoopStackProps,
  departmentGroup,
  GSI_PROJECTIONS,
  pascal,
  toEventPattern,
  WEB_INDEX_FUNCTION,
} from '#infra/stack.ts';
import { flatten, type StackTemplate, templatesOf } from './templates.ts';

type Json = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

/** Skip esbuild in assertion tests; the builtin CloudFormation schema check (~10 s) is `cdk synth`'s job. */
const FAST = { 'aws:cdk:bundling-stacks': [] as string[] };
const MISSING_DIST = path.join(os.tmpdir(), 'cityloop-no-web-dist');

const topology = buildTopology(defaultDepartments);
const departments = defaultDepartments.filter((d) => d.kind !== 'centre');

interface Synth {
  stack: CityLoopStack;
  /** The parent template. */
  template: Template;
  json: Json;
  /** The parent and the nested templates of departments. */
  templates: StackTemplate[];
  /** Resources and outputs of every template in one view (see `./templates.ts`). */
  resources: Record<string, { Type: string; Properties?: Json; DeletionPolicy?: string }>;
  outputs: Record<string, { Value: unknown }>;
  nagViolations: string[];
}

function synthesize(stack: CityLoopStack): Synth {
  // Template.fromStack synthesizes the app: with the AwsSolutions plugin registered it throws on a finding.
  const template = Template.fromStack(stack);
  const json = template.toJSON() as Json;
  const templates = templatesOf(stack);
  const flat = flatten(templates);
  const nag = new AwsSolutionsChecks().validateScope(stack);
  return {
    stack,
    template,
    json,
    templates,
    resources: flat.resources,
    outputs: flat.outputs,
    nagViolations: nag.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
  };
}

/** Every template's text (parent and nested). */
const allText = (s: Synth): string => s.templates.map((t) => JSON.stringify(t.json)).join('\n');

function fromApp(context: Record<string, unknown>): Synth {
  const { stack } = createApp({
    env: {},
    builtinCloudFormationValidation: false,
    context: { ...FAST, webDistPath: MISSING_DIST, ...context },
  });
  return synthesize(stack);
}

/** The logical id in its own template (the parent's or a nested one's; `flatten` keeps them unique). */
const logicalId = (_s: Synth, element: { node: { defaultChild?: unknown } } | undefined): string => {
  if (!element) throw new Error('construct not found');
  const cfn = element.node.defaultChild as CfnElement;
  return Stack.of(cfn).getLogicalId(cfn);
};
const queueId = (s: Synth, id: string): string => logicalId(s, s.stack.queue(id));
const arnOf = (logical: string) => ({ 'Fn::GetAtt': [logical, 'Arn'] });
const ofType = (s: Synth, type: string) => Object.entries(s.resources).filter(([, r]) => r.Type === type);
const actions = (st: Statement): string[] => [st.Action].flat();

const statementsOf = (props: Json | undefined): Statement[] =>
  (props?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];

/** The statements of the IAM policies attached to a role. */
function roleStatements(s: Synth, roleLogicalId: string): Statement[] {
  return ofType(s, 'AWS::IAM::Policy')
    .filter(([, r]) => JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap(([, r]) => statementsOf(r.Properties));
}

/** The statements of the queue policies of one topology queue. */
function queueStatements(s: Synth, id: string): Statement[] {
  return ofType(s, 'AWS::SQS::QueuePolicy')
    .filter(([, p]) => JSON.stringify(p.Properties?.Queues) === JSON.stringify([{ Ref: queueId(s, id) }]))
    .flatMap(([, p]) => statementsOf(p.Properties));
}

let aws: Synth;
let awsCn: Synth;

beforeAll(() => {
  aws = fromApp({});
  awsCn = fromApp({ partition: 'aws-cn' });
});

function projectionOf(index: string) {
  const p = GSI_PROJECTIONS[index] ?? { type: 'ALL' };
  return p.type === 'INCLUDE'
    ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...p.attributes] }
    : { ProjectionType: p.type };
}

describe('Class: CityLoopStack', () => {
  it('should create one on-demand table with PITR, KMS encryption, TTL, deletion protection and the GSIs', () => {
    // Prepare
    const gsis = topology.table.indexes.map((i) => ({
      IndexName: i.name,
      KeySchema: [
        { AttributeName: i.pk, KeyType: 'HASH' },
        { AttributeName: i.sk, KeyType: 'RANGE' },
      ],
      Projection: projectionOf(i.name),
    }));
    // The sweep re-reads every due case: its index carries only the version.
    expect(projectionOf('due')).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: ['version'] });

    // Act
    const tables = ofType(aws, 'AWS::DynamoDB::Table');

    // Assess
    expect(tables).toHaveLength(1);
    aws.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: arnOf(logicalId(aws, aws.stack.dataKey)),
        },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: Match.arrayWith(gsis),
      }),
    });
    const attributes = tables[0]?.[1].Properties?.AttributeDefinitions as {
      AttributeName: string;
      AttributeType: string;
    }[];
    expect(attributes.every((a) => a.AttributeType === 'S')).toBe(true);
    aws.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('should route each department’s Case.Dispatched events to its own queue, with the rule DLQ and retries', () => {
    // Prepare
    const rules = ofType(aws, 'AWS::Events::Rule').filter(([, r]) => r.Properties?.EventPattern);
    const ruleDlq = arnOf(queueId(aws, 'rule-dlq'));

    // Act
    const dispatched = rules.filter(([, r]) =>
      JSON.stringify(r.Properties?.EventPattern).includes('"Case.Dispatched"'),
    );

    // Assess
    expect(dispatched).toHaveLength(departments.length);
    for (const d of departments) {
      const spec = topology.rules.find((r) => r.id === `route-${d.id}`);
      const rule = dispatched.find(
        ([, r]) => JSON.stringify(r.Properties?.EventPattern) === JSON.stringify(spec?.pattern),
      );
      expect(rule, d.id).toBeDefined();
      expect(rule?.[1].Properties?.EventBusName).toEqual({ Ref: logicalId(aws, aws.stack.bus) });
      expect(rule?.[1].Properties?.Targets).toEqual([
        expect.objectContaining({
          Arn: arnOf(queueId(aws, departmentQueueId(d.id))),
          DeadLetterConfig: { Arn: ruleDlq },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        }),
      ]);
    }
  });

  it('should have exactly one rule per topology rule, each with its pattern, target queue and DLQ', () => {
    // Prepare
    const rules = ofType(aws, 'AWS::Events::Rule').filter(([, r]) => r.Properties?.EventPattern);

    // Act
    const matched = topology.rules.map((spec) =>
      rules.filter(
        ([, r]) =>
          JSON.stringify(r.Properties?.EventPattern) === JSON.stringify(spec.pattern) &&
          JSON.stringify(r.Properties?.Targets).includes(`"${queueId(aws, spec.targetQueue)}"`) &&
          JSON.stringify(r.Properties?.Targets).includes(
            `"DeadLetterConfig":{"Arn":{"Fn::GetAtt":["${queueId(aws, spec.targetDlq)}"`,
          ),
      ),
    );

    // Assess
    expect(rules).toHaveLength(topology.rules.length);
    expect(matched.map((m) => m.length)).toEqual(topology.rules.map(() => 1));
  });

  it('should let EventBridge send to a rule’s queue only from that rule, and to the rule DLQ from rules of the bus', () => {
    // Prepare
    const spec = topology.rules.find((r) => r.id === 'route-zhujian');
    const ruleLogical = ofType(aws, 'AWS::Events::Rule').find(
      ([, r]) => JSON.stringify(r.Properties?.EventPattern) === JSON.stringify(spec?.pattern),
    )?.[0];
    const fromEvents = (st: Statement): boolean =>
      st.Effect === 'Allow' &&
      actions(st).includes('sqs:SendMessage') &&
      JSON.stringify(st.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' });
    const fromRule = (st: Statement): boolean =>
      fromEvents(st) &&
      JSON.stringify(st.Condition) === JSON.stringify({ ArnEquals: { 'aws:SourceArn': arnOf(ruleLogical ?? '') } });

    // Act
    const target = queueStatements(aws, departmentQueueId('zhujian'));
    const dlq = queueStatements(aws, 'rule-dlq');
    const dlqFromEvents = dlq.filter(fromEvents);

    // Assess
    expect(target.filter(fromRule)).toHaveLength(1);
    for (const st of target.filter((s) => s.Effect === 'Allow')) expect(st.Condition).toBeDefined();
    // One statement, whatever the number of rules: an SQS policy holds at most 20 statements and 8 KB.
    expect(dlqFromEvents).toHaveLength(1);
    const sourceArn = JSON.stringify((dlqFromEvents[0]?.Condition as { ArnLike?: Json } | undefined)?.ArnLike);
    expect(sourceArn).toContain(':events:');
    expect(sourceArn).toContain(':rule/');
    expect(sourceArn).toContain(`{"Ref":"${logicalId(aws, aws.stack.bus)}"}`);
    expect(sourceArn).toContain('/*');
    expect(dlq).toHaveLength(2);
  });

  it('should give every queue SQS-managed SSE, a TLS-only policy and the topology retention and visibility', () => {
    for (const spec of topology.queues) {
      // Act
      const props = aws.resources[queueId(aws, spec.id)]?.Properties;
      const statements = queueStatements(aws, spec.id);

      // Assess
      expect(props?.SqsManagedSseEnabled, spec.id).toBe(true);
      expect(props?.MessageRetentionPeriod).toBe(spec.retentionDays * 86400);
      expect(props?.VisibilityTimeout).toBe(spec.visibilityTimeoutSec);
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('should give every non-DLQ queue a redrive policy to its own DLQ with the topology maxReceiveCount', () => {
    // Prepare
    const sources = topology.queues.filter((q) => q.kind !== 'dlq');

    // Act
    const redrives = sources.map((q) => aws.resources[queueId(aws, q.id)]?.Properties?.RedrivePolicy);

    // Assess
    expect(sources.length).toBeGreaterThan(departments.length);
    sources.forEach((q, i) => {
      expect(redrives[i], q.id).toEqual({
        deadLetterTargetArn: arnOf(queueId(aws, q.dlq ?? '')),
        maxReceiveCount: q.maxReceiveCount,
      });
    });
    expect(ofType(aws, 'AWS::SQS::Queue')).toHaveLength(topology.queues.length);
  });

  it('should build every topology function as nodejs24.x on ARM64 with X-Ray and JSON logs, maps read only on failure', () => {
    for (const spec of topology.functions) {
      // Act
      const fn = aws.stack.functions.get(spec.id);
      const props = aws.resources[logicalId(aws, fn)]?.Properties;

      // Assess
      expect(props, spec.id).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSec,
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logicalId(aws, fn?.functionLogGroup) } },
      });
      // no --enable-source-maps: stacks are mapped when a failure is logged (functions/lib/stack-trace.ts)
      const env = (props as { Environment?: { Variables?: Record<string, unknown> } } | undefined)?.Environment;
      expect(env?.Variables?.NODE_OPTIONS, spec.id).toBeUndefined();
    }
    aws.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 180 });
  });

  it('should grant each function exactly what its FunctionSpec asks for', () => {
    for (const spec of topology.functions) {
      // Prepare
      const fn = aws.stack.functions.get(spec.id);
      const roleId = logicalId(aws, fn?.executionRole);
      const env =
        (aws.resources[logicalId(aws, fn)]?.Properties?.Environment as { Variables: Json } | undefined)?.Variables ??
        {};

      // Act
      const statements = roleStatements(aws, roleId);
      const all = statements.flatMap(actions);
      const sendTargets = statements
        .filter((s) => actions(s).includes('sqs:SendMessage'))
        .flatMap((s) => [s.Resource].flat());

      // Assess
      expect(all.includes('events:PutEvents'), spec.id).toBe(spec.putEvents);
      expect(all.includes('dynamodb:PutItem'), spec.id).toBe(spec.table === 'readwrite');
      expect(all.includes('dynamodb:Query'), spec.id).toBe(spec.table !== 'none');
      expect(
        all.some((a) => a.startsWith('s3:')),
        spec.id,
      ).toBe(spec.blobs !== 'none');
      expect(all.some((a) => a.startsWith('dynamodb:') && a.includes('*'))).toBe(false);
      expect(all).not.toContain('dynamodb:Scan');
      expect(sendTargets).toEqual(spec.sendTo.map((q) => arnOf(queueId(aws, q))));
      for (const q of spec.sendTo) expect(env[queueEnvName(q)]).toEqual({ Ref: queueId(aws, q) });
      expect('TABLE_NAME' in env).toBe(spec.table !== 'none');
      expect('EVENT_BUS_NAME' in env).toBe(spec.putEvents);
      for (const s of statements) {
        if (s.Resource === '*')
          expect(
            actions(s).every((a) => a.startsWith('xray:') || (spec.sendSms === true && a === 'sns:Publish')),
            JSON.stringify(s),
          ).toBe(true);
      }
      expect(all.includes('sns:Publish'), spec.id).toBe(spec.sendSms === true);
    }
  });

  it('should wire SQS event sources with ReportBatchItemFailures and the topology batch settings', () => {
    for (const spec of topology.functions.filter((f) => f.sqs)) {
      // Act
      const fn = aws.stack.functions.get(spec.id);

      // Assess
      aws.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(aws, fn) },
        EventSourceArn: arnOf(queueId(aws, spec.sqs?.queue ?? '')),
        BatchSize: spec.sqs?.batchSize,
        MaximumBatchingWindowInSeconds: spec.sqs?.maxBatchingWindowSec,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: spec.sqs?.maxConcurrency },
      });
    }
  });

  it('should invoke scheduled functions on an EventBridge rate schedule, the next tick being the retry', () => {
    for (const spec of topology.functions.filter((f) => f.schedule)) {
      // Act
      const fn = aws.stack.functions.get(spec.id);
      const minutes = spec.schedule?.everyMinutes ?? 0;

      // Assess
      aws.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: `rate(${minutes} minute${minutes === 1 ? '' : 's'})`,
        Targets: [Match.objectLike({ Arn: arnOf(logicalId(aws, fn)) })],
      });
      aws.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(aws, fn) },
        MaximumRetryAttempts: 0,
      });
    }
  });

  it('should expose every topology route on the HTTP API, citizen routes without an authorizer', () => {
    // Prepare
    const routes = topology.functions.flatMap((f) => f.routes ?? []);

    // Act
    const keys = ofType(aws, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);

    // Assess
    expect(routes.length).toBeGreaterThan(0);
    expect(keys).toHaveLength(routes.length);
    for (const route of routes) {
      expect(keys).toContainEqual(
        expect.objectContaining({
          RouteKey: `${route.method} ${route.path}`,
          AuthorizationType: route.auth === 'public' ? 'NONE' : 'JWT',
        }),
      );
    }
    aws.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
  });

  it('should create the staff user pool with agents, supervisors and one group per department', () => {
    // Act
    const groups = ofType(aws, 'AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties?.GroupName);

    // Assess
    expect(new Set(groups)).toEqual(
      new Set(['agents', 'supervisors', ...departments.map((d) => departmentGroup(d.id))]),
    );
    aws.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      DeletionProtection: 'ACTIVE',
    });
  });

  it('should give each department a role that may only consume its own queue', () => {
    for (const d of departments) {
      // Prepare
      const role = aws.stack.departmentRoles.get(d.id);

      // Act
      const statements = roleStatements(aws, logicalId(aws, role));

      // Assess
      expect(statements, d.id).toEqual([
        {
          Effect: 'Allow',
          Action: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
          Resource: arnOf(queueId(aws, departmentQueueId(d.id))),
        },
      ]);
      expect(actions(statements[0] as Statement).every((a) => a.startsWith('sqs:') && !a.includes('Send'))).toBe(true);
    }
  });

  it('should alarm on every DLQ and on the supervisors queue age, to a KMS-encrypted topic', () => {
    // Prepare
    const dlqs = topology.queues.filter((q) => q.kind === 'dlq');
    const alarms = ofType(aws, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties ?? {});
    const topic = ofType(aws, 'AWS::SNS::Topic')[0]?.[0] ?? '';

    // Act
    const dlqAlarms = dlqs.map((q) =>
      alarms.find(
        (a) =>
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Dimensions).includes(`"${queueId(aws, q.id)}"`),
      ),
    );

    // Assess
    for (const [i, alarm] of dlqAlarms.entries()) {
      expect(alarm, dlqs[i]?.id).toMatchObject({
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: topic }],
      });
    }
    expect(alarms).toContainEqual(
      expect.objectContaining({ MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 1800 }),
    );
    aws.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
  });

  it('should keep blobs encrypted, versioned, private, TLS-only, logged and on a lifecycle', () => {
    // Act
    const props = aws.resources[logicalId(aws, aws.stack.blobs)]?.Properties;

    // Assess
    expect(props).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          expect.objectContaining({
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: expect.objectContaining({ SSEAlgorithm: 'aws:kms' }),
          }),
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: expect.objectContaining({ LogFilePrefix: 'blobs/' }),
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({
            ExpirationInDays: 3650,
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 90 },
              { StorageClass: 'GLACIER', TransitionInDays: 365 },
            ],
          }),
        ],
      },
    });
  });

  it('should serve the pages through CloudFront with OAC, and the API route prefixes from the HTTP API', () => {
    // Prepare
    const prefixes = new Set(
      topology.functions.flatMap((f) => f.routes ?? []).map((r) => `/${r.path.split('/')[1]}/*`),
    );

    // Act
    const distribution = ofType(aws, 'AWS::CloudFront::Distribution')[0]?.[1].Properties?.DistributionConfig as Json;
    const behaviors = distribution.CacheBehaviors as Json[];

    // Assess
    aws.template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    expect(distribution.DefaultRootObject).toBe('index.html');
    expect(new Set(behaviors.map((b) => b.PathPattern))).toEqual(prefixes);
    expect(prefixes).toContain('/api/*');
    for (const b of behaviors)
      expect(b).toMatchObject({ ViewerProtocolPolicy: 'https-only', AllowedMethods: expect.arrayContaining(['POST']) });
    expect(Object.keys(aws.resources).some((k) => k.startsWith('WebDeploy'))).toBe(false);
  });

  it('should output the API URL, bus, table, user pool and every department queue URL', () => {
    // Act
    const outputs = Object.keys(aws.json.Outputs as Json);
    const all = Object.keys(aws.outputs);

    // Assess
    expect(outputs).toEqual(expect.arrayContaining(['ApiUrl', 'EventBusName', 'TableName', 'UserPoolId']));
    // Per department, in its nested stack; the parent says which nested stack that is.
    expect(all.filter((o) => o.startsWith('DeptQueueUrl'))).toHaveLength(departments.length);
    expect(all.filter((o) => o.startsWith('DeptRoleArn'))).toHaveLength(departments.length);
    expect(outputs.filter((o) => o.startsWith('Dept'))).toEqual([]);
    expect(outputs.filter((o) => /^Departments\d+StackId$/.test(o))).toHaveLength(aws.templates.length - 1);
  });

  it('should synthesize for aws-cn with no arn:aws: literal and the partition’s URL suffix', () => {
    // Act
    const text = allText(awsCn);
    const apiUrl = JSON.stringify((awsCn.json.Outputs as Record<string, Json>).ApiUrl);

    // Assess
    expect(awsCn.stack.region).toBe('cn-northwest-1');
    expect(text).not.toContain('arn:aws:');
    expect(text).toContain('arn:aws-cn:');
    expect(apiUrl).toContain('"Ref":"AWS::URLSuffix"');
    expect(text).not.toMatch(/execute-api[^"]*amazonaws\.com"/);
    expect(allText(aws)).not.toContain('arn:aws:');
  });

  it('should leave no unacknowledged cdk-nag AwsSolutions finding and no error annotation, in both partitions', () => {
    // Prepare: in aws-cn without an identity provider each staff route is closed, with a warning saying so.
    const staffRoutes = topology.functions.flatMap((f) => f.routes ?? []).filter((r) => r.auth !== 'public');
    const sesUses = topology.functions.reduce(
      (n, f) =>
        n +
        Number(Boolean(f.sendEmail || f.notifies)) +
        Number(Boolean(f.sesInbound)) +
        Number(Boolean(f.invokedBy?.includes('connect'))) +
        Number(Boolean(f.sendSms)),
      0,
    );

    for (const s of [aws, awsCn]) {
      // Act
      const errors = Annotations.fromStack(s.stack).findError('*', Match.anyValue());
      const warnings = Annotations.fromStack(s.stack).findWarning('*', Match.anyValue());
      const closed = warnings.filter((w) => String(w.entry.data).includes('staffJwtIssuer'));
      // SES (sending and receiving) does not exist in the China regions: each email function says so.
      // SES and Amazon Connect do not exist in the China regions: each function that uses them says so.
      const noSes = warnings.filter((w) => String(w.entry.data).includes('not available in aws-cn'));

      // Assess
      expect(s.nagViolations).toEqual([]);
      expect(errors).toEqual([]);
      expect(closed).toHaveLength(s === awsCn ? staffRoutes.length : 0);
      expect(noSes).toHaveLength(s === awsCn ? sesUses : 0);
      expect(warnings).toEqual([...closed, ...noSes].sort((a, b) => warnings.indexOf(a) - warnings.indexOf(b)));
    }
  });

  it('should give every acknowledged cdk-nag rule a specific id and a reason', () => {
    // Act
    const acks = aws.stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));

    // Assess
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) {
      expect(id).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(reason.length, id).toBeGreaterThan(40);
    }
  });
});

/** The default topology plus a department route, with built pages. */
function synthesizeWithStaffRoute(id: string, props: Partial<CityLoopStackProps>): Synth {
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'cityloop-dist-'));
  fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>12345</title>');
  const withStaff: Topology = {
    ...topology,
    functions: [
      ...topology.functions,
      {
        id: 'staff-fixture',
        entry: 'test/unit/infra/fixtures/handler.ts',
        description: 'department API (test)',
        memoryMb: 256,
        timeoutSec: 5,
        routes: [{ method: 'GET', path: '/api/test/staff-only', auth: 'department' }],
        table: 'read',
        putEvents: false,
        sendTo: [],
        blobs: 'readwrite',
      },
    ],
  };
  const app = new App({ context: { ...FEATURE_FLAGS, ...FAST }, builtinCloudFormationValidation: false });
  const stack = new CityLoopStack(app, id, {
    topology: withStaff,
    departments: defaultDepartments,
    webDistPath: dist,
    ...props,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return synthesize(stack);
}

const staffRoute = (s: Synth): Json | undefined =>
  ofType(s, 'AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties?.RouteKey === 'GET /api/test/staff-only')?.[1]
    .Properties;

describe('Class: CityLoopStack (channel credentials and email)', () => {
  it('should receive mail with an SES rule that stores the raw MIME in the encrypted bucket, then invokes the function', () => {
    // Act
    const rules = aws.template.findResources('AWS::SES::ReceiptRule');
    const rule = Object.values(rules)[0] as { Properties: { Rule: Record<string, unknown> } };
    // Assess
    expect(Object.keys(rules)).toHaveLength(1);
    expect(rule.Properties.Rule).toMatchObject({ Enabled: true, ScanEnabled: true, TlsPolicy: 'Require' });
    const actions = rule.Properties.Rule.Actions as { S3Action?: Record<string, unknown>; LambdaAction?: unknown }[];
    expect(actions[0]?.S3Action).toMatchObject({ ObjectKeyPrefix: 'raw/email/ses/' });
    expect(actions[0]?.S3Action?.KmsKeyArn).toBeDefined();
    expect(actions[1]?.LambdaAction).toMatchObject({ InvocationType: 'Event' });
  });

  it('should give email functions MAIL_FROM and SES send rights on that identity only', () => {
    const fn = aws.stack.functions.get('email-inbound');
    expect(fn).toBeDefined();
    const json = JSON.stringify(aws.json);
    expect(json).toContain('"MAIL_FROM"');
    expect(json).toMatch(/ses:SendRawEmail/);
    expect(json).not.toMatch(/identity\/\*"/);
  });

  it('should keep WeChat credentials in one KMS-encrypted secret that only the WeChat functions may read', () => {
    // Act
    const secrets = Object.entries(aws.template.findResources('AWS::SecretsManager::Secret')).filter(([id]) =>
      id.startsWith('SecretWechat'),
    );
    // Assess
    expect(secrets).toHaveLength(1);
    const [logicalId, secret] = secrets[0] as [string, { Properties: Record<string, unknown> }];
    expect(secret.Properties.KmsKeyId).toBeDefined();
    const readers = Object.entries(aws.template.findResources('AWS::IAM::Policy')).filter(
      ([, p]) => JSON.stringify(p).includes('secretsmanager:GetSecretValue') && JSON.stringify(p).includes(logicalId),
    );
    const wanted = topology.functions.filter((f) => f.secrets?.some((x) => x.id === 'wechat')).map((f) => f.id);
    expect(wanted).toEqual(expect.arrayContaining(['wechat-push', 'wechat-miniprogram']));
    expect(readers.map(([id]) => id.replace(/RoleDefaultPolicy.*$/, '')).sort()).toEqual(
      wanted.map((id) => `Fn${pascal(id)}`).sort(),
    );
  });
});

describe('Class: CityLoopStack (SLA breach alarm)', () => {
  it('should alarm on the sweep’s breach count in the CityLoop namespace', () => {
    aws.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CityLoop',
      MetricName: 'SlaBreaches',
      Statistic: 'Sum',
      Period: 900,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
});

describe('Function: WEB_INDEX_FUNCTION', () => {
  it('should map page folders to their index.html and leave files alone', () => {
    // Prepare: the CloudFront Function's code, run as CloudFront would.
    const handler = new Function(`${WEB_INDEX_FUNCTION}; return handler;`)() as (e: { request: { uri: string } }) => {
      uri: string;
    };
    const uriOf = (uri: string) => handler({ request: { uri } }).uri;
    // Assess
    expect(uriOf('/')).toBe('/index.html');
    expect(uriOf('/agent')).toBe('/agent/index.html');
    expect(uriOf('/dept/')).toBe('/dept/index.html');
    expect(uriOf('/assets/ui-1.js')).toBe('/assets/ui-1.js');
    expect(uriOf('/data/taxonomy.json')).toBe('/data/taxonomy.json');
  });

  it('should be attached to the pages distribution as a viewer-request function', () => {
    const dist = Object.values(aws.template.findResources('AWS::CloudFront::Distribution'))[0] as {
      Properties: { DistributionConfig: { DefaultCacheBehavior: { FunctionAssociations?: { EventType: string }[] } } };
    };
    expect(dist.Properties.DistributionConfig.DefaultCacheBehavior.FunctionAssociations?.[0]?.EventType).toBe(
      'viewer-request',
    );
  });
});

describe('Class: CityLoopStack (size)', () => {
  it('should let API Gateway invoke each API function through one permission scoped to this API', () => {
    // Prepare
    const perms = Object.values(aws.template.findResources('AWS::Lambda::Permission')).filter(
      (p) => (p as { Properties: { Principal?: string } }).Properties.Principal === 'apigateway.amazonaws.com',
    ) as { Properties: { FunctionName: unknown; SourceArn: unknown } }[];
    const apiFunctions = topology.functions.filter((f) => f.routes?.length);
    // Assess
    expect(perms).toHaveLength(apiFunctions.length);
    for (const spec of apiFunctions) {
      const fn = aws.stack.functions.get(spec.id);
      const mine = perms.filter((p) => JSON.stringify(p.Properties.FunctionName).includes(logicalId(aws, fn!)));
      expect(mine, spec.id).toHaveLength(1);
      expect(JSON.stringify(mine[0]?.Properties.SourceArn)).toContain(logicalId(aws, aws.stack.api));
    }
  });

  it('should stay well under CloudFormation’s 500 resources a template, parent and nested, in both partitions', () => {
    for (const s of [aws, awsCn]) {
      expect(s.templates.length).toBe(2);
      for (const t of s.templates) {
        expect(Object.keys(t.json.Resources).length, t.stack.node.path).toBeLessThanOrEqual(450);
        expect(Object.keys(t.json.Outputs ?? {}).length, t.stack.node.path).toBeLessThanOrEqual(150);
      }
    }
  });
});

describe('Class: CityLoopStack (Amazon Connect)', () => {
  it('should let Amazon Connect of this account invoke the hotline contact function, and nothing else', () => {
    const perms = Object.values(aws.template.findResources('AWS::Lambda::Permission')).filter(
      (p) => (p as { Properties: { Principal?: string } }).Properties.Principal === 'connect.amazonaws.com',
    ) as { Properties: Record<string, unknown> }[];
    expect(perms).toHaveLength(1);
    expect(JSON.stringify(perms[0]?.Properties.FunctionName)).toContain('FnConnectContact');
    expect(perms[0]?.Properties.SourceAccount).toBeDefined();
  });
});

describe('Class: CityLoopStack (citizen notices)', () => {
  it('should give every notifying function the link key as a dynamic reference and the public URL', () => {
    for (const spec of topology.functions.filter((f) => f.notifies)) {
      const fn = aws.stack.functions.get(spec.id);
      const env =
        (aws.resources[logicalId(aws, fn)]?.Properties?.Environment as { Variables: Json } | undefined)?.Variables ??
        {};
      const key = JSON.stringify(env.CITIZEN_TOKEN_SECRET);
      expect(key, spec.id).toContain('{{resolve:secretsmanager:');
      expect(env.CITYLOOP_PUBLIC_URL, spec.id).toBeDefined();
      expect(env.MAIL_FROM, spec.id).toBeDefined();
    }
  });
});

describe('Class: CityLoopStack (SMS and WeChat notices)', () => {
  it('should consume the notify queue with the notify function, which may text phones but publish to no topic', () => {
    // Prepare
    const spec = topology.functions.find((f) => f.id === 'notify');
    const fn = aws.stack.functions.get('notify');
    const roleId = logicalId(aws, fn?.executionRole);

    // Act
    const statements = roleStatements(aws, roleId).filter((st) => actions(st).includes('sns:Publish'));

    // Assess
    expect(spec).toMatchObject({ sqs: { queue: 'notify' }, sendSms: true, table: 'none', sendTo: [] });
    aws.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(aws, fn) },
      EventSourceArn: arnOf(queueId(aws, 'notify')),
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(statements.map((st) => [st.Effect, st.Resource === '*' ? '*' : 'topics'])).toEqual([
      ['Allow', '*'],
      ['Deny', 'topics'],
    ]);
    expect(JSON.stringify(statements[1]?.Resource)).toContain(':sns:*:*:*');
    const others = topology.functions.filter((f) => f.id !== 'notify');
    for (const f of others) {
      const role = logicalId(aws, aws.stack.functions.get(f.id)?.executionRole);
      expect(roleStatements(aws, role).flatMap(actions), f.id).not.toContain('sns:Publish');
    }
  });

  it('should grant no SMS in aws-cn and say so', () => {
    // Act
    const fn = awsCn.stack.functions.get('notify');
    const statements = roleStatements(awsCn, logicalId(awsCn, fn?.executionRole));
    const warnings = Annotations.fromStack(awsCn.stack).findWarning('*', Match.stringLikeRegexp('SNS SMS'));

    // Assess
    expect(statements.flatMap(actions)).not.toContain('sns:Publish');
    expect(warnings).toHaveLength(1);
  });
});

describe('Class: CityLoopStack (staff routes, built pages)', () => {
  let custom: Synth;

  beforeAll(() => {
    custom = synthesizeWithStaffRoute('CityLoopStaff', {});
  });

  it('should put staff routes behind a JWT authorizer whose issuer is the user pool’s own URL', () => {
    // Prepare
    const pool = logicalId(custom, custom.stack.userPool);

    // Act
    const route = staffRoute(custom);
    const authorizer = ofType(custom, 'AWS::ApiGatewayV2::Authorizer')[0];

    // Assess
    expect(route).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizer?.[0] } });
    expect(authorizer?.[1].Properties).toMatchObject({
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Issuer: { 'Fn::GetAtt': [pool, 'ProviderURL'] },
        // The SRP client and the pages' hosted-UI client (authorization code + PKCE).
        Audience: [
          { Ref: logicalId(custom, custom.stack.staffClient) },
          { Ref: logicalId(custom, custom.stack.pagesClient) },
        ],
      },
    });
  });

  it('should grant blob read/put (never delete) and index-scoped table reads to a function that asks for them', () => {
    // Prepare
    const fn = custom.stack.functions.get('staff-fixture');

    // Act
    const all = roleStatements(custom, logicalId(custom, fn?.executionRole)).flatMap(actions);

    // Assess
    expect(all).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 'kms:Decrypt', 'dynamodb:Query']));
    expect(all.some((a) => a.startsWith('s3:Delete'))).toBe(false);
    expect(all).not.toContain('dynamodb:PutItem');
  });

  it('should deploy built pages with a BucketDeployment and still pass cdk-nag', () => {
    // Assess
    expect(Object.keys(custom.resources).some((k) => k.startsWith('WebDeploy'))).toBe(true);
    expect(custom.nagViolations).toEqual([]);
  });
});

describe('Class: CityLoopStack (China regions)', () => {
  let closed: Synth;
  let oidc: Synth;

  beforeAll(() => {
    closed = synthesizeWithStaffRoute('CityLoopCn', { env: { region: 'cn-north-1' }, web: {} });
    oidc = synthesizeWithStaffRoute('CityLoopCnOidc', {
      env: { region: 'cn-northwest-1' },
      web: false,
      staffAuth: { kind: 'oidc', issuer: 'https://idp.example.gov.cn/realms/12345', audience: ['cityloop-staff'] },
    });
  });

  it('should create no Cognito user pool and no CloudFront distribution by default in aws-cn', () => {
    // Act
    const types = new Set(Object.values(awsCn.resources).map((r) => r.Type));

    // Assess
    expect([...types].filter((t) => t.startsWith('AWS::Cognito::'))).toEqual([]);
    expect(types.has('AWS::CloudFront::Distribution')).toBe(false);
    expect(Object.keys(awsCn.json.Outputs as Json)).not.toContain('UserPoolId');
  });

  it('should keep staff routes closed with IAM auth, and say so, when no identity provider is configured', () => {
    // Act
    const warnings = Annotations.fromStack(closed.stack).findWarning('*', Match.stringLikeRegexp('staffJwtIssuer'));

    // Assess
    expect(staffRoute(closed)).toMatchObject({ AuthorizationType: 'AWS_IAM' });
    // One warning per closed staff route: the topology's own plus the test fixture's.
    const staffRoutes = topology.functions.flatMap((f) => f.routes ?? []).filter((r) => r.auth !== 'public').length + 1;
    expect(warnings).toHaveLength(staffRoutes);
    expect(closed.nagViolations).toEqual([]);
  });

  it('should serve pages through an origin access identity when asked in aws-cn (no OAC there)', () => {
    // Assess
    closed.template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 0);
    closed.template.resourceCountIs('AWS::CloudFront::CloudFrontOriginAccessIdentity', 1);
    expect(allText(closed)).not.toContain('arn:aws:');
  });

  it('should put staff routes behind the configured OIDC issuer', () => {
    // Act
    const authorizer = ofType(oidc, 'AWS::ApiGatewayV2::Authorizer')[0];

    // Assess
    expect(staffRoute(oidc)).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizer?.[0] } });
    expect(authorizer?.[1].Properties).toMatchObject({
      JwtConfiguration: { Issuer: 'https://idp.example.gov.cn/realms/12345', Audience: ['cityloop-staff'] },
    });
    expect(oidc.nagViolations).toEqual([]);
  });
});

describe('Function: resolveTarget', () => {
  const ctx =
    (values: Record<string, string>) =>
    (key: string): unknown =>
      values[key];

  it('should pick cn-northwest-1 for partition aws-cn without a region', () => {
    expect(resolveTarget(ctx({ partition: 'aws-cn' }), {})).toEqual({
      partition: 'aws-cn',
      region: 'cn-northwest-1',
      account: undefined,
    });
  });

  it('should derive the partition from a China region', () => {
    expect(resolveTarget(ctx({ region: 'cn-north-1' }), {}).partition).toBe('aws-cn');
  });

  it('should stay environment-agnostic in aws without any region', () => {
    expect(resolveTarget(ctx({}), {})).toEqual({ partition: 'aws', region: undefined, account: undefined });
  });

  it('should ignore a CLI default region of another partition', () => {
    // Act
    const target = resolveTarget(ctx({ partition: 'aws-cn' }), {
      CDK_DEFAULT_REGION: 'us-east-1',
      CDK_DEFAULT_ACCOUNT: '111111111111',
    });

    // Assess
    expect(target.region).toBe('cn-northwest-1');
  });

  it('should refuse a region outside the asked partition and an unknown partition', () => {
    expect(() => resolveTarget(ctx({ partition: 'aws-cn', region: 'us-east-1' }), {})).toThrow(/not in partition/);
    expect(() => resolveTarget(ctx({ partition: 'aws-us-gov' }), {})).toThrow(/must be/);
  });
});

describe('Function: toEventPattern', () => {
  it('should map EventBridge JSON field names to CDK names', () => {
    expect(toEventPattern({ source: ['a'], 'detail-type': ['B'], detail: { x: [1] } })).toEqual({
      source: ['a'],
      detailType: ['B'],
      detail: { x: [1] },
    });
  });

  it('should refuse a top-level field CDK cannot express', () => {
    expect(() => toEventPattern({ $or: [{ source: ['a'] }] })).toThrow(/\$or/);
  });
});
