/**
 * The per-department part of the CityLoop stack, in CloudFormation nested stacks of a fixed number of departments.
 *
 * Why: a CloudFormation template holds at most 500 resources and 200 outputs. Each department brings 9 resources (its
 * queue and DLQ with their queue policies, the EventBridge rule on `detail.department`, its IAM role and policy, the DLQ
 * alarm, the Cognito group) and 2 outputs, so one stack stops at about 32 departments; a large city dispatches to 50-150.
 * Here each nested stack holds `DEPARTMENTS_PER_STACK` departments (~270 resources, 60 outputs, a handful of parameters),
 * and the parent holds everything shared (bus, rule DLQ, alarm topic, user pool, functions), whatever the city's size.
 *
 * The queue, rule and alarm factories are shared with the parent stack (`infra/stack.ts`), so a queue is built the same
 * way wherever it lives.
 *
 * A stack deployed before the split held these resources itself. Their logical ids and properties are unchanged, only
 * the stack differs, but a plain update would create them in the nested stack before deleting them from the parent,
 * and the fixed names (queue `<stack>-dept-<id>`, group `dept-<id>`) collide. Move them with CloudFormation stack
 * refactoring (same logical ids: a one-to-one mapping), not with `cdk deploy`.
 */
import { CfnOutput, Duration, NestedStack, type NestedStackProps, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Department } from '#core/taxonomy/types.ts';
import { departmentQueueId, type QueueSpec, type RuleSpec, type Topology } from '#core/topology.ts';

/**
 * Departments per nested stack: 30 × 9 = 270 resources and 60 outputs, far from 500 and 200, so a department kind may
 * grow a few resources without anyone re-chunking. NEVER change it on a deployed city: every department whose index
 * crosses a chunk boundary would move to another nested stack, and moving a queue between stacks replaces it.
 */
export const DEPARTMENTS_PER_STACK = 30;

/** Rule targets: EventBridge's maximum, stated so nobody lowers it by accident; then the rule DLQ. */
const TARGET_RETRY_ATTEMPTS = 185;
const TARGET_MAX_EVENT_AGE = Duration.hours(24);

/** `dept-street-pingshan` → `DeptStreetPingshan`: construct ids and output names. */
export function pascal(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join('');
}

const PATTERN_FIELDS: Record<string, keyof events.EventPattern> = {
  source: 'source',
  'detail-type': 'detailType',
  detail: 'detail',
  account: 'account',
  region: 'region',
  resources: 'resources',
  id: 'id',
  time: 'time',
  version: 'version',
};

/**
 * A topology pattern is written as EventBridge JSON (`detail-type`); CDK's `EventPattern` spells the same fields in
 * camelCase and renders them back. Unknown top-level fields (e.g. `$or`) are refused rather than dropped.
 */
export function toEventPattern(pattern: Record<string, unknown>): events.EventPattern {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pattern)) {
    const field = PATTERN_FIELDS[key];
    if (!field) throw new Error(`event pattern field "${key}" cannot be expressed as a CDK EventPattern`);
    out[field] = value;
  }
  return out as events.EventPattern;
}

/**
 * The nested stack each department lives in: its index among the non-centre departments, in the order of
 * `config/departments.json`, cut in chunks of `DEPARTMENTS_PER_STACK`. A department appended at the end of the file
 * lands in the last chunk (or a new one) and moves nobody. Moving a queue to another stack is a replacement: the new
 * stack creates it, the old one deletes it, and the messages waiting in it are lost (the fixed queue name even makes
 * the two collide). So departments are only ever appended: removing or reordering one shifts every later department
 * by one place and moves those that cross a chunk boundary. To retire a department, leave it in the file.
 */
export function placeDepartments(departments: readonly Department[], perStack = DEPARTMENTS_PER_STACK): Department[][] {
  if (!Number.isInteger(perStack) || perStack < 1)
    throw new Error(`departments per stack must be ≥ 1, got ${perStack}`);
  const chunks: Department[][] = [];
  for (let i = 0; i < departments.length; i += perStack) chunks.push(departments.slice(i, i + perStack));
  return chunks;
}

