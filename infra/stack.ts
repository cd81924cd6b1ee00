/**
 * The CityLoop stack, built from the one topology (`core/topology.ts`): the same queues, rules and functions the local
 * stack runs. Nothing here knows a department by name; add one to `config/departments.json` and it gets a queue, a DLQ,
 * a rule, an alarm, a Cognito group, an IAM role and two outputs, in a nested stack of departments
 * (`infra/departments-stack.ts`): the parent keeps what is shared, so its size does not grow with the city.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  CfnOutput,
  Duration,
  Fn,
  Lazy,
  RemovalPolicy,
  Stack,
  type StackProps,
  Tags,
  Token,
  Validations,
} from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sesActions from 'aws-cdk-lib/aws-ses-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { rules } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { Department } from '#core/taxonomy/types.ts';
import { type FunctionSpec, type RouteSpec, SLA_METRICS_NAMESPACE, type Topology } from '#core/topology.ts';
import { bundlePortsOf } from './bundling.ts';
import {
  allowRulesOfBus,
  createDlqAlarm,
  createTopologyQueue,
  createTopologyRule,
  DEPARTMENTS_PER_STACK,
  DepartmentsStack,
  departmentQueues,
  departmentRules,
  departmentsStackId,
  pascal,
  placeDepartments,
  ruleDlqRef,
} from './departments-stack.ts';
import { CityLoopFunction, PROJECT_ROOT } from './function.ts';

export { DEPARTMENTS_PER_STACK, departmentGroup, pascal, toEventPattern } from './departments-stack.ts';

/** What a global secondary index carries besides its keys and the table's keys. */
export type GsiProjection =
  | { type: 'ALL' }
  | { type: 'KEYS_ONLY' }
  | { type: 'INCLUDE'; attributes: readonly string[] };

/**
 * The projection of each GSI (absent: ALL). An index costs one write per table write that touches its entry, sized
 * like the projected entry, so ALL pays the whole item again (a 5 KB case: 5 WRU per index per write). ALL stays where
 * the reader uses the document from the index: gsi1/gsi2 (reports by tracking number / citizen), gsi3 (department
 * lists). `reqday` is KEYS_ONLY: the Open311 feed, read a few times an hour, batch-reads the documents of a page
 * instead of every case write paying them again (~8 WRU a report). `due` carries only `version`: the sweep reads keys and version from it and re-reads
 * every due case before acting (core/sla/sweep-task.ts), so an entry costs ~1 WRU. Changing the projection of a
 * deployed index needs the index dropped and re-created (CloudFormation does not update it in place).
 */
export const GSI_PROJECTIONS: Readonly<Record<string, GsiProjection>> = {
  due: { type: 'INCLUDE', attributes: ['version'] },
  // The Open311 feed reads the documents of a page with BatchGetItem (functions/open311/dynamo-feed.ts).
  reqday: { type: 'KEYS_ONLY' },
};

function projectionProps(
  name: string,
): Pick<dynamodb.GlobalSecondaryIndexProps, 'projectionType' | 'nonKeyAttributes'> {
  const p = GSI_PROJECTIONS[name] ?? { type: 'ALL' };
  if (p.type === 'INCLUDE')
    return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...p.attributes] };
  return { projectionType: p.type === 'KEYS_ONLY' ? dynamodb.ProjectionType.KEYS_ONLY : dynamodb.ProjectionType.ALL };
}

/** Cognito groups the handlers check (`cognito:groups` claim). */
export const AGENTS_GROUP = 'agents';
export const SUPERVISORS_GROUP = 'supervisors';

/** AWS guidance for Lambda event sources: visibility timeout ≥ 6× the consumer's timeout. */
const VISIBILITY_FACTOR = 6;
/**
 * 督办 items (SLA warnings, breaches, approvals) are raised hours before a deadline; one left untouched for 30 minutes
 * means nobody is watching the supervisors' queue.
 */
const SUPERVISORS_MAX_AGE = Duration.minutes(30);
/** 定期10年: the shortest retention term for government records (机关文件材料归档范围和文书档案保管期限规定). */
const DEFAULT_BLOB_EXPIRY_DAYS = 3650;
const DEFAULT_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

export interface WebOptions {
  /** Alternate domain name (required by CloudFront in the China regions, with an ICP filing). */
  domainName?: string;
  /** ACM certificate ARN for `domainName` (us-east-1 for CloudFront in the aws partition). */
  certificateArn?: string;
  /** A WAFv2 web ACL (CLOUDFRONT scope) to attach. */
  webAclArn?: string;
}

/** Who signs staff in: the stack's own Cognito user pool, or an external OIDC provider (e.g. the city's 统一身份认证). */
export type StaffAuth = { kind: 'cognito' } | { kind: 'oidc'; issuer: string; audience: string[] };

