/**
 * The mini-program API's pure parts: request shapes and their mapping to the one intake form.
 * Flow: `login` (wx.login code → code2Session → our session token, see session.ts / code2session.ts), `submit`
 * (text, photos uploaded beforehand, location from wx.getLocation), `mine` (the citizen's own requests).
 */
import * as z from 'zod/mini';
import { CityLoopError } from '#core/errors.ts';
import { IntakeRequest, LIMITS, NATURES } from '#core/intake/schema.ts';
import { LOGIN_CODE } from './code2session.ts';
import { titleFromText } from './push.ts';
import { fail, ok, type Result } from './result.ts';

/** The mini-program sends small JSON; photos travel separately (pre-signed upload). */
export const MAX_JSON_BYTES = 32 * 1024;
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

export const LoginRequest = z.object({
  code: z.string().check(z.regex(LOGIN_CODE)),
});
export type LoginRequest = z.infer<typeof LoginRequest>;

/** A photo already uploaded under a key we handed out (pre-signed URL on AWS, local storage locally). */
export const PhotoRef = z.object({
  storageKey: z.string().check(z.regex(/^(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9!_.*'()/-]{1,1024}$/)),
  contentType: z.enum(['image/jpeg', 'image/png', 'image/webp', 'image/heic']),
  size: z.number().check(z.int(), z.gte(1), z.lte(MAX_PHOTO_BYTES)),
  name: z.optional(z.string().check(z.maxLength(255))),
});
export type PhotoRef = z.infer<typeof PhotoRef>;

/** Types a mini-program may upload straight to storage (HEIC only through the `photos` route, which sniffs it). */
export const UPLOAD_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type UploadType = (typeof UPLOAD_TYPES)[number];
/** Under Lambda's 6 MB synchronous payload once base64-encoded by API Gateway; the same cap for direct uploads. */
export const UPLOAD_LIMIT = 4 * 1024 * 1024;

/** `POST photos/upload-url`: what the phone is about to upload; both are signed into the URL on AWS. */
export const UploadUrlRequest = z.object({
  contentType: z.enum(UPLOAD_TYPES),
  size: z.number().check(z.int(), z.gte(1), z.lte(UPLOAD_LIMIT)),
});
export type UploadUrlRequest = z.infer<typeof UploadUrlRequest>;

/** As `wx.getLocation` returns it; `type` is what the page asked for (the issue's flow asks for gcj02). */
export const WxLocation = z.object({
  latitude: z.number().check(z.gte(-90), z.lte(90)),
  longitude: z.number().check(z.gte(-180), z.lte(180)),
  type: z.optional(z.enum(['gcj02', 'wgs84'])),
  accuracy: z.optional(z.number().check(z.gte(0))),
  /** From wx.chooseLocation or reverse geocoding on the phone. */
  address: z.optional(z.string().check(z.maxLength(LIMITS.address))),
});
export type WxLocation = z.infer<typeof WxLocation>;

export const SubmitRequest = z.object({
  /** Generated on the phone once per form: a resubmission (flaky network) is the same report. */
  clientRequestId: z.string().check(z.regex(/^[A-Za-z0-9_-]{8,64}$/)),
  text: z.string().check(z.trim(), z.minLength(1), z.maxLength(LIMITS.text)),
  title: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(LIMITS.title))),
  photos: z.optional(z.array(PhotoRef).check(z.maxLength(LIMITS.attachments))),
  location: z.optional(WxLocation),
  nature: z.optional(z.enum(NATURES)),
  categoryHint: z.optional(z.string().check(z.maxLength(64))),
});
export type SubmitRequest = z.infer<typeof SubmitRequest>;

function invalid(error: z.core.$ZodError): CityLoopError {
  return new CityLoopError(
    'INVALID_REQUEST',
    'request does not match the form',
    400,
    error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  );
}

/** A JSON body within the size limit: BODY_TOO_LARGE (413) or MALFORMED_JSON (400) otherwise. */
export function parseJsonBody(body: string | undefined, maxBytes = MAX_JSON_BYTES): Result<unknown> {
  if (body === undefined || body.length === 0) return fail(new CityLoopError('MALFORMED_JSON', 'empty body', 400));
  if (body.length > maxBytes || Buffer.byteLength(body, 'utf8') > maxBytes) {
    return fail(new CityLoopError('BODY_TOO_LARGE', `body exceeds ${maxBytes} bytes`, 413));
  }
  try {
    return ok(JSON.parse(body));
  } catch {
    return fail(new CityLoopError('MALFORMED_JSON', 'body is not JSON', 400));
  }
}

export function parseLoginRequest(body: unknown): Result<LoginRequest> {
  const r = LoginRequest.safeParse(body);
  return r.success ? ok(r.data) : fail(invalid(r.error));
}

export function parseUploadUrlRequest(body: unknown): Result<UploadUrlRequest> {
  const r = UploadUrlRequest.safeParse(body);
  return r.success ? ok(r.data) : fail(invalid(r.error));
}

export function parseSubmitRequest(body: unknown): Result<SubmitRequest> {
  const r = SubmitRequest.safeParse(body);
  return r.success ? ok(r.data) : fail(invalid(r.error));
}

export interface SubmitContext {
  /** From the verified session token, never from the body. */
  openid: string;
  /** ISO 8601 with offset, from the server clock. */
  receivedAt: string;
  /** When set, every photo key must start with it (or one of them): the prefixes the uploads were issued under. */
  photoKeyPrefix?: string | readonly string[];
}

/** The idempotency key of a mini-program submission, scoped to the citizen so ids of two phones never collide. */
export function miniProgramMessageId(openid: string, clientRequestId: string): string {
  return `mp:${openid}:${clientRequestId}`;
}

/** Maps a validated submission to the intake form; the location keeps its datum (GCJ-02 unless the page said wgs84). */
export function submitToIntake(submit: SubmitRequest, context: SubmitContext): Result<IntakeRequest> {
  const photos = submit.photos ?? [];
  const prefix = context.photoKeyPrefix;
  const prefixes = prefix === undefined ? undefined : typeof prefix === 'string' ? [prefix] : prefix;
  if (prefixes && photos.some((p) => !prefixes.some((x) => p.storageKey.startsWith(x)))) {
    return fail(new CityLoopError('FOREIGN_UPLOAD', 'a photo was not uploaded through this session', 403));
  }
  const loc = submit.location;
  const candidate = {
    channel: 'wechat',
    channelMessageId: miniProgramMessageId(context.openid, submit.clientRequestId),
    receivedAt: context.receivedAt,
    citizen: { openid: context.openid },
    title: submit.title ?? titleFromText(submit.text),
    text: submit.text,
    ...(loc
      ? {
          location: {
            lat: loc.latitude,
            lon: loc.longitude,
            datum: loc.type === 'wgs84' ? 'WGS84' : 'GCJ02',
            ...(loc.address ? { address: loc.address } : {}),
          },
        }
      : {}),
    ...(photos.length > 0
      ? {
          attachments: photos.map((p, i) => ({
            name: p.name ?? `photo-${i + 1}.${p.contentType.slice('image/'.length)}`,
            contentType: p.contentType,
            size: p.size,
            storageKey: p.storageKey,
          })),
        }
      : {}),
    ...(submit.nature ? { nature: submit.nature } : {}),
    ...(submit.categoryHint ? { categoryHint: submit.categoryHint } : {}),
  };
  const r = IntakeRequest.safeParse(candidate);
  return r.success ? ok(r.data) : fail(invalid(r.error));
}

/** The image type from the first bytes (magic numbers), never from a client-declared header. */
export function sniffImageType(bytes: Uint8Array): PhotoRef['contentType'] | undefined {
  const b = bytes;
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'image/png';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  // ISO BMFF: size, 'ftyp', major brand (iPhones send HEIC).
  if (
    b.length >= 12 &&
    ascii(4, 8) === 'ftyp' &&
    ['heic', 'heix', 'mif1', 'msf1', 'heim', 'heis'].includes(ascii(8, 12))
  ) {
    return 'image/heic';
  }
  return undefined;
}
