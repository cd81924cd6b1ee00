/**
 * Wiring of the case lifecycle for the HTTP handlers (department API, supervisor API, the citizen's tracking page)
 * and the triage hook: the `CaseService` on the runtime's ports, the citizen-token secret, the notice links, and the
 * one way every action endpoint parses its body and answers.
 *
 * Config (env): `CITIZEN_TOKEN_SECRET` (on AWS from Secrets Manager; locally a random secret is kept in
 * `<CITYLOOP_DATA_DIR>/citizen-token.secret`), `CITYLOOP_PUBLIC_URL` (base of the links in notices; locally the
 * running stack's URL).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dynamoClient, tableName } from '#adapters/dynamo/client.ts';
import { DynamoTrainingExamples } from '#adapters/dynamo/training-examples.ts';
import type { Case } from '#core/case.ts';
import { citizenToken } from '#core/cases/citizen-auth.ts';
import { correctionOf, type TrainingExampleStore } from '#core/cases/corrections.ts';
import type { NoticeContext } from '#core/cases/notify.ts';
import { CaseService } from '#core/cases/service.ts';
import { indexTaxonomy } from '#core/classify/taxonomy.ts';
import { CityLoopError } from '#core/errors.ts';
import { toShanghaiIso } from '#core/ids.ts';
import { type Action, ActionSchema } from '#core/lifecycle/actions.ts';
import type { ActionType } from '#core/lifecycle/states.ts';
import type { Actor } from '#core/lifecycle/types.ts';
import { caseMetricsPort } from '#core/sla/case-metrics.ts';
import { slaHook } from '#core/sla/lifecycle.ts';
import { defaultDepartments, defaultTaxonomy, departmentName } from '#core/taxonomy/defaults.ts';
import type { Category } from '#core/taxonomy/types.ts';
import { caseDetail } from '#core/views/staff.ts';
import { type HttpEvent, type HttpResult, header, json, parseBody } from './http.ts';
import { log } from './log.ts';
import { getRuntime, type Runtime } from './runtime.ts';

export const categories: ReadonlyMap<string, Category> = new Map(defaultTaxonomy.categories.map((c) => [c.code, c]));

export { departmentName };

let secret: { value: string | undefined } | undefined;

/** The HMAC secret of citizen tokens, or undefined when none is configured (tokens are then never valid). */
export function citizenTokenSecret(): string | undefined {
  if (secret) return secret.value;
  const fromEnv = process.env.CITIZEN_TOKEN_SECRET;
  const localDir = process.env.BLOB_BUCKET ? undefined : process.env.CITYLOOP_DATA_DIR;
  if (fromEnv) secret = { value: fromEnv };
  else if (localDir) secret = { value: localSecret(join(localDir, 'citizen-token.secret')) };
  else {
    log.warn('CITIZEN_TOKEN_SECRET is not set: notice links carry no token, citizens verify by phone digits only');
    secret = { value: undefined };
  }
  return secret.value;
}