export interface CityLoopStackProps extends StackProps {
  topology: Topology;
  departments: Department[];
  /** Where topology entries are resolved; default: the repository root. */
  projectRoot?: string;
  /**
   * The built static pages. Deployed with a BucketDeployment only if the folder exists at synth time (a fresh clone
   * synthesizes without building the pages first). Default `<projectRoot>/web/dist`.
   */
  webDistPath?: string;
  /**
   * `false`: no CloudFront/static pages. Default: on in aws; off in aws-cn, where CloudFront needs an ICP-filed domain
   * and its certificate, and has no origin access control (the distribution then uses an origin access identity).
   */
  web?: WebOptions | false;
  /** Default: a Cognito user pool in aws; in aws-cn (no Cognito user pools there) an external OIDC issuer if given. */
  staffAuth?: StaffAuth;
  /**
   * Prefix of the Cognito hosted sign-in domain (`<prefix>.auth.<region>.amazoncognito.com`, unique per region;
   * lowercase letters, digits, hyphens). Default: `<stack name>-staff-<account>`.
   */
  staffDomainPrefix?: string;
  /** Subscribe this address to the alarm topic. */
  alarmEmail?: string;
  /** HTTP API stage throttling (requests per second, burst). */
  throttle?: { rateLimit: number; burstLimit: number };
  /** Raw input and attachments expire after this many days. */
  blobExpiryDays?: number;
  /** The SES-verified sender of acknowledgements and notices (context `mailFrom`). */
  mailFrom?: string;
  /** The city's mail domain that SES receives for (context `mailDomain`); default: every verified domain. */
  mailDomain?: string;
  /** Base URL of the links in citizen notices (context `publicUrl`); default: the pages' URL, else the API's. */
  publicUrl?: string;
  /** The Amazon Connect instance whose contact flows invoke the hotline function (context `connectInstanceArn`). */
  connectInstanceArn?: string;
  /** Alarm when this many SLA breaches happen within 15 minutes (default 10). */
  slaBreachAlarm?: number;
}

