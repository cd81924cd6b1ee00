/**
 * One topology, two stacks: the CDK stack (`infra/`) and the embedded local stack (`local/`) are both built from
 * `buildTopology()`, so what runs locally is what deploys. Pure data: no AWS imports.
 */
import type { Department } from './taxonomy/types.ts';

export const EVENT_SOURCE = 'cityloop.cases';

/** CloudWatch namespace of the sweep's 督办 metrics (SlaWarnings, SlaBreaches, SlaChases), alarmed on in the stack. */
export const SLA_METRICS_NAMESPACE = 'CityLoop';

export type QueueKind = 'intake' | 'department' | 'supervisors' | 'triage' | 'notify' | 'dlq';

export interface QueueSpec {
  /** Logical id, stable: used for env var names (`QUEUE_URL_<ID>` upper-cased, `-` → `_`) and local queue names. */
  id: string;
  kind: QueueKind;
  /** Department id for department queues. */
  department?: string;
  description: string;
  /** Logical id of this queue's dead-letter queue (none for DLQs themselves). */
  dlq?: string;
  /** ≥ 6× the consumer's timeout (AWS guidance for Lambda event sources). */
  visibilityTimeoutSec: number;
  maxReceiveCount: number;
  retentionDays: number;
}

export interface RuleSpec {
  id: string;
  description: string;
  /** An EventBridge event pattern. */
  pattern: Record<string, unknown>;
  targetQueue: string;
  /** DLQ for the rule target: EventBridge drops after 24 h / 185 tries otherwise. */
  targetDlq: string;
}

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** API Gateway HTTP API route path, e.g. `/api/requests/{trackingNo}`, `/open311/{proxy+}`. */
  path: string;
  /** Who may call it; the local stack and the CDK stack enforce the same rule. */
  auth: 'public' | 'agent' | 'department' | 'supervisor' | 'staff';
}

export interface FunctionSpec {
  id: string;
  /** Module path from the project root, exporting `handler`. */
  entry: string;
  description: string;
  memoryMb: number;
  timeoutSec: number;
  routes?: RouteSpec[];
  /** SQS event source (queue logical id). */
  /**
   * SQS event source. `maxConcurrency`: at most this many batches in flight (the event source's maximum concurrency
   * on AWS; the local stack runs that many pollers, at most `LOCAL_MAX_POLLERS`).
   */
  sqs?: { queue: string; batchSize: number; maxBatchingWindowSec: number; maxConcurrency: number };
  /** Scheduled invocation. */
  schedule?: { everyMinutes: number };
  table: 'none' | 'read' | 'readwrite';
  /** May put events on the bus. */
  putEvents: boolean;
  /** Queue logical ids this function sends to. */
  sendTo: string[];
  /** Queue logical ids this function receives from / deletes from (besides its event source). */
  receiveFrom?: string[];
  /** Blob (S3) access for raw input and attachments. */
  blobs: 'none' | 'read' | 'readwrite';
  /**
   * Secrets the function reads (Secrets Manager on AWS, through the Lambda secrets extension; env locally): the
   * secret's logical id and the env var that carries its ARN.
   */
  secrets?: { id: string; env: string }[];
  /** Sends email to citizens (SES on AWS; the outbox folder locally). */
  sendEmail?: boolean;
  /**
   * Sends notices to citizens with a link to their case (dispatch, result, follow-up): needs the mail sender, the
   * notify queue, the secret that signs citizen links (`CITIZEN_TOKEN_SECRET`) and the public URL (`CITYLOOP_PUBLIC_URL`).
   */
  notifies?: boolean;
  /** Invoked directly by an AWS service (Amazon Connect contact flows), which needs a resource-based permission. */
  invokedBy?: 'connect'[];
  /** Receives email: an SES receipt rule stores the raw MIME under `prefix` in the blob bucket, then invokes it. */
  sesInbound?: { prefix: string };
  /** Sends SMS to citizens' phones (Amazon SNS `Publish` to a phone number, which has no resource ARN). */
  sendSms?: boolean;
}

export interface IndexSpec {
  name: string;
  pk: string;
  sk: string;
}

export interface TableSpec {
  id: string;
  pk: 'pk';
  sk: 'sk';
  indexes: IndexSpec[];
}

export interface Topology {
  app: string;
  busId: string;
  archive: { id: string; retentionDays: number };
  table: TableSpec;
  blobBucketId: string;
  queues: QueueSpec[];
  rules: RuleSpec[];
  functions: FunctionSpec[];
}