function localSecret(file: string): string {
  try {
    writeFileSync(file, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return readFileSync(file, 'utf8').trim();
}

function publicUrl(): string {
  if (process.env.CITYLOOP_PUBLIC_URL) return process.env.CITYLOOP_PUBLIC_URL;
  const localDir = process.env.BLOB_BUCKET ? undefined : process.env.CITYLOOP_DATA_DIR;
  if (localDir) {
    try {
      const info = JSON.parse(readFileSync(join(localDir, 'stack.json'), 'utf8')) as { url?: string };
      if (info.url) return info.url;
    } catch {
      // Not started yet: the default below.
    }
  }
  return 'https://12345.example.gov.cn';
}

export const noticeContext: NoticeContext = {
  get publicUrl() {
    return publicUrl();
  },
  token: (trackingNo) => {
    const s = citizenTokenSecret();
    return s ? citizenToken(s, trackingNo) : undefined;
  },
  departmentName,
};

let cached: { rt: Runtime; service: CaseService } | undefined;
let taxonomyIndex: ReturnType<typeof indexTaxonomy> | undefined;
let examples: { rt: Runtime; store: TrainingExampleStore } | undefined;
let examplesOverride: TrainingExampleStore | undefined;

/** Where supervisors' category decisions are kept as training examples (the runtime's table; tests may swap it). */
export function trainingExamples(): TrainingExampleStore {
  if (examplesOverride) return examplesOverride;
  const rt = getRuntime();
  if (examples?.rt !== rt) examples = { rt, store: new DynamoTrainingExamples(dynamoClient(), tableName()) };
  return examples.store;
}

export function setTrainingExamples(store: TrainingExampleStore | undefined): void {
  examplesOverride = store;
}

/** The case service on the current runtime (rebuilt when tests swap the runtime). */
export function caseService(): CaseService {
  const rt = getRuntime();
  if (cached?.rt !== rt) {
    cached = {
      rt,
      service: new CaseService({
        cases: rt.store,
        bus: rt.bus,
        clock: rt.clock,
        departments: defaultDepartments,
        categories,
        outbox: rt.outbox,
        notices: noticeContext,
        // The SLA engine keeps `deadlines` and the machine's windows in step with each transition.
        deadlines: slaHook(),
        metrics: caseMetricsPort(rt.store),
        // 人工分拨/改派 with a category: a labelled example for the next training (`cityloop corrections`).
        corrections: async (before, after, audit) => {
          taxonomyIndex ??= indexTaxonomy(defaultTaxonomy);
          const example = correctionOf(before, after, audit, taxonomyIndex);
          if (example) await trainingExamples().putExample(example);
        },
        log,
      }),
    };
  }
  return cached.service;
}

/**
 * Hook for the triage path (no SQS involved): call it with a case triage has just created (relation `new`); when
 * triage dispatched it automatically, the citizen gets the dispatch notice on their channel. Never throws.
 */
export async function notifyCaseOpened(c: Case): Promise<boolean> {
  try {
    return (await caseService().notifyOpened(c)) !== undefined;
  } catch (e) {
    log.error('dispatch notice failed', { caseId: c.caseId, error: (e as Error).message });
    return false;
  }
}

export const nowIso = (): string => toShanghaiIso(getRuntime().clock.now());

/** The JSON (or form) body, `{}` when there is none. */
export function bodyOf(event: HttpEvent): Record<string, unknown> {
  if (!event.body) return {};
  return parseBody(event);
}

export function caseIdOf(event: HttpEvent): string {
  const id = event.pathParameters?.caseId ?? '';
  // Case ids are tracking numbers today; anything unreasonable is simply not found (no hint about the format).
  if (!/^[\w.:-]{1,128}$/.test(id)) throw new CityLoopError('NOT_FOUND', '未找到该工单 no such case', 404);
  return id;
}

/** `expectedVersion` from the body or an `If-Match` header; undefined when absent. */
export function expectedVersionOf(event: HttpEvent, body: Record<string, unknown>): number | undefined {
  const raw = body.expectedVersion ?? header(event, 'if-match')?.replace(/^W\/|"/g, '');
  if (raw === undefined || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new CityLoopError('INVALID_VERSION', 'expectedVersion must be a non-negative integer', 400);
  }
  return n;
}

const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, yes: true, no: false, 是: true, 否: false };

/** Builds the action of `type` from the named body fields only (a body cannot choose another action type). */
export function actionFrom(type: ActionType, body: Record<string, unknown>, fields: readonly string[]): Action {
  const draft: Record<string, unknown> = { type };
  for (const f of fields) {
    let v = body[f];
    if (v === undefined || v === null || v === '') continue;
    if (f === 'resolved' && typeof v === 'string' && v in BOOLEAN_WORDS) v = BOOLEAN_WORDS[v];
    draft[f] = v;
  }
  const parsed = ActionSchema.safeParse(draft);
  if (!parsed.success) {
    throw new CityLoopError('INVALID_ACTION', '请求内容不正确 invalid action body', 400, {
      issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return parsed.data;
}

/** Runs one staff action endpoint: parse → act → the case as the caller now sees it, and the trace record. */
export async function staffAction(
  event: HttpEvent,
  actor: Actor,
  type: ActionType,
  fields: readonly string[],
): Promise<HttpResult> {
  const body = bodyOf(event);
  const action = actionFrom(type, body, fields);
  const expectedVersion = expectedVersionOf(event, body);
  const caseId = caseIdOf(event);
  const service = caseService();
  const done = await service.act(caseId, action, actor, expectedVersion === undefined ? {} : { expectedVersion });
  log.info('case action', {
    caseId,
    action: type,
    role: actor.role,
    actor: actor.id,
    version: done.case.version,
    state: done.case.state,
    announced: done.announced,
  });
  return json(200, {
    case: caseDetail(done.case, actor, nowIso(), departmentName),
    transition: done.audit,
    announced: done.announced,
    ...(done.notice ? { notice: done.notice } : {}),
  });
}

/** A limit query parameter in 1..max (default `fallback`). */
/** `?cursor=`: the next page of a list (opaque: the store checks it); undefined when absent or empty. */
export function cursorOf(event: HttpEvent): string | undefined {
  const raw = event.queryStringParameters?.cursor;
  return raw === undefined || raw === '' ? undefined : raw;
}

export function limitOf(event: HttpEvent, fallback: number, max: number): number {
  const raw = event.queryStringParameters?.limit;
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new CityLoopError('INVALID_LIMIT', `limit must be an integer in 1..${max}`, 400);
  }
  return n;
}
