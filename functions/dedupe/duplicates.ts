/**
 * 重复件/并案提示 (duplicate suggestions) before filing: the open cases near a draft that look like the same problem,
 * best first, from the dedupe engine's index (`engine.suggest`, reads only).
 *
 *   POST /api/agent/duplicates                     (agents, supervisors) { text, title?, location?, phone?, citizen?,
 *        category?, limit? } → { suggestions: [{ caseId, title, receivedAt, status, stateLabel, department,
 *        distanceMeters?, reporterCount, reportCount, relation, score, textSimilarity }] }
 *   POST /channels/wechat/miniprogram/duplicates   (citizen, `Authorization: Bearer <mini-program session>`)
 *        { text, title?, location? (wx.getLocation: latitude, longitude, type, address), category? }
 *        → { suggestions: [{ caseId, category, statusLabel, receivedAt, distanceMeters?, reporterCount }] }
 * The citizen sees no other citizen's words (no title, no text): the category, the status and how many people
 * reported it, enough to decide "it is already being handled". Agents see the title, with phone numbers and email
 * addresses masked.
 */
import middy from '@middy/core';
import { bearerToken, verifySessionToken } from '#channels/wechat/session.ts';
import type { Case } from '#core/case.ts';
import type { DuplicateSuggestion } from '#core/dedupe/engine.ts';
import { CityLoopError } from '#core/errors.ts';
import { toShanghaiIso } from '#core/ids.ts';
import { cleanAddress, cleanLine, cleanText, normalizePhone } from '#core/intake/normalize.ts';
import { type Citizen, LIMITS, type Location } from '#core/intake/schema.ts';
import { PUBLIC_STATE_LABELS, STATE_LABELS } from '#core/lifecycle/states.ts';
import { maskText } from '#core/privacy.ts';
import { requireStaff } from '../lib/auth.ts';
import { type HttpEvent, type HttpResult, header, httpErrors, json, parseBody } from '../lib/http.ts';
import { getRuntime } from '../lib/runtime.ts';
import { type DuplicateDraft, departmentName, duplicateSuggestions } from '../lib/triage-context.ts';
import { requireValue, wechatConfig } from '../wechat/config.ts';

export const DUPLICATE_ROUTES = {
  agent: 'POST /api/agent/duplicates',
  miniProgram: 'POST /channels/wechat/miniprogram/duplicates',
} as const;

const MAX_BODY = 32 * 1024;
const MAX_LIMIT = 10;

export interface DuplicatesDeps {
  now(): Date;
  suggest(draft: DuplicateDraft, limit: number): Promise<DuplicateSuggestion[]>;
  getCase(caseId: string): Promise<Case | undefined>;
  /** The mini-program session's openid; throws 401 when the token is missing or invalid. */
  citizenOf(event: HttpEvent): Promise<string>;
  departmentName(id: string | undefined): string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const invalid = (code: string, message: string) => new CityLoopError(code, message, 400);

function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function textOf(body: Record<string, unknown>): { text: string; title?: string } {
  const text = cleanText(str(body.text) ?? '');
  if (text === '') throw invalid('TEXT_REQUIRED', '请先输入诉求内容 type the request first');
  if ([...text].length > LIMITS.text) throw invalid('FIELD_TOO_LONG', `内容超过 ${LIMITS.text} 字 text too long`);
  const title = str(body.title) ? cleanLine(str(body.title) as string).slice(0, LIMITS.title) : '';
  return { text, ...(title ? { title } : {}) };
}

function limitOf(body: Record<string, unknown>): number {
  const n = num(body.limit);
  return n === undefined ? 5 : Math.max(1, Math.min(MAX_LIMIT, Math.floor(n)));
}

function coords(lat: number | undefined, lon: number | undefined): { lat: number; lon: number } | undefined {
  if (lat === undefined || lon === undefined) return undefined;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180)
    throw invalid('INVALID_LOCATION', '坐标超出范围 coordinates out of range');
  return { lat, lon };
}