/**
 * Table layout (single table, generic key names so new item kinds need no migration):
 * - `RPT#<channel>#<channelMessageId>` / `RPT`: the report as received (idempotent on channel + message id);
 *   GSI1 `TN#<trackingNo>` finds it by tracking number; GSI2 `CIT#<citizen key>` lists a citizen's reports.
 * - `CASE#<caseId>` / `CASE`: the case; GSI3 `DEPT#<department>` / `<state>#<due>` lists a department's cases;
 *   GSI4 (sparse) `DUE#<shard>` / `<due ISO>#<caseId>#<generation>` is the open-deadline index for the sweep;
 *   `pending` (sparse) `PEND#<department>` / `<requestedAt>#<caseId>`: the open cases of a department with a request
 *   waiting for a supervisor (退单申请, 延期申请), so the supervisors' overview sees them behind any number of others.
 * - `SEQ#<yyyymmdd>` / `SEQ`: tracking-number sequence blocks. `DDK#<key>` / ...: dedupe candidate keys.
 */
export const TABLE_INDEXES: IndexSpec[] = [
  { name: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  { name: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk' },
  { name: 'gsi3', pk: 'gsi3pk', sk: 'gsi3sk' },
  { name: 'due', pk: 'duePk', sk: 'dueSk' },
  // Open311 listings (sparse, cases): `REQDAY#<yyyymmdd>` / `<updatedAt>#<caseId>` (channels/open311/feed.ts).
  { name: 'reqday', pk: 'reqDayPk', sk: 'reqDaySk' },
  // Requests waiting for a supervisor (sparse, cases): `PEND#<department>` / `<requestedAt>#<caseId>`.
  { name: 'pending', pk: 'pendPk', sk: 'pendSk' },
];

export const queueEnvName = (queueId: string): string => `QUEUE_URL_${queueId.toUpperCase().replace(/-/g, '_')}`;

export const departmentQueueId = (departmentId: string): string => `dept-${departmentId}`;

const DEPT_CONSUMER_VISIBILITY = 300;

function queue(id: string, kind: QueueKind, description: string, extra: Partial<QueueSpec> = {}): QueueSpec[] {
  const dlqId = `${id}-dlq`;
  return [
    {
      id,
      kind,
      description,
      dlq: dlqId,
      visibilityTimeoutSec: DEPT_CONSUMER_VISIBILITY,
      maxReceiveCount: 5,
      retentionDays: 14,
      ...extra,
    },
    {
      id: dlqId,
      kind: 'dlq',
      description: `死信队列 DLQ of ${id}`,
      visibilityTimeoutSec: 30,
      maxReceiveCount: 1,
      retentionDays: 14,
    },
  ];
}

export function buildTopology(departments: Department[]): Topology {
  const queues: QueueSpec[] = [
    // Triage runs with a 30 s timeout: visibility 6× that.
    ...queue('intake', 'intake', '受理队列: accepted reports waiting for triage', { visibilityTimeoutSec: 180 }),
    ...queue('supervisors', 'supervisors', '督办队列: SLA warnings, breaches, hot spots and approvals for supervisors'),
    ...queue('triage', 'triage', '人工分拨队列: requests the classifier was not sure of'),
    ...queue('notify', 'notify', '通知队列: messages to citizens on their channel', { visibilityTimeoutSec: 180 }),
    {
      id: 'rule-dlq',
      kind: 'dlq',
      description: '事件投递死信队列: events EventBridge could not deliver to a rule target',
      visibilityTimeoutSec: 30,
      maxReceiveCount: 1,
      retentionDays: 14,
    },
  ];
  const rules: RuleSpec[] = [];
  for (const d of departments) {
    if (d.kind === 'centre') continue;
    const qid = departmentQueueId(d.id);
    queues.push(...queue(qid, 'department', `${d.name} 工单队列`, { department: d.id }));
    // One rule per department (CloudFormation allows 500 resources a stack): 派单, and the centre's answers to the
    // department's requests, its own deadlines and the citizen's additions (部门回执).
    rules.push({
      id: `route-${d.id}`,
      description: `派单、审核结果、市民补充与催办 → ${d.name}`,
      pattern: {
        source: [EVENT_SOURCE],
        'detail-type': [
          'Case.Dispatched',
          // 预警/超期/催办: the department hears of its own deadlines, the supervisors of everyone's.
          'Case.SlaWarning',
          'Case.SlaBreached',
          'Case.Chased',
          'Case.ReturnRejected',
          'Case.ExtensionApproved',
          'Case.ExtensionRejected',
          'Case.ClosureRejected',
          'Case.CitizenUpdated',
        ],
        detail: { department: [d.id] },
      },
      targetQueue: qid,
      targetDlq: 'rule-dlq',
    });
  }
  rules.push(
    {
      id: 'to-manual-triage',
      description: '人工分拨: cases waiting for a supervisor to pick the category and department',
      pattern: { source: [EVENT_SOURCE], 'detail-type': ['Case.TriageRequired'] },
      targetQueue: 'triage',
      targetDlq: 'rule-dlq',
    },
    {
      id: 'to-supervisors',
      description: '督办: warnings, breaches, chases, hot spots, returns and extensions to approve',
      pattern: {
        source: [EVENT_SOURCE],
        'detail-type': [
          'Case.SlaWarning',
          'Case.SlaBreached',
          'Case.Chased',
          'Case.IncidentGrew',
          'Case.ReturnRequested',
          'Case.ExtensionRequested',
          'Calendar.Provisional',
        ],
      },
      targetQueue: 'supervisors',
      targetDlq: 'rule-dlq',
    },
  );
  rules.push({
    id: 'closure-review',
    description: '办结审核: departments reported closure; the centre reviews it and calls the citizen back (回访)',
    pattern: { source: [EVENT_SOURCE], 'detail-type': ['Case.Resolved'] },
    targetQueue: 'supervisors',
    targetDlq: 'rule-dlq',
  });

  const functions: FunctionSpec[] = [
    {
      id: 'web-requests',
      entry: 'functions/http/requests.ts',
      description: '网页渠道: citizens submit requests and follow them by tracking number',
      memoryMb: 512,
      timeoutSec: 10,
      routes: [
        { method: 'POST', path: '/api/requests', auth: 'public' },
        { method: 'GET', path: '/api/requests/{trackingNo}', auth: 'public' },
      ],
      table: 'readwrite',
      putEvents: false,
      sendTo: ['intake'],
      // reads the photos a submission names (functions/http/photos.ts `webPhotoAttachments`)
      blobs: 'read',
    },
    {
      id: 'web-photos',
      entry: 'functions/http/photos.ts',
      description: '网页照片: upload slots for the citizen form; the photos of a case for staff (view links)',
      memoryMb: 512,
      timeoutSec: 10,
      routes: [
        { method: 'POST', path: '/api/uploads/upload-url', auth: 'public' },
        { method: 'POST', path: '/api/uploads/photos', auth: 'public' },
        { method: 'GET', path: '/api/uploads/view', auth: 'public' },
        { method: 'GET', path: '/api/cases/{caseId}/photos', auth: 'staff' },
      ],
      table: 'read',
      putEvents: false,
      sendTo: [],
      blobs: 'readwrite',
    },
    {
      id: 'triage',
      notifies: true,
      entry: 'functions/triage.ts',
      description: '分拨: normalize, dedupe, classify, route, write the case, announce it',
      memoryMb: 1024,
      timeoutSec: 30,
      // A bounded number of batches at once (the event source would otherwise scale to hundreds). Racing workers make
      // one case per incident (the dedupe claim protocol; a backlog of 200 storm reports locally gave 3 cases with 1,
      // 4 and 8 workers), but merges racing a new case's announcement re-send its events (same eventId, dropped by
      // consumers), and the repeats grow with the number of workers.
      sqs: { queue: 'intake', batchSize: 10, maxBatchingWindowSec: 1, maxConcurrency: 20 },
      table: 'readwrite',
      putEvents: true,
      sendTo: ['notify'],
      blobs: 'none',
    },
    {
      id: 'sweep',
      entry: 'functions/sweep.ts',
      description: '巡检: re-announce cases written but not yet announced; SLA timers',
      memoryMb: 512,
      timeoutSec: 60,
      schedule: { everyMinutes: 1 },
      table: 'readwrite',
      putEvents: true,
      sendTo: ['intake'],
      blobs: 'none',
    },
    {
      id: 'wechat-push',
      entry: 'functions/wechat/push.ts',
      description: '微信消息推送: verify and decrypt pushes, accept text as reports, reply with the tracking number',
      memoryMb: 512,
      // WeChat waits 5 s for the passive reply, then retries.
      timeoutSec: 5,
      routes: [
        { method: 'GET', path: '/channels/wechat/push', auth: 'public' },
        { method: 'POST', path: '/channels/wechat/push', auth: 'public' },
      ],
      table: 'readwrite',
      // 市民补充 (photo, voice, location) on the citizen's case: Case.CitizenUpdated
      putEvents: true,
      sendTo: ['intake'],
      blobs: 'readwrite',
      secrets: [{ id: 'wechat', env: 'WECHAT_SECRET_ID' }],
    },
    {
      id: 'wechat-miniprogram',
      entry: 'functions/wechat/miniprogram.ts',
      description: '微信小程序: login (code2Session), photo upload, submit, my requests',
      memoryMb: 512,
      timeoutSec: 10,
      routes: [
        { method: 'POST', path: '/channels/wechat/miniprogram/login', auth: 'public' },
        { method: 'POST', path: '/channels/wechat/miniprogram/photos', auth: 'public' },
        { method: 'POST', path: '/channels/wechat/miniprogram/photos/upload-url', auth: 'public' },
        { method: 'POST', path: '/channels/wechat/miniprogram/submit', auth: 'public' },
        { method: 'GET', path: '/channels/wechat/miniprogram/mine', auth: 'public' },
      ],
      table: 'readwrite',
      putEvents: false,
      sendTo: ['intake'],
      blobs: 'readwrite',
      secrets: [{ id: 'wechat', env: 'WECHAT_SECRET_ID' }],
    },
    {
      id: 'email-inbound',
      notifies: true,
      entry: 'functions/email/inbound.ts',
      description: '邮件渠道: SES receipt (raw MIME in S3) → report or citizen update, acknowledgement by SES',
      // a 25 MB message with attachments parses in about a second; headroom for the store and SES calls
      memoryMb: 1024,
      timeoutSec: 60,
      table: 'readwrite',
      // Case.CitizenUpdated when a reply lands on its case
      putEvents: true,
      // intake: new reports; notify: the SES outbox's non-email messages
      sendTo: ['intake', 'notify'],
      blobs: 'readwrite',
      sendEmail: true,
      sesInbound: { prefix: 'raw/email/ses/' },
    },
    {
      id: 'web-citizen',
      notifies: true,
      entry: 'functions/http/requests.ts',
      description: '市民补充与回访评价: the citizen adds information or answers the follow-up on their tracking number',
      memoryMb: 512,
      timeoutSec: 10,
      routes: [
        { method: 'POST', path: '/api/requests/{trackingNo}/updates', auth: 'public' },
        { method: 'POST', path: '/api/requests/{trackingNo}/follow-up', auth: 'public' },
      ],
      table: 'readwrite',
      // Case.CitizenUpdated, and Case.Closed / Case.Dispatched (重办) from the follow-up answer
      putEvents: true,
      // notify: the outbox's SMS / WeChat notices
      sendTo: ['notify'],
      blobs: 'none',
    },
    {
      id: 'dept-api',
      notifies: true,
      entry: 'functions/dept/api.ts',
      description: '部门接口: a department lists its cases, signs, contacts, returns, asks for time, resolves, notes',
      memoryMb: 512,
      timeoutSec: 10,
      routes: [
        { method: 'GET', path: '/api/dept/cases', auth: 'department' },
        { method: 'GET', path: '/api/dept/cases/{caseId}', auth: 'department' },
        { method: 'POST', path: '/api/dept/cases/{caseId}/sign', auth: 'department' },
        { method: 'POST', path: '/api/dept/cases/{caseId}/contact', auth: 'department' },
        { method: 'POST', path: '/api/dept/cases/{caseId}/return', auth: 'department' },
        { method: 'POST', path: '/api/dept/cases/{caseId}/extension', auth: 'department' },
        { method: 'POST', path: '/api/dept/cases/{caseId}/resolve', auth: 'department' },
        { method: 'POST', path: '/api/dept/cases/{caseId}/notes', auth: 'department' },
      ],
      table: 'readwrite',
      putEvents: true,
      sendTo: ['notify'],
      blobs: 'none',
    },
    {
      id: 'supervisor-api',
      notifies: true,
      entry: 'functions/supervisor/api.ts',
      description:
        '督办/审核接口: returns, extensions, re-dispatch, closure review, follow-up, reopen, archive, 人工分拨',
      memoryMb: 512,
      timeoutSec: 10,
      routes: [
        { method: 'GET', path: '/api/supervisor/cases', auth: 'supervisor' },
        { method: 'GET', path: '/api/supervisor/triage', auth: 'supervisor' },
        { method: 'GET', path: '/api/supervisor/cases/{caseId}', auth: 'supervisor' },
        ...[
          'triage',
          'reject',
          'answer',
          'return/approve',
          'return/reject',
          'extension/approve',
          'extension/reject',
          'redispatch',
          'closure/approve',
          'closure/reject',
          'follow-up',
          'reopen',
          'archive',
          'notes',
          'chase',
        ].map((a) => ({
          method: 'POST' as const,
          path: `/api/supervisor/cases/{caseId}/${a}`,
          auth: 'supervisor' as const,
        })),
      ],
      table: 'readwrite',
      putEvents: true,
      sendTo: ['notify'],
      blobs: 'none',
    },
    {
      id: 'open311',
      secrets: [{ id: 'open311', env: 'OPEN311_SECRET_ID' }],
      entry: 'functions/open311/api.ts',
      description: 'Open311 GeoReport v2 (XML/JSON) + servicerequestupdates: civic apps report and follow requests',
      memoryMb: 512,
      timeoutSec: 10,
      // Public at the gateway: Open311 clients authenticate writes with their own api_key, checked in the handler.
      routes: [
        { method: 'GET', path: '/open311/v2/{proxy+}', auth: 'public' },
        { method: 'POST', path: '/open311/v2/{proxy+}', auth: 'public' },
      ],
      table: 'readwrite',
      putEvents: false,
      sendTo: ['intake'],
      blobs: 'readwrite',
    },
    {
      id: 'hotline-agent',
      notifies: true,
      entry: 'functions/hotline/agent.ts',
      description: '12345热线 话务员接口: call record by contact id, draft assistance, submission, 咨询直接答复',
      // the classifier model is loaded on the first draft assistance
      memoryMb: 1024,
      timeoutSec: 10,
      routes: [
        { method: 'GET', path: '/api/agent/calls/{contactId}', auth: 'agent' },
        { method: 'POST', path: '/api/agent/assist', auth: 'agent' },
        { method: 'POST', path: '/api/agent/reports', auth: 'agent' },
      ],
      table: 'readwrite',
      // Case.Received + Case.Answered for a consultation answered on the call
      putEvents: true,
      // intake: new reports; notify: the answer by SMS (the outbox's non-email messages)
      sendTo: ['intake', 'notify'],
      blobs: 'none',
    },
    {
      // Invoked by an Amazon Connect contact flow (no route): needs a lambda:InvokeFunction permission for
      // connect.amazonaws.com and the function associated with the Connect instance. Connect waits at most 8 s.
      id: 'connect-contact',
      invokedBy: ['connect'],
      entry: 'functions/hotline/connect.ts',
      description: 'Amazon Connect 来电: open/update the call record by ContactId, answer the flow with open cases',
      memoryMb: 512,
      timeoutSec: 8,
      table: 'readwrite',
      putEvents: false,
      sendTo: [],
      blobs: 'none',
    },
    {
      id: 'supervisor-metrics',
      entry: 'functions/supervisor/metrics.ts',
      description: '考核指标: rates per department and per day from the daily aggregates, for the supervisor dashboard',
      memoryMb: 512,
      timeoutSec: 10,
      routes: [{ method: 'GET', path: '/api/supervisor/metrics', auth: 'supervisor' }],
      table: 'read',
      putEvents: false,
      sendTo: [],
      blobs: 'none',
    },
    {
      id: 'duplicates',
      entry: 'functions/dedupe/duplicates.ts',
      description:
        '重复件/并案提示: open cases near a draft that look like the same problem, for agents and the mini-program',
      memoryMb: 512,
      timeoutSec: 10,
      routes: [
        { method: 'POST', path: '/api/agent/duplicates', auth: 'agent' },
        // The mini-program's own session token (Bearer), checked in the handler like its other routes.
        { method: 'POST', path: '/channels/wechat/miniprogram/duplicates', auth: 'public' },
      ],
      table: 'read',
      putEvents: false,
      sendTo: [],
      blobs: 'none',
      secrets: [{ id: 'wechat', env: 'WECHAT_SECRET_ID' }],
    },
    {
      id: 'notify',
      entry: 'functions/notify.ts',
      description: '通知: SMS (Amazon SNS) and WeChat subscribe messages to citizens, from the notify queue',
      memoryMb: 256,
      // the notify queue's visibility is 180 s (≥ 6×)
      timeoutSec: 20,
      sqs: { queue: 'notify', batchSize: 10, maxBatchingWindowSec: 1, maxConcurrency: 5 },
      table: 'none',
      putEvents: false,
      sendTo: [],
      blobs: 'none',
      // the mini-program appId/secret for the subscribe-message access token
      secrets: [{ id: 'wechat', env: 'WECHAT_SECRET_ID' }],
      sendSms: true,
    },
  ];

  return {
    app: 'cityloop',
    busId: 'bus',
    archive: { id: 'archive', retentionDays: 365 },
    table: { id: 'table', pk: 'pk', sk: 'sk', indexes: TABLE_INDEXES },
    blobBucketId: 'blobs',
    queues,
    rules,
    functions,
  };
}
