/**
 * POST requests: an Open311 service request (form fields) → an IntakeRequest draft for `normalizeIntake`.
 *
 * - `service_code` must name a service, and becomes `categoryHint`: a strong hint for triage, never a bypass of
 *   classification and routing.
 * - A location is required: lat+long (WGS-84), address_string or address_id.
 * - email / phone / first_name + last_name are the citizen's contact (never published); none of them → anonymous.
 * - Attribute answers and what IntakeRequest has no field for (address_id, media_url) are appended to the text as
 *   labelled lines, so the department reads them; the raw form is kept as received anyway.
 * - The idempotency key is the client id, the Shanghai day and a digest of the content: a client retrying after a
 *   timeout gets the same 受理编号 (the caller also checks the previous day's key: a 24 h window).
 */
import { createHash } from 'node:crypto';
import type { CityLoopError } from '#core/errors.ts';
import { shanghaiDay, toShanghaiIso } from '#core/ids.ts';
import type { IntakeDraft } from '#core/intake/normalize.ts';
import { LIMITS } from '#core/intake/schema.ts';
import { type AttributeAnswer, checkAttributes } from './attributes.ts';
import { badRequest, type Open311Problem, open311Error } from './errors.ts';
import type { Open311Form } from './form.ts';
import type { ServiceCatalog } from './services.ts';

export const REQUEST_LIMITS = {
  description: LIMITS.text,
  address: LIMITS.address,
  addressId: 64,
  mediaUrl: 2048,
  deviceId: 128,
  accountId: 128,
  contact: 254,
} as const;

export interface ServiceRequestInput {
  serviceCode: string;
  /** The IntakeRequest draft, without `channelMessageId` (the caller picks today's or yesterday's key). */
  draft: IntakeDraft;
  /** Idempotency keys (also the `token`): this Shanghai day's and the previous day's. */
  messageIds: { today: string; yesterday: string };
  accountId?: string;
  attributes: AttributeAnswer[];
  ignoredAttributes: string[];
}

export type ServiceRequestResult = { ok: true; value: ServiceRequestInput } | { ok: false; error: CityLoopError };

const chars = (s: string) => [...s].length;