/** CloudFront Function (viewer request): a path without a file extension is a page folder. */
export const WEB_INDEX_FUNCTION = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) request.uri = uri + 'index.html';
  else if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) request.uri = uri + '/index.html';
  return request;
}`;

export class CityLoopStack extends Stack {
  public readonly table: dynamodb.Table;
  public readonly bus: events.EventBus;
  public readonly queues = new Map<string, sqs.Queue>();
  public readonly functions = new Map<string, CityLoopFunction>();
  public readonly api: apigw.HttpApi;
  public readonly apiStage: apigw.HttpStage;
  /** Cognito staff pool (absent with an external OIDC issuer, and by default in aws-cn where Cognito has no user pools). */
  public userPool?: cognito.UserPool;
  public staffClient?: cognito.UserPoolClient;
  /** The pages' OAuth 2.0 client (authorization code + PKCE, no secret) and the hosted sign-in domain. */
  public pagesClient?: cognito.UserPoolClient;
  public staffDomain?: cognito.UserPoolDomain;
  /** What the pages read at run time (`/config.json` in the site bucket): how staff sign in. */
  public pagesConfig: Record<string, unknown> = { auth: { mode: 'bearer' } };
  public readonly dataKey: kms.Key;
  public readonly blobs: s3.Bucket;
  public readonly alarmTopic: sns.Topic;
  public readonly departmentRoles = new Map<string, iam.Role>();
  /** The nested stacks of departments, in order (`Departments1`, `Departments2`, ...; see `placeDepartments`). */
  public readonly departmentStacks: DepartmentsStack[] = [];
  public readonly distribution?: cloudfront.Distribution;
  private readonly topology: Topology;
  /** `aws-cn` when the region is a China region; `aws` otherwise (including environment-agnostic). */
  public readonly partitionName: 'aws' | 'aws-cn';

  constructor(scope: Construct, id: string, props: CityLoopStackProps) {
    super(scope, id, props);
    const { topology } = props;
    this.topology = topology;
    this.partitionName =
      !Token.isUnresolved(this.region) && RegionInfo.get(this.region).partition === 'aws-cn' ? 'aws-cn' : 'aws';
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    const departments = props.departments.filter((d) => d.kind !== 'centre');
    Tags.of(this).add('app', topology.app);

    // Keys. One CMK for citizen data at rest (table, blobs): the city owns the key policy, every use is in CloudTrail,
    // and disabling the key makes the data unreadable (crypto-shredding). AWS managed keys allow none of that.
    const dataKey = new kms.Key(this, 'DataKey', {
      description: `${topology.app}: citizen data at rest (table, raw input, attachments)`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.dataKey = dataKey;

    // Table.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: topology.table.pk, type: dynamodb.AttributeType.STRING },
      sortKey: { name: topology.table.sk, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: dataKey,
      timeToLiveAttribute: 'expiresAt',
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of topology.table.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.pk, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sk, type: dynamodb.AttributeType.STRING },
        ...projectionProps(index.name),
      });
    }
    const indexNames = topology.table.indexes.map((i) => i.name);

    // What goes to the nested stacks of departments: each department's queues, DLQs and rules. The rest stays here.
    const departmentQueueIds = new Set(departments.flatMap((d) => departmentQueues(topology, d.id)).map((q) => q.id));
    const departmentRuleIds = new Set(departments.flatMap((d) => departmentRules(topology, d.id)).map((r) => r.id));

    // Queues: DLQs first, so every source queue finds its DLQ.
    const specs = topology.queues
      .filter((q) => !departmentQueueIds.has(q.id))
      .sort((a, b) => Number(b.kind === 'dlq') - Number(a.kind === 'dlq'));
    for (const spec of specs) {
      const dlq = spec.dlq ? this.queue(spec.dlq) : undefined;
      this.queues.set(spec.id, createTopologyQueue(this, spec, dlq, this.stackName));
    }
    for (const spec of specs) {
      const redriveTarget = specs.some((s) => s.dlq === spec.id);
      const ruleTargetDlq = topology.rules.some((r) => r.targetDlq === spec.id);
      if (spec.kind !== 'dlq' || redriveTarget || !ruleTargetDlq) continue;
      // The rule-target DLQ: cdk-nag only recognizes RedrivePolicy references as DLQ use.
      Validations.of(this.queue(spec.id)).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          `${spec.id} is itself a dead-letter queue: the DeadLetterConfig of EventBridge rule targets, which ` +
          'cdk-nag does not recognize as DLQ use. A DLQ of a DLQ would only move the same messages again.',
      });
    }

    // Bus, archive, rules.
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${this.stackName}-${topology.busId}` });
    this.bus.archive('Archive', {
      description: `${topology.app}: every event, for replay`,
      eventPattern: { account: [this.account] },
      retention: Duration.days(topology.archive.retentionDays),
    });
    // Rule DLQs are shared by every rule, here and in the nested stacks: one statement for the rules of the bus.
    for (const id of new Set(topology.rules.map((r) => r.targetDlq))) allowRulesOfBus(this.queue(id), this.bus);
    for (const rule of topology.rules) {
      if (departmentRuleIds.has(rule.id)) continue;
      createTopologyRule(
        this,
        rule,
        this.bus,
        this.queue(rule.targetQueue),
        ruleDlqRef(this, rule.targetDlq, this.queue(rule.targetDlq)),
      );
    }

    // Blobs: raw input and attachments. Access logs go to their own bucket.
    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // CloudFront standard logs are delivered with an ACL; S3 server access logs use the bucket policy.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      // Kept a year: ≥ six months (网络安全法 art. 21).
      lifecycleRules: [{ id: 'expire', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log destination bucket; logging it into itself would log its own log deliveries.',
    });
    this.blobs = new s3.Bucket(this, 'Blobs', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: dataKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'blobs/',
      lifecycleRules: [
        {
          id: 'tiering',
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) },
            { storageClass: s3.StorageClass.GLACIER, transitionAfter: Duration.days(365) },
          ],
          expiration: Duration.days(props.blobExpiryDays ?? DEFAULT_BLOB_EXPIRY_DAYS),
          noncurrentVersionExpiration: Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Staff sign-in. Handlers check the `cognito:groups` claim (agents, supervisors, dept-<id>).
    const staffAuth = props.staffAuth ?? (this.partitionName === 'aws-cn' ? undefined : { kind: 'cognito' });
    const web = props.web ?? (this.partitionName === 'aws-cn' ? false : {});
    const staffAuthorizer =
      staffAuth?.kind === 'cognito'
        ? this.addUserPool(web === false ? undefined : web, props.staffDomainPrefix)
        : staffAuth?.kind === 'oidc'
          ? new HttpJwtAuthorizer('StaffJwt', staffAuth.issuer, {
              jwtAudience: staffAuth.audience,
              identitySource: ['$request.header.Authorization'],
            })
          : undefined;
    if (staffAuth?.kind === 'oidc') {
      // The city's OIDC provider: the pages discover its endpoints from the issuer (code + PKCE, public client).
      this.pagesConfig = {
        auth: {
          mode: 'oauth',
          oauth: { issuer: staffAuth.issuer, clientId: staffAuth.audience[0], scopes: ['openid', 'profile'] },
        },
      };
    }

    // HTTP API with throttling and JSON access logs (no headers, no bodies: nothing personal in them).
    this.api = new apigw.HttpApi(this, 'Api', {
      description: `${topology.app}: citizen, agent, department and supervisor API`,
      createDefaultStage: false,
    });
    const apiAccessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.SIX_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const throttle = props.throttle ?? DEFAULT_THROTTLE;
    this.apiStage = new apigw.HttpStage(this, 'ApiStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(apiAccessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            time: '$context.requestTime',
            method: '$context.httpMethod',
            route: '$context.routeKey',
            status: '$context.status',
            latency: '$context.responseLatency',
            length: '$context.responseLength',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });

    // Alarm topic (alarms below and in the nested stacks). The topic key lets CloudWatch publish.
    const alarmKey = new kms.Key(this, 'AlarmKey', {
      description: `${topology.app}: alarm topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    alarmKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'Alarms', {
      displayName: `${topology.app} alarms`,
      masterKey: alarmKey,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subs.EmailSubscription(props.alarmEmail));
    const alarmAction = new cwActions.SnsAction(this.alarmTopic);

    // The departments, a fixed number per nested stack, in the order of config/departments.json (see
    // `placeDepartments`: append new departments at the end, so none moves to another stack, which would replace its
    // queue and lose the messages in it). Their queues join `this.queues`: `this.queue(id)` finds them, and a function
    // here that binds one gets it through a nested stack output, which CDK adds.
    const chunks = placeDepartments(departments);
    const range = (i: number): string =>
      `${i * DEPARTMENTS_PER_STACK + 1}-${i * DEPARTMENTS_PER_STACK + (chunks[i]?.length ?? 0)}`;
    for (const [i, chunk] of chunks.entries()) {
      const nested = new DepartmentsStack(this, departmentsStackId(i), {
        description: `${topology.app}: departments ${range(i)}`,
        topology,
        departments: chunk,
        queueNamePrefix: this.stackName,
        bus: this.bus,
        parentQueue: (id) => this.queue(id),
        alarmAction,
        userPool: this.userPool,
      });
      for (const [id, q] of nested.queues) this.queues.set(id, q);
      for (const [id, role] of nested.roles) this.departmentRoles.set(id, role);
      this.departmentStacks.push(nested);
    }

    // Functions, their grants, event sources, schedules and routes.
    for (const spec of topology.functions) {
      const fn = new CityLoopFunction(this, `Fn${pascal(spec.id)}`, {
        entry: spec.entry,
        description: spec.description,
        memoryMb: spec.memoryMb,
        timeout: Duration.seconds(spec.timeoutSec),
        projectRoot,
        // Only the AWS clients this function's spec uses are bundled (infra/bundling.ts).
        ports: bundlePortsOf(spec),
      });
      this.functions.set(spec.id, fn);
      if (spec.table !== 'none') fn.bindTable(this.table, spec.table, indexNames);
      if (spec.putEvents) fn.bindBus(this.bus);
      for (const q of spec.sendTo) fn.bindQueue(q, this.queue(q), 'send');
      for (const q of spec.receiveFrom ?? []) fn.bindQueue(q, this.queue(q), 'receive');
      if (spec.blobs !== 'none') fn.bindBlobs(this.blobs, spec.blobs);
      for (const sec of spec.secrets ?? []) fn.bindSecret(this.secret(sec.id), sec.env);
      if (spec.sendEmail || spec.notifies) this.bindMail(spec, fn, props.mailFrom);
      if (spec.notifies) this.bindNotices(spec, fn);
      if (spec.sesInbound) this.addSesInbound(spec, fn, spec.sesInbound.prefix, props.mailDomain);
      if (spec.sendSms) this.allowSms(spec, fn);
      if (spec.invokedBy?.includes('connect')) this.allowConnect(spec, fn, props.connectInstanceArn);
      if (spec.sqs) this.addSqsSource(spec, fn);
      if (spec.schedule) {
        new events.Rule(this, `Schedule${pascal(spec.id)}`, {
          description: `${spec.id}: every ${spec.schedule.everyMinutes} min`,
          schedule: events.Schedule.rate(Duration.minutes(spec.schedule.everyMinutes)),
          // A missed tick is covered by the next one: a stale tick is not worth retrying for long.
          targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(2) })],
        });
        // No Lambda-side retries either: the next tick is the retry, and retries would overlap with it.
        fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(2) });
      }
      if (spec.routes?.length) this.addRoutes(spec, fn, spec.routes, staffAuthorizer);
    }

    // Alarms: any message in any DLQ (the departments' DLQs alarm in their nested stacks), and a supervisors' queue
    // nobody reads.
    for (const spec of specs) {
      if (spec.kind === 'dlq') createDlqAlarm(this, spec, this.queue(spec.id), alarmAction);
    }
    const supervisors = topology.queues.find((q) => q.kind === 'supervisors');
    if (supervisors) {
      new cloudwatch.Alarm(this, 'AlarmSupervisorsAge', {
        alarmDescription: `${supervisors.id}: oldest 督办 item waiting > ${SUPERVISORS_MAX_AGE.toMinutes()} min`,
        metric: this.queue(supervisors.id).metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: SUPERVISORS_MAX_AGE.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(alarmAction);
    }
    // 超期 in bulk: the sweep's breach count (Embedded Metric Format from functions/sweep.ts) over 15 minutes.
    new cloudwatch.Alarm(this, 'AlarmSlaBreaches', {
      alarmDescription: `督办: ${props.slaBreachAlarm ?? 10} or more SLA breaches in 15 minutes`,
      metric: new cloudwatch.Metric({
        namespace: SLA_METRICS_NAMESPACE,
        metricName: 'SlaBreaches',
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(15),
      }),
      threshold: props.slaBreachAlarm ?? 10,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(alarmAction);

    // Static pages behind CloudFront (OAC), with the API under the same origin for its route prefixes.
    if (web !== false) {
      this.distribution = this.addWeb(
        web,
        accessLogs,
        props.webDistPath ?? path.join(projectRoot, 'web', 'dist'),
        topology.functions,
      );
    }

    // Links in citizen notices point at the pages when they are served, else at the API.
    const publicUrl =
      props.publicUrl ??
      (this.distribution
        ? `https://${this.distribution.distributionDomainName}`
        : this.apiStage.url.replace(/\/$/, ''));
    for (const fn of this.noticeFunctions) fn.addEnvironment('CITYLOOP_PUBLIC_URL', publicUrl);

    // Outputs.
    new CfnOutput(this, 'ApiUrl', { value: this.apiStage.url });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'BlobBucketName', { value: this.blobs.bucketName });
    if (this.userPool && this.staffClient) {
      new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.staffClient.userPoolClientId });
    }
    if (this.staffDomain && this.pagesClient) {
      new CfnOutput(this, 'StaffSignInDomain', { value: this.staffDomain.baseUrl() });
      new CfnOutput(this, 'PagesClientId', { value: this.pagesClient.userPoolClientId });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    // Each department's role ARN and queue URL (DeptRoleArn…, DeptQueueUrl…) are outputs of its nested stack (200
    // outputs a template); here, which nested stack holds which departments.
    for (const [i, nested] of this.departmentStacks.entries()) {
      new CfnOutput(this, `${departmentsStackId(i)}StackId`, {
        description: `DeptRoleArn…/DeptQueueUrl… of departments ${range(i)} (config/departments.json order)`,
        value: nested.stackId,
      });
    }
    if (this.distribution) {
      new CfnOutput(this, 'WebUrl', { value: `https://${this.distribution.distributionDomainName}` });
    }
  }

  /** The queue with this topology id; a dangling reference in the topology fails the synth, loudly. */
  queue(id: string): sqs.Queue {
    const q = this.queues.get(id);
    if (!q) throw new Error(`topology refers to unknown queue "${id}"`);
    return q;
  }

  /** The pages' origin (`https://<custom domain or CloudFront domain>`), resolved once the distribution exists. */
  private pagesOrigin(web: WebOptions): string {
    if (web.domainName) return `https://${web.domainName}`;
    return Lazy.string({
      produce: () => {
        if (!this.distribution) throw new Error('the pages client needs the CloudFront distribution');
        return `https://${this.distribution.distributionDomainName}`;
      },
    });
  }

  /**
   * Cognito hosted sign-in for the pages: the user pool domain and a public OAuth 2.0 client (authorization code
   * grant; no secret, so the pages prove themselves with PKCE, RFC 7636), whose redirect URLs are the three consoles
   * of the CloudFront pages. https://docs.aws.amazon.com/cognito/latest/developerguide/using-pkce-in-authorization-code.html
   */
  private addPagesSignIn(pool: cognito.UserPool, web: WebOptions, prefix: string | undefined): cognito.UserPoolClient {
    const origin = this.pagesOrigin(web);
    const consoles = ['agent', 'dept', 'supervisor'].map((page) => `${origin}/${page}/`);
    const domainPrefix =
      prefix ??
      `${this.stackName
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .slice(0, 30)}-staff-${this.account}`;
    const domain = pool.addDomain('StaffDomain', { cognitoDomain: { domainPrefix } });
    const client = pool.addClient('PagesClient', {
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: consoles,
        logoutUrls: consoles,
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
    this.staffDomain = domain;
    this.pagesClient = client;
    const base = domain.baseUrl();
    this.pagesConfig = {
      auth: {
        mode: 'oauth',
        oauth: {
          authorizeUrl: `${base}/oauth2/authorize`,
          tokenUrl: `${base}/oauth2/token`,
          logoutUrl: `${base}/logout`,
          clientId: client.userPoolClientId,
          scopes: ['openid', 'email', 'profile'],
        },
      },
    };
    return client;
  }

  /** The staff user pool, its groups and clients, and a JWT authorizer on it. */
  private addUserPool(web: WebOptions | undefined, domainPrefix: string | undefined): apigw.IHttpRouteAuthorizer {
    const pool = new cognito.UserPool(this, 'Staff', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(pool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        "The Plus feature plan (threat protection) is billed per monthly active user and is the operating city's " +
        'choice; staff accounts are created by administrators only (no self sign-up), TOTP MFA is required and the ' +
        'password policy is strong.',
    });
    const client = pool.addClient('StaffClient', {
      authFlows: { userSrp: true },
      generateSecret: false,
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
    // The department groups (`dept-<id>`) live with their departments, in the nested stacks.
    const groups = [
      { name: AGENTS_GROUP, description: '话务员: hotline agents' },
      { name: SUPERVISORS_GROUP, description: '督办/分拨: supervisors of the 12345 centre' },
    ];
    for (const group of groups) {
      pool.addGroup(`Group${pascal(group.name)}`, { groupName: group.name, description: group.description });
    }
    this.userPool = pool;
    this.staffClient = client;
    // The pages sign in through the hosted UI when they are served (they send the ID token: its `aud` is their client).
    const pages = web ? this.addPagesSignIn(pool, web, domainPrefix) : undefined;
    // The issuer comes from the pool itself (ProviderURL); the stock HttpUserPoolAuthorizer hard-codes
    // `https://cognito-idp.<region>.amazonaws.com`, which bakes the aws partition's domain into the template.
    return new HttpJwtAuthorizer('StaffJwt', pool.userPoolProviderUrl, {
      jwtAudience: [client.userPoolClientId, ...(pages ? [pages.userPoolClientId] : [])],
      identitySource: ['$request.header.Authorization'],
    });
  }

  private readonly secrets = new Map<string, secretsmanager.Secret>();

  /**
   * One Secrets Manager secret per logical id (e.g. `wechat`), encrypted with the city's key. The value (a JSON object,
   * e.g. `{"WECHAT_TOKEN": ..., "WECHAT_ENCODING_AES_KEY": ...}`) is set by the operator after deploy, never in code.
   */
  secret(id: string): secretsmanager.Secret {
    let s = this.secrets.get(id);
    if (!s) {
      s = new secretsmanager.Secret(this, `Secret${pascal(id)}`, {
        description: `CityLoop ${id} credentials (JSON object; set by the operator after deploy)`,
        encryptionKey: this.dataKey,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(s).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Channel credentials (WeChat token, EncodingAESKey, app secret) are issued and rotated in the channel ' +
          "provider's console, not by an AWS rotation Lambda; the operator updates the secret when they rotate them.",
      });
      this.secrets.set(id, s);
    }
    return s;
  }

  /**
   * Citizen notices (SMS/WeChat go through the notify queue, in `sendTo`): the key that signs the links in notices, generated
   * by Secrets Manager and passed as a CloudFormation dynamic reference (the value never appears in the template).
   */
  private bindNotices(spec: FunctionSpec, fn: CityLoopFunction): void {
    if (!spec.sendTo.includes('notify')) throw new Error(`${spec.id} notifies citizens: add 'notify' to its sendTo`);
    let key = this.secrets.get('citizen-token');
    if (!key) {
      key = new secretsmanager.Secret(this, 'SecretCitizenToken', {
        description: 'CityLoop: HMAC key of the citizen links in notices (rotating it invalidates old links)',
        encryptionKey: this.dataKey,
        removalPolicy: RemovalPolicy.RETAIN,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
      Validations.of(key).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Rotating the link key would invalidate every link already sent to citizens; it is rotated by hand, ' +
          'with notice, when needed.',
      });
      this.secrets.set('citizen-token', key);
    }
    fn.addEnvironment('CITIZEN_TOKEN_SECRET', key.secretValue.unsafeUnwrap());
    this.noticeFunctions.push(fn);
  }

  private readonly noticeFunctions: CityLoopFunction[] = [];

  /**
   * Amazon Connect contact flows invoke the function directly: a resource-based permission for connect.amazonaws.com
   * from this account, scoped to the instance when its ARN is given (context `connectInstanceArn`). The instance's
   * Lambda association is made in Connect (or with `aws connect associate-lambda-function`).
   * https://docs.aws.amazon.com/connect/latest/adminguide/connect-lambda-functions.html
   */
  private allowConnect(spec: FunctionSpec, fn: CityLoopFunction, instanceArn: string | undefined): void {
    if (this.partitionName === 'aws-cn') {
      Validations.of(fn).addWarning(
        'cityloop:noConnectInChina',
        `${spec.id}: Amazon Connect is not available in aws-cn; call records come from the city's own telephony there.`,
      );
      return;
    }
    fn.addPermission('InvokeByConnect', {
      principal: new iam.ServicePrincipal('connect.amazonaws.com'),
      sourceAccount: this.account,
      ...(instanceArn ? { sourceArn: instanceArn } : {}),
    });
  }

  /** SES sending. SES is not offered in the China regions: there the city's mail relay takes over (documented). */
  private bindMail(spec: FunctionSpec, fn: CityLoopFunction, from: string | undefined): void {
    if (this.partitionName === 'aws-cn') {
      Validations.of(fn).addWarning(
        'cityloop:noSesInChina',
        `${spec.id}: Amazon SES is not available in aws-cn; acknowledgements stay in the notify queue for a mail relay.`,
      );
      return;
    }
    fn.bindMailSender(from ?? 'no-reply@12345.example.gov.cn');
  }

  /**
   * The email channel on AWS: an SES receipt rule stores the raw MIME in the (encrypted) blob bucket under `prefix`,
   * then invokes the function, which reads it from there.
   * https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-s3.html
   */
  private addSesInbound(spec: FunctionSpec, fn: CityLoopFunction, prefix: string, domain: string | undefined): void {
    if (this.partitionName === 'aws-cn') {
      Validations.of(fn).addWarning(
        'cityloop:noSesInChina',
        `${spec.id}: SES email receiving is not available in aws-cn; feed the function from the city's mail gateway.`,
      );
      return;
    }
    const ruleSet = new ses.ReceiptRuleSet(this, `${pascal(spec.id)}RuleSet`, {});
    ruleSet.addRule(`${pascal(spec.id)}Rule`, {
      ...(domain ? { recipients: [domain] } : {}),
      scanEnabled: true,
      tlsPolicy: ses.TlsPolicy.REQUIRE,
      actions: [
        new sesActions.S3({ bucket: this.blobs, objectKeyPrefix: prefix, kmsKey: this.dataKey }),
        new sesActions.Lambda({ function: fn, invocationType: sesActions.LambdaInvocationType.EVENT }),
      ],
    });
  }

  /**
   * SMS to citizens: `sns:Publish` to a phone number has no resource ARN, so the grant is on `*`, in its own policy,
   * with an explicit deny on every topic ARN: the function can text phones and publish to no topic.
   * SNS does not send SMS in the China regions: there the city's SMS gateway takes over (documented).
   * https://docs.aws.amazon.com/sns/latest/dg/sms_publish-to-phone.html
   */
  private allowSms(spec: FunctionSpec, fn: CityLoopFunction): void {
    if (this.partitionName === 'aws-cn') {
      Validations.of(fn).addWarning(
        'cityloop:noSmsInChina',
        `${spec.id}: Amazon SNS SMS is not available in aws-cn; SMS notices go to the DLQ until a city SMS gateway is wired.`,
      );
      return;
    }
    const policy = new iam.Policy(this, `${pascal(spec.id)}SmsPolicy`, {
      roles: [fn.executionRole],
      statements: [
        new iam.PolicyStatement({ actions: ['sns:Publish'], resources: ['*'] }),
        new iam.PolicyStatement({
          effect: iam.Effect.DENY,
          actions: ['sns:Publish'],
          resources: [`arn:${this.partition}:sns:*:*:*`],
        }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'sns:Publish to a phone number (SMS) has no resource ARN, so it can only be granted on "*"; the same policy ' +
        'denies sns:Publish on every topic ARN, leaving direct SMS only.',
    });
  }

  private addSqsSource(spec: FunctionSpec, fn: CityLoopFunction): void {
    if (!spec.sqs) return;
    const visibility = this.topology.queues.find((q) => q.id === spec.sqs?.queue)?.visibilityTimeoutSec ?? 0;
    if (visibility < VISIBILITY_FACTOR * spec.timeoutSec) {
      throw new Error(
        `queue "${spec.sqs.queue}" visibility ${visibility} s < ${VISIBILITY_FACTOR}× the ${spec.id} timeout (${spec.timeoutSec} s)`,
      );
    }
    fn.addEventSource(
      new SqsEventSource(this.queue(spec.sqs.queue), {
        batchSize: spec.sqs.batchSize,
        maxBatchingWindow: Duration.seconds(spec.sqs.maxBatchingWindowSec),
        maxConcurrency: spec.sqs.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
  }

  private addRoutes(
    spec: FunctionSpec,
    fn: CityLoopFunction,
    routes: RouteSpec[],
    staffAuthorizer: apigw.IHttpRouteAuthorizer | undefined,
  ): void {
    // One invoke permission per function for this API (not one per route): 500 resources a stack go far enough.
    const integration = new HttpLambdaIntegration(`${pascal(spec.id)}Integration`, fn, {
      scopePermissionToRoute: false,
    });
    for (const route of routes) {
      const isPublic = route.auth === 'public';
      if (!isPublic && !staffAuthorizer) {
        // No identity provider: the route stays closed (IAM auth, and nobody is granted execute-api:Invoke).
        Validations.of(this).addWarning(
          'cityloop:staffRoutesClosed',
          `${route.method} ${route.path} (${route.auth}) is closed: no staff identity provider. In aws-cn pass ` +
            '-c staffJwtIssuer=<OIDC issuer URL> -c staffJwtAudience=<client id> (Cognito user pools are not offered there).',
        );
      }
      const added = this.api.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration,
        authorizer: isPublic ? new apigw.HttpNoneAuthorizer() : (staffAuthorizer ?? new HttpIamAuthorizer()),
      });
      if (!isPublic) continue;
      for (const r of added) {
        Validations.of(r).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            `${route.method} ${route.path} is a citizen route: 12345 accepts requests and tracking-number lookups ` +
            'from anyone, without an account. Stage throttling bounds abuse; the handler validates and size-limits ' +
            'input and shows only what a citizen may see. Staff routes use the Cognito JWT authorizer.',
        });
      }
    }
  }

  private addWeb(
    options: WebOptions,
    accessLogs: s3.Bucket,
    webDistPath: string,
    functions: FunctionSpec[],
  ): cloudfront.Distribution {
    const site = new s3.Bucket(this, 'Site', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'site/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const apiOrigin = new origins.HttpOrigin(Fn.select(2, Fn.split('/', this.api.apiEndpoint)), {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
    });
    const apiBehavior: cloudfront.BehaviorOptions = {
      origin: apiOrigin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    };
    // `/api/requests/{trackingNo}` → `/api/*`: the pages call the API on their own origin (no CORS).
    const prefixes = new Set(
      functions.flatMap((f) => f.routes ?? []).map((r) => r.path.split('/').filter(Boolean)[0] ?? ''),
    );
    const additionalBehaviors: Record<string, cloudfront.BehaviorOptions> = {};
    for (const prefix of prefixes) if (prefix) additionalBehaviors[`/${prefix}/*`] = apiBehavior;

    // The China regions have no origin access control (no AWS::CloudFront::OriginAccessControl there): OAI instead.
    const china = this.partitionName === 'aws-cn';
    const certificate = options.certificateArn
      ? acm.Certificate.fromCertificateArn(this, 'WebCertificate', options.certificateArn)
      : undefined;
    const distribution = new cloudfront.Distribution(this, 'Web', {
      comment: `${this.stackName}: citizen pages`,
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: china
          ? origins.S3BucketOrigin.withOriginAccessIdentity(site)
          : origins.S3BucketOrigin.withOriginAccessControl(site),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: china ? undefined : cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        // S3 has no folder index: `/agent`, `/dept/`, `/supervisor` are served their `index.html`.
        functionAssociations: [
          {
            eventType: cloudfront.FunctionEventType.VIEWER_REQUEST,
            function: new cloudfront.Function(this, 'WebIndex', {
              comment: 'Serve <folder>/index.html for page folders (S3 has no directory index)',
              runtime: cloudfront.FunctionRuntime.JS_2_0,
              code: cloudfront.FunctionCode.fromInline(WEB_INDEX_FUNCTION),
            }),
          },
        ],
      },
      additionalBehaviors,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      minimumProtocolVersion: certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      domainNames: options.domainName ? [options.domainName] : undefined,
      certificate,
      webAclId: options.webAclArn,
      enableLogging: true,
      logBucket: accessLogs,
      logFilePrefix: 'cloudfront/',
    });
    // Citizens' photos go from the page straight to S3 (pre-signed PUT, functions/http/photos.ts): the blob bucket
    // takes cross-origin PUTs from the pages' origin only.
    this.blobs.addCorsRule({
      allowedMethods: [s3.HttpMethods.PUT],
      allowedOrigins: [`https://${options.domainName ?? distribution.distributionDomainName}`],
      allowedHeaders: ['content-type'],
      maxAge: 300,
    });
    if (china) {
      Validations.of(distribution).acknowledge({
        id: 'AwsSolutions-CFR7',
        reason:
          'CloudFront in the China regions offers no origin access control (CloudFormation has no ' +
          'AWS::CloudFront::OriginAccessControl there); the bucket is private and read through an origin access identity.',
      });
    }
    Validations.of(distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'No geo restriction: citizens may submit and follow requests from anywhere, including from abroad.',
    });
    if (!options.webAclArn) {
      Validations.of(distribution).acknowledge({
        id: 'AwsSolutions-CFR2',
        reason:
          'No WAF web ACL configured (pass context webAclArn to attach one; CLOUDFRONT-scope ACLs live in us-east-1). ' +
          'The API behind /api/* is rate-limited by the HTTP API stage throttling.',
      });
    }
    if (!certificate) {
      Validations.of(distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason:
          'Without a custom domain CloudFront serves its default *.cloudfront.net certificate, whose security policy ' +
          'cannot be chosen; with context domainName + certificateArn the distribution enforces TLSv1.2_2021.',
      });
    }

    // Deployed only if the pages are built at synth time: a fresh clone synthesizes without building them first.
    // `config.json` (how staff sign in) comes last, replacing the build's local one with this stack's values.
    if (fs.existsSync(webDistPath)) {
      new s3deploy.BucketDeployment(this, 'WebDeploy', {
        sources: [s3deploy.Source.asset(webDistPath), s3deploy.Source.jsonData('config.json', this.pagesConfig)],
        destinationBucket: site,
        distribution,
        distributionPaths: ['/*'],
        memoryLimit: 256,
      });
      this.acknowledgeBucketDeployment(site);
    }
    return distribution;
  }

  /**
   * The BucketDeployment's handler is CDK's singleton function: its findings are CDK's choices, not ours. Each finding
   * is matched against a known pattern with its reason; anything unexpected stays unacknowledged and fails cdk-nag.
   */
  private acknowledgeBucketDeployment(site: s3.Bucket): void {
    const handler = this.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (!handler) return;
    const who = 'CDK BucketDeployment handler (uploads web/dist)';
    Validations.of(handler).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: `${who}: CDK gives its role the AWS managed basic execution policy (CloudWatch Logs writing only).`,
      },
      {
        id: 'AwsSolutions-L1',
        reason: `${who}: CDK pins its Python runtime together with the AWS CLI layer it ships; not configurable.`,
      },
    );
    const policy = handler.node.tryFindChild('ServiceRole')?.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
    if (!(policy instanceof iam.CfnPolicy)) return;
    const statements = (
      this.resolve(policy.policyDocument) as { Statement: { Action: string | string[]; Resource: unknown }[] }
    ).Statement;
    const onlyInvalidationOnStar = statements
      .filter((st) => st.Resource === '*' || (Array.isArray(st.Resource) && st.Resource.includes('*')))
      .every((st) =>
        [st.Action].flat().every((a) => a === 'cloudfront:CreateInvalidation' || a === 'cloudfront:GetInvalidation'),
      );
    const siteId = this.resolve((site.node.defaultChild as s3.CfnBucket).logicalId) as string;
    const known: [RegExp, string][] = [
      [
        /^Action::s3:(GetBucket|GetObject|List)\*$/,
        'CDK grants read on the asset zip and the site bucket with its standard s3 read set.',
      ],
      [
        /^Action::s3:(Abort|DeleteObject)\*$/,
        'CDK grants write on the site bucket so a deployment can replace and prune pages removed from web/dist.',
      ],
      [
        /^Resource::arn:(<AWS::Partition>|aws|aws-cn):s3:::cdk-[a-z0-9]+-assets-[^/]+\/\*$/,
        'Objects of the CDK bootstrap asset bucket holding the zipped pages.',
      ],
      [
        new RegExp(`^Resource::<${siteId}\\.Arn>/\\*$`),
        'Objects of the site bucket: page file names come from the build.',
      ],
    ];
    if (onlyInvalidationOnStar) {
      known.push([/^Resource::\*$/, 'cloudfront:CreateInvalidation/GetInvalidation only, which CDK grants on "*".']);
    }
    const findings = rules.iam.IAMNoWildcardPermissions(policy);
    for (const finding of Array.isArray(findings) ? findings : []) {
      const match = known.find(([re]) => re.test(finding));
      if (match)
        Validations.of(handler).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: `${who}: ${match[1]}` });
    }
  }
}
