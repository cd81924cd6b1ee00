/**
 * A small typed client for department systems (承办单位系统): consume the department's SQS queue (its own queue only:
 * on AWS the department's IAM role may receive from nothing else) and report back through the department API.
 *
 * ```ts
 * const dept = new DepartmentClient({ apiUrl, apiKey, queueUrl });          // AWS: token: () => cognitoJwt()
 * await dept.consume(async (m) => {                                          // at-least-once, deduplicated by eventId
 *   if (m.detailType === 'Case.Dispatched') await dept.sign(m.caseId, { expectedVersion: m.version });
 * }, { maxBatches: 10 });
 * await dept.resolve(caseId, { text: '已修复', attachments: [...] });
 * ```
 * A refused call throws `DepartmentApiError` with the API's machine code (`CONFLICT`, `NOT_FOUND`, `ILLEGAL_TRANSITION` …).
 */
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Attachment } from '../core/intake/schema.ts';
import type { AuditRecord } from '../core/lifecycle/types.ts';
import type { CaseDetail, CaseSummary } from '../core/views/staff.ts';

export type { Attachment, AuditRecord, CaseDetail, CaseSummary };

export interface DepartmentClientOptions {
  /** Base URL of the API, e.g. https://api.12345.example.gov.cn or the local stack's http://127.0.0.1:8787. */
  apiUrl: string;
  /** Local stack: the department's API key (`x-api-key`). */
  apiKey?: string;
  /** AWS: a Cognito JWT of the department's user (`Authorization: Bearer`), or a function that returns a fresh one. */
  token?: string | (() => Promise<string>);
  /** The department's queue URL (from the stack outputs, or the local stack's `stack.json` `queues`). */
  queueUrl?: string;
  sqs?: SQSClient;
  fetch?: typeof fetch;
}

/** The answer of every action endpoint. */
export interface ActionResponse {
  case: CaseDetail;
  transition: AuditRecord;
  announced: boolean;
  notice?: { channel: string; kind: string };
}

/** A case event as it arrives on the department queue (EventBridge envelope → the fields a department needs). */
export interface CaseEventMessage {
  eventId: string;
  /** `Case.Dispatched` (new work, 改派 or 重办), `Case.ExtensionApproved`, `Case.CitizenUpdated` … */
  detailType: string;
  caseId: string;
  trackingNo: string;
  version: number;
  state: string;
  department: string;
  title?: string;
  text?: string;
  /** What happened, for lifecycle events (action, from, to, reason, text, details). */
  transition?: Partial<AuditRecord>;
  detail: Record<string, unknown>;
}

export interface ReceivedMessage extends CaseEventMessage {
  /** Deletes the message from the queue: call it once the work is durable on your side. */
  ack(): Promise<void>;
}

export class DepartmentApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DepartmentApiError';
  }
}

/** Reads one queue message body; undefined when it is not a case event. */
export function parseCaseEvent(body: string): CaseEventMessage | undefined {
  let e: { 'detail-type'?: unknown; detail?: Record<string, unknown> };
  try {
    e = JSON.parse(body);
  } catch {
    return undefined;
  }
  const d = e?.detail;
  if (!d || typeof d.caseId !== 'string' || typeof d.trackingNo !== 'string' || typeof d.version !== 'number') {
    return undefined;
  }
  const type = typeof e['detail-type'] === 'string' ? e['detail-type'] : '';
  return {
    eventId: typeof d.eventId === 'string' ? d.eventId : `${d.caseId}:${d.version}:${type}`,
    detailType: type,
    caseId: d.caseId,
    trackingNo: d.trackingNo,
    version: d.version,
    state: typeof d.state === 'string' ? d.state : '',
    department: typeof d.department === 'string' ? d.department : '',
    ...(typeof d.title === 'string' ? { title: d.title } : {}),
    ...(typeof d.text === 'string' ? { text: d.text } : {}),
    ...(d.transition && typeof d.transition === 'object' ? { transition: d.transition as Partial<AuditRecord> } : {}),
    detail: d,
  };
}

type Body = Record<string, unknown>;
type Versioned = { expectedVersion?: number };

export class DepartmentClient {
  private readonly base: string;
  private readonly fetcher: typeof fetch;
  private sqsClient: SQSClient | undefined;

  constructor(private readonly opts: DepartmentClientOptions) {
    this.base = opts.apiUrl.replace(/\/+$/, '');
    this.fetcher = opts.fetch ?? fetch;
    this.sqsClient = opts.sqs;
  }