/** Construct id of the nested stack of chunk `index` (0-based): `Departments1`, `Departments2`, ... */
export const departmentsStackId = (index: number): string => `Departments${index + 1}`;

/** The topology queues of a department: its queues (kind `department`) and their DLQs. */
export function departmentQueues(topology: Topology, departmentId: string): QueueSpec[] {
  const own = topology.queues.filter((q) => q.department === departmentId);
  const dlqIds = new Set(own.map((q) => q.dlq));
  // A DLQ goes with the department only if no other queue uses it.
  const dlqs = topology.queues.filter(
    (q) =>
      q.department === undefined && dlqIds.has(q.id) && topology.queues.every((x) => x.dlq !== q.id || own.includes(x)),
  );
  return [...own, ...dlqs];
}

/** The topology rules that deliver to a department's queues. */
export function departmentRules(topology: Topology, departmentId: string): RuleSpec[] {
  const queues = new Set(departmentQueues(topology, departmentId).map((q) => q.id));
  return topology.rules.filter((r) => queues.has(r.targetQueue));
}

/** A topology queue: SQS-managed SSE, TLS only, the topology's retention/visibility, and its DLQ if any. */
export function createTopologyQueue(
  scope: Construct,
  spec: QueueSpec,
  dlq: sqs.IQueue | undefined,
  namePrefix: string,
): sqs.Queue {
  return new sqs.Queue(scope, `Queue${pascal(spec.id)}`, {
    queueName: `${namePrefix}-${spec.id}`,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(spec.retentionDays),
    visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSec),
    deadLetterQueue: dlq ? { queue: dlq, maxReceiveCount: spec.maxReceiveCount } : undefined,
  });
}

/**
 * A topology rule: its pattern on the bus, to its queue, with EventBridge's retries and then the rule DLQ. The DLQ is
 * passed as a reference (`ruleDlqRef`), so CDK adds no statement per rule to the DLQ's policy: an SQS policy holds at
 * most 20 statements and 8 KB, which one statement per department would exceed. The DLQ's owner grants the rules of
 * the bus once (`allowRulesOfBus`).
 */
export function createTopologyRule(
  scope: Construct,
  spec: RuleSpec,
  bus: events.IEventBus,
  queue: sqs.IQueue,
  dlqRef: sqs.IQueue,
): events.Rule {
  return new events.Rule(scope, `Rule${pascal(spec.id)}`, {
    eventBus: bus,
    description: spec.description,
    eventPattern: toEventPattern(spec.pattern),
    targets: [
      new targets.SqsQueue(queue, {
        deadLetterQueue: dlqRef,
        retryAttempts: TARGET_RETRY_ATTEMPTS,
        maxEventAge: TARGET_MAX_EVENT_AGE,
      }),
    ],
  });
}

/** A reference to a rule DLQ in `scope` (no resource; no policy statement added by the rules that use it). */
export function ruleDlqRef(scope: Construct, id: string, dlq: sqs.IQueue): sqs.IQueue {
  const name = `RuleDlqRef${pascal(id)}`;
  const existing = scope.node.tryFindChild(name);
  if (existing) return existing as sqs.IQueue;
  return sqs.Queue.fromQueueAttributes(scope, name, { queueArn: dlq.queueArn });
}

/**
 * One statement on a rule DLQ for every rule of the bus (`arn:<partition>:events:<region>:<account>:rule/<bus>/*`):
 * EventBridge may put there what a rule of this bus could not deliver, and nothing else may.
 */
export function allowRulesOfBus(dlq: sqs.Queue, bus: events.IEventBus): void {
  const rules = Stack.of(dlq).formatArn({ service: 'events', resource: 'rule', resourceName: `${bus.eventBusName}/*` });
  dlq.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowRulesOfBus',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [dlq.queueArn],
      conditions: { ArnLike: { 'aws:SourceArn': rules } },
    }),
  );
}