/** The agent console's location: `{ address?, lat?, lon?, datum? }` (WGS-84 unless it says GCJ02). */
function agentLocation(v: unknown): Location | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const l = v as Record<string, unknown>;
  const address = str(l.address) ? cleanAddress(str(l.address) as string).slice(0, LIMITS.address) : '';
  const p = coords(num(l.lat), num(l.lon));
  const out: Location = {
    ...(address ? { address } : {}),
    ...(p ?? {}),
    ...(p && l.datum === 'GCJ02' ? { datum: 'GCJ02' as const } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

/** `wx.getLocation` / `wx.chooseLocation` as the mini-program sends it (GCJ-02 unless `type: 'wgs84'`). */
function wxLocation(v: unknown): Location | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const l = v as Record<string, unknown>;
  const address = str(l.address) ? cleanAddress(str(l.address) as string).slice(0, LIMITS.address) : '';
  const p = coords(num(l.latitude), num(l.longitude));
  const out: Location = {
    ...(address ? { address } : {}),
    ...(p ? { ...p, datum: l.type === 'wgs84' ? ('WGS84' as const) : ('GCJ02' as const) } : {}),
  };
  return Object.keys(out).length > 0 ? out : undefined;
}

async function forAgent(event: HttpEvent, deps: DuplicatesDeps): Promise<HttpResult> {
  requireStaff(event, 'agent', 'supervisor');
  const body = parseBody(event, MAX_BODY);
  const phone = str(body.phone)?.trim();
  const given = typeof body.citizen === 'object' && body.citizen !== null ? (body.citizen as Citizen) : undefined;
  const citizen: Citizen | undefined = phone
    ? { phone: normalizePhone(phone) }
    : given && (given.phone || given.openid || given.email)
      ? {
          ...(str(given.phone) ? { phone: normalizePhone(given.phone as string) } : {}),
          ...(str(given.openid) ? { openid: given.openid } : {}),
          ...(str(given.email) ? { email: given.email } : {}),
        }
      : undefined;
  const location = agentLocation(body.location);
  const found = await deps.suggest(
    {
      ...textOf(body),
      ...(location ? { location } : {}),
      ...(citizen ? { citizen } : {}),
      ...(str(body.category) ? { category: str(body.category) } : {}),
      at: toShanghaiIso(deps.now()),
    },
    limitOf(body),
  );
  const suggestions = [];
  for (const s of found) {
    const c = await deps.getCase(s.caseId);
    suggestions.push({
      ...s,
      title: maskText(s.title),
      ...(c
        ? {
            state: c.state,
            stateLabel: STATE_LABELS[c.state],
            department: c.department
              ? { id: c.department, name: deps.departmentName(c.department) ?? c.department }
              : null,
            category: c.category ? { code: c.category, name: c.classification.categoryName ?? c.category } : null,
            reportCount: c.reportCount,
          }
        : {}),
    });
  }
  return json(200, { suggestions });
}

async function forCitizen(event: HttpEvent, deps: DuplicatesDeps): Promise<HttpResult> {
  const openid = await deps.citizenOf(event);
  const body = parseBody(event, MAX_BODY);
  const location = wxLocation(body.location);
  const found = await deps.suggest(
    {
      ...textOf(body),
      ...(location ? { location } : {}),
      citizen: { openid },
      ...(str(body.category) ? { category: str(body.category) } : {}),
      at: toShanghaiIso(deps.now()),
    },
    Math.min(limitOf(body), 5),
  );
  const suggestions = [];
  for (const s of found) {
    const c = await deps.getCase(s.caseId);
    if (!c) continue;
    suggestions.push({
      caseId: s.caseId,
      category: c.classification.categoryName ?? null,
      statusLabel: PUBLIC_STATE_LABELS[c.state],
      receivedAt: c.receivedAt,
      ...(s.distanceMeters !== undefined ? { distanceMeters: s.distanceMeters } : {}),
      reporterCount: Math.max(s.reporterCount, c.reportCount),
      yours: s.relation === 'repeat',
    });
  }
  return json(200, { suggestions });
}

export async function handleDuplicates(event: HttpEvent, deps: DuplicatesDeps): Promise<HttpResult> {
  const key = event.routeKey ?? '';
  if (key === DUPLICATE_ROUTES.agent) return forAgent(event, deps);
  if (key === DUPLICATE_ROUTES.miniProgram) return forCitizen(event, deps);
  throw new CityLoopError('NOT_FOUND', `no route ${key}`, 404);
}

async function miniProgramCitizen(event: HttpEvent): Promise<string> {
  const token = bearerToken(header(event, 'authorization'));
  if (!token) throw new CityLoopError('INVALID_SESSION', '请先登录 log in first (Authorization: Bearer <token>)', 401);
  const { miniProgram: mp } = await wechatConfig();
  const verified = verifySessionToken(token, {
    secret: requireValue(mp.sessionSecret, 'WECHAT_SESSION_SECRET'),
    ttlSeconds: mp.sessionTtlSeconds,
    now: () => getRuntime().clock.now().getTime(),
  });
  if (!verified.ok) throw verified.error;
  return verified.value.openid;
}

function runtimeDeps(): DuplicatesDeps {
  const rt = getRuntime();
  return {
    now: () => rt.clock.now(),
    suggest: (draft, limit) => duplicateSuggestions(draft, limit),
    getCase: (id) => rt.store.getCase(id),
    citizenOf: miniProgramCitizen,
    departmentName,
  };
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(httpErrors())
  .handler(async function duplicatesHandler(event) {
    return handleDuplicates(event, runtimeDeps());
  });