function optional(form: Open311Form, name: string): string | undefined {
  const v = form.fields.get(name)?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function parseCoordinate(raw: string, min: number, max: number): number | undefined {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= min && n <= max ? n : undefined;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** FixMyStreet's default description starts `title: <title>` followed by a blank line and `detail: ...`. */
function titleFromDescription(description: string): string | undefined {
  const m = /^title:[ \t]*(.+)$/m.exec(description.split(/\r?\n/)[0] ?? '');
  const t = m?.[1]?.trim();
  return t && chars(t) <= LIMITS.title ? t : undefined;
}

/** Appends labelled lines below the text, within the text limit: the raw record keeps whatever does not fit. */
function withExtras(text: string, lines: string[]): string {
  if (lines.length === 0) return text;
  const head = '【Open311 附加信息】';
  let out = `${text}\n\n${head}`;
  for (const line of lines) {
    const next = `${out}\n${line}`;
    if (chars(next) > LIMITS.text - 12) {
      out += '\n（其余见原始记录）';
      break;
    }
    out = next;
  }
  return chars(out) <= LIMITS.text ? out : text;
}

function digest(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}

export function messageIdFor(clientId: string, day: string, contentDigest: string): string {
  return `${clientId}.${day}.${contentDigest}`;
}

/** Token = channel message id: `<client>.<yyyymmdd>.<digest>`. */
export const TOKEN_PATTERN = /^[a-z0-9-]{1,32}\.\d{8}\.[A-Za-z0-9_-]{22}$/;

export function parseServiceRequest(
  form: Open311Form,
  ctx: { catalog: ServiceCatalog; clientId: string; now: Date },
): ServiceRequestResult {
  const problems: Open311Problem[] = [];
  const serviceCode = optional(form, 'service_code');
  const entry = serviceCode ? ctx.catalog.get(serviceCode) : undefined;
  if (!serviceCode) problems.push({ code: 'MISSING_FIELD', description: 'service_code is required' });
  else if (!entry)
    problems.push({
      code: 'UNKNOWN_SERVICE',
      description: `service_code ${serviceCode.slice(0, 64)} is not a service`,
    });

  const latRaw = optional(form, 'lat');
  const lonRaw = optional(form, 'long');
  const addressString = optional(form, 'address_string');
  const addressId = optional(form, 'address_id');
  let lat: number | undefined;
  let lon: number | undefined;
  if (latRaw !== undefined || lonRaw !== undefined) {
    lat = latRaw === undefined ? undefined : parseCoordinate(latRaw, -90, 90);
    lon = lonRaw === undefined ? undefined : parseCoordinate(lonRaw, -180, 180);
    if (lat === undefined || lon === undefined) {
      problems.push({
        code: 'INVALID_LOCATION',
        description: 'lat and long must both be given, as WGS-84 decimal degrees',
      });
    }
  }
  if (latRaw === undefined && lonRaw === undefined && !addressString && !addressId) {
    problems.push({
      code: 'MISSING_LOCATION',
      description: 'a location is required: lat and long, address_string or address_id',
    });
  }
  if (addressString && chars(addressString) > REQUEST_LIMITS.address) {
    problems.push({
      code: 'FIELD_TOO_LONG',
      description: `address_string is longer than ${REQUEST_LIMITS.address} characters`,
    });
  }
  if (addressId && chars(addressId) > REQUEST_LIMITS.addressId) {
    problems.push({
      code: 'FIELD_TOO_LONG',
      description: `address_id is longer than ${REQUEST_LIMITS.addressId} characters`,
    });
  }

  const description = form.fields.get('description')?.trim() ?? '';
  if (chars(description) > REQUEST_LIMITS.description) {
    problems.push({
      code: 'DESCRIPTION_TOO_LONG',
      description: `description is longer than ${REQUEST_LIMITS.description} characters`,
    });
  }
  const mediaUrl = optional(form, 'media_url');
  if (mediaUrl && (mediaUrl.length > REQUEST_LIMITS.mediaUrl || !isHttpUrl(mediaUrl))) {
    problems.push({
      code: 'INVALID_MEDIA_URL',
      description: 'media_url must be an http(s) URL of at most 2048 characters',
    });
  }
  const deviceId = optional(form, 'device_id');
  const accountId = optional(form, 'account_id');
  if (deviceId && deviceId.length > REQUEST_LIMITS.deviceId) {
    problems.push({
      code: 'FIELD_TOO_LONG',
      description: `device_id is longer than ${REQUEST_LIMITS.deviceId} characters`,
    });
  }
  if (accountId && accountId.length > REQUEST_LIMITS.accountId) {
    problems.push({
      code: 'FIELD_TOO_LONG',
      description: `account_id is longer than ${REQUEST_LIMITS.accountId} characters`,
    });
  }
  const email = optional(form, 'email');
  const phone = optional(form, 'phone');
  for (const [name, v] of [
    ['email', email],
    ['phone', phone],
  ] as const) {
    if (v && v.length > REQUEST_LIMITS.contact) {
      problems.push({
        code: 'FIELD_TOO_LONG',
        description: `${name} is longer than ${REQUEST_LIMITS.contact} characters`,
      });
    }
  }
  const name = [optional(form, 'first_name'), optional(form, 'last_name')].filter(Boolean).join(' ');

  const check = checkAttributes(entry?.attributes ?? [], form.attributes);
  problems.push(...check.problems);
  if (problems.length > 0) return { ok: false, error: open311Error(400, problems) };
  if (!serviceCode || !entry)
    return { ok: false, error: badRequest('UNKNOWN_SERVICE', 'service_code is not a service') };

  // Title: a `title` attribute the definition does not claim, FixMyStreet's `title:` line, else triage's rule.
  const titleAttr = check.ignored.includes('title') ? form.attributes.get('title')?.[0]?.trim() : undefined;
  const title = titleAttr && chars(titleAttr) <= LIMITS.title ? titleAttr : titleFromDescription(description);
  const extras = check.answers.map((a) => `${a.label}：${a.display.join('、')}`);
  if (addressId) extras.push(`地址编号 address_id：${addressId}`);
  if (mediaUrl) extras.push(`图片 media_url：${mediaUrl}`);
  const base = description !== '' ? description : `${entry.service.service_name}（Open311 报告，未填写描述）`;

  const citizen: Record<string, unknown> = {};
  if (name) citizen.name = name;
  if (phone) citizen.phone = phone;
  if (email) citizen.email = email;
  if (!phone && !email) citizen.anonymous = true;

  const location: Record<string, unknown> = {};
  if (lat !== undefined && lon !== undefined) Object.assign(location, { lat, lon, datum: 'WGS84' });
  if (addressString) location.address = addressString;

  const draft: IntakeDraft = {
    channel: 'open311',
    receivedAt: toShanghaiIso(ctx.now),
    citizen,
    ...(title ? { title } : {}),
    text: withExtras(base, extras),
    ...(Object.keys(location).length > 0 ? { location } : {}),
    categoryHint: serviceCode,
  };
  const contentDigest = digest([
    serviceCode,
    latRaw ?? null,
    lonRaw ?? null,
    addressString ?? null,
    addressId ?? null,
    description,
    mediaUrl ?? null,
    email ?? null,
    phone ?? null,
    name,
    deviceId ?? null,
    accountId ?? null,
    [...form.attributes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);
  const today = shanghaiDay(ctx.now);
  const yesterday = shanghaiDay(new Date(ctx.now.getTime() - 86_400_000));
  return {
    ok: true,
    value: {
      serviceCode,
      draft,
      messageIds: {
        today: messageIdFor(ctx.clientId, today, contentDigest),
        yesterday: messageIdFor(ctx.clientId, yesterday, contentDigest),
      },
      ...(accountId ? { accountId } : {}),
      attributes: check.answers,
      ignoredAttributes: check.ignored,
    },
  };
}