  /**
   * My cases, by state then deadline, a page per state; `more` gives each state with more cases the cursor of its next
   * page (pass it back with that `state`).
   */
  list(
    opts: { state?: string; limit?: number; cursor?: string } = {},
  ): Promise<{ department: string; cases: CaseSummary[]; more: Record<string, string> }> {
    const q = new URLSearchParams();
    if (opts.state) q.set('state', opts.state);
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.cursor) q.set('cursor', opts.cursor);
    return this.call('GET', `/api/dept/cases${q.size ? `?${q}` : ''}`);
  }

  get(caseId: string): Promise<CaseDetail> {
    return this.call('GET', `/api/dept/cases/${encodeURIComponent(caseId)}`);
  }

  /** 签收. */
  sign(caseId: string, body: { text?: string } & Versioned = {}): Promise<ActionResponse> {
    return this.act(caseId, 'sign', body);
  }

  /** 先行联系. */
  contact(caseId: string, body: { text?: string } & Versioned = {}): Promise<ActionResponse> {
    return this.act(caseId, 'contact', body);
  }

  /** 退单申请. */
  requestReturn(
    caseId: string,
    body: { reason: string; attachments?: Attachment[] } & Versioned,
  ): Promise<ActionResponse> {
    return this.act(caseId, 'return', body);
  }

  /** 延期申请: `newDueAt` is an ISO 8601 instant with an offset. */
  requestExtension(caseId: string, body: { reason: string; newDueAt: string } & Versioned): Promise<ActionResponse> {
    return this.act(caseId, 'extension', body);
  }

  /** 办结反馈. */
  resolve(caseId: string, body: { text: string; attachments?: Attachment[] } & Versioned): Promise<ActionResponse> {
    return this.act(caseId, 'resolve', body);
  }

  /** 备注 (internal unless `visibility: 'public'`). */
  addNote(
    caseId: string,
    body: { text: string; attachments?: Attachment[]; visibility?: 'internal' | 'public' } & Versioned,
  ): Promise<ActionResponse> {
    return this.act(caseId, 'notes', body);
  }

  /** Receives up to `max` (≤10) case events; each must be `ack()`ed once handled, or it comes back later. */
  async receive(
    opts: { max?: number; waitSeconds?: number; visibilityTimeout?: number } = {},
  ): Promise<ReceivedMessage[]> {
    const queueUrl = this.queueUrl();
    const out = await this.sqs().send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(Math.max(opts.max ?? 10, 1), 10),
        WaitTimeSeconds: Math.min(opts.waitSeconds ?? 10, 20),
        ...(opts.visibilityTimeout ? { VisibilityTimeout: opts.visibilityTimeout } : {}),
      }),
    );
    const received: ReceivedMessage[] = [];
    for (const m of out.Messages ?? []) {
      const e = parseCaseEvent(m.Body ?? '');
      // Not a case event: left alone, it reaches the DLQ after maxReceiveCount.
      if (e) received.push({ ...e, ack: () => this.delete([m]) });
    }
    return received;
  }

  /**
   * Receives and handles events until the queue is empty (or `maxBatches` / the signal stops it). A message is
   * deleted only after `handler` resolved; a repeat of an event already handled in this run is deleted unhandled.
   * Returns how many events the handler saw.
   */
  async consume(
    handler: (event: CaseEventMessage) => Promise<void>,
    opts: { maxBatches?: number; waitSeconds?: number; signal?: AbortSignal } = {},
  ): Promise<number> {
    const seen = new Set<string>();
    let handled = 0;
    for (let batch = 0; batch < (opts.maxBatches ?? 100); batch++) {
      if (opts.signal?.aborted) break;
      const messages = await this.receive({ waitSeconds: opts.waitSeconds ?? 1 });
      if (messages.length === 0) break;
      for (const m of messages) {
        if (!seen.has(m.eventId)) {
          const { ack: _ack, ...event } = m;
          await handler(event);
          seen.add(m.eventId);
          handled++;
        }
        await m.ack();
      }
    }
    return handled;
  }

  private act(caseId: string, action: string, body: Body): Promise<ActionResponse> {
    return this.call('POST', `/api/dept/cases/${encodeURIComponent(caseId)}/${action}`, body);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: Body): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.apiKey) headers['x-api-key'] = this.opts.apiKey;
    if (this.opts.token) {
      headers.authorization = `Bearer ${typeof this.opts.token === 'string' ? this.opts.token : await this.opts.token()}`;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.fetcher(`${this.base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
      throw new DepartmentApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? text, err?.details);
    }
    return parsed as T;
  }

  private queueUrl(): string {
    if (!this.opts.queueUrl) throw new Error('queueUrl is required to receive case events');
    return this.opts.queueUrl;
  }

  private sqs(): SQSClient {
    this.sqsClient ??= new SQSClient({});
    return this.sqsClient;
  }

  private async delete(messages: Message[]): Promise<void> {
    await this.sqs().send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl(),
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}