/** Any message in a dead-letter queue raises the alarm. */
export function createDlqAlarm(
  scope: Construct,
  spec: QueueSpec,
  dlq: sqs.IQueue,
  action: cloudwatch.IAlarmAction,
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, `Alarm${pascal(spec.id)}`, {
    alarmDescription: `${spec.id}: messages in a dead-letter queue (${spec.description})`,
    metric: dlq.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: cloudwatch.Stats.MAXIMUM,
    }),
    threshold: 0,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(action);
  return alarm;
}

/** Cognito group of a department (`cognito:groups` claim checked by the handlers). */
export const departmentGroup = (departmentId: string): string => `dept-${departmentId}`;

export interface DepartmentsStackProps extends NestedStackProps {
  topology: Topology;
  /** The departments of this chunk (see `placeDepartments`). */
  departments: readonly Department[];
  /** Queue names are `<prefix>-<queue id>`: the parent stack's name, as before the split. */
  queueNamePrefix: string;
  bus: events.IEventBus;
  /** Queues of the parent (rule DLQs, or any shared queue a department queue or rule names). */
  parentQueue: (id: string) => sqs.IQueue;
  alarmAction: cloudwatch.IAlarmAction;
  /** The staff user pool, when Cognito signs staff in: one group per department. */
  userPool?: cognito.IUserPool;
}

/**
 * The resources of a chunk of departments: for each, its queue(s) and DLQ, the rule(s) to them, a role that may only
 * consume its own queue, the DLQ alarm, the Cognito group and the two outputs (role ARN, queue URL). Construct ids
 * are the ones the parent stack used before the split, so each logical id is unchanged; only the stack differs.
 */
export class DepartmentsStack extends NestedStack {
  public readonly queues = new Map<string, sqs.Queue>();
  public readonly roles = new Map<string, iam.Role>();

  constructor(scope: Construct, id: string, props: DepartmentsStackProps) {
    super(scope, id, props);
    const { topology } = props;
    const queue = (qid: string): sqs.IQueue => this.queues.get(qid) ?? props.parentQueue(qid);
    // Groups under a `Staff` scope, as they were under the user pool `Staff` of the parent: same logical ids.
    const staff = props.userPool ? new Construct(this, 'Staff') : undefined;
    for (const d of props.departments) {
      // DLQs first, so every source queue finds its DLQ.
      const specs = departmentQueues(topology, d.id).sort(
        (a, b) => Number(b.kind === 'dlq') - Number(a.kind === 'dlq'),
      );
      for (const spec of specs) {
        const dlq = spec.dlq ? queue(spec.dlq) : undefined;
        this.queues.set(spec.id, createTopologyQueue(this, spec, dlq, props.queueNamePrefix));
      }
      for (const rule of departmentRules(topology, d.id)) {
        createTopologyRule(
          this,
          rule,
          props.bus,
          queue(rule.targetQueue),
          ruleDlqRef(this, rule.targetDlq, queue(rule.targetDlq)),
        );
      }
      for (const spec of specs) {
        const q = this.queues.get(spec.id);
        if (spec.kind === 'dlq' && q) createDlqAlarm(this, spec, q, props.alarmAction);
      }

      // One role per department: receive/delete on its own queue, nothing else (for `cityloop dept pull`). Any
      // principal of this account that its IAM policy lets assume the role.
      const own = queue(departmentQueueId(d.id));
      const role = new iam.Role(this, `DeptRole${pascal(d.id)}`, {
        assumedBy: new iam.AccountRootPrincipal(),
        description: `${d.id}: receive and delete messages of its own queue only`,
        maxSessionDuration: Duration.hours(1),
      });
      own.grantConsumeMessages(role);
      this.roles.set(d.id, role);
      new CfnOutput(this, `DeptRoleArn${pascal(d.id)}`, { value: role.roleArn });
      new CfnOutput(this, `DeptQueueUrl${pascal(d.id)}`, { description: `${d.name} 工单队列`, value: own.queueUrl });

      if (staff && props.userPool) {
        const name = departmentGroup(d.id);
        new cognito.UserPoolGroup(staff, `Group${pascal(name)}`, {
          userPool: props.userPool,
          groupName: name,
          description: d.name,
        });
      }
    }
  }
}
