import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toShanghaiIso } from '#core/ids.ts';
import { webDraft } from '#functions/http/requests.ts';

/** The earlier `webDraft` (a spread literal): the draft must be the same, keys in order. */
function reference(body: Record<string, unknown>, now: Date, idempotencyKey: string | undefined) {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const obj = (v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const citizen = { ...obj(body.citizen) };
  for (const k of ['name', 'phone', 'email'] as const) if (str(body[k]) && !citizen[k]) citizen[k] = body[k];
  if (body.anonymous === true || body.anonymous === 'true' || body.anonymous === 'on') citizen.anonymous = true;
  const location = { ...obj(body.location) };
  if (str(body.address) && !location.address) location.address = body.address;
  const draft: Record<string, unknown> = {
    channel: 'web',
    receivedAt: toShanghaiIso(now),
    citizen,
    title: body.title,
    text: body.text,
    ...(Object.keys(location).length ? { location } : {}),
    ...(str(body.nature) ? { nature: body.nature } : {}),
    ...(str(body.category) ? { categoryHint: body.category } : {}),
    language: str(body.language) ?? 'zh-CN',
  };
  draft.channelMessageId =
    idempotencyKey && /^[\w.:-]{8,128}$/.test(idempotencyKey)
      ? `key:${idempotencyKey}`
      : `hash:${createHash('sha256')
          .update(
            JSON.stringify([body.title, body.text, citizen.phone, citizen.email, Math.floor(now.getTime() / 600_000)]),
          )
          .digest('base64url')
          .slice(0, 32)}`;
  return draft;
}

/** Entries in order, nested objects too: equal drafts with keys in another order would differ here. */
const ordered = (v: unknown): unknown =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.entries(v).map(([k, x]) => [k, ordered(x)]) : v;

const value = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(undefined, null, true, 'true', 'on', 3, [], ''));
const body = fc.record(
  {
    title: value,
    text: value,
    name: value,
    phone: value,
    email: value,
    anonymous: value,
    address: value,
    nature: value,
    category: value,
    language: value,
    citizen: fc.oneof(fc.record({ phone: value, name: value }, { requiredKeys: [] }), fc.constantFrom(null, [], 'x')),
    location: fc.oneof(
      fc.record({ address: value, lat: fc.double() }, { requiredKeys: [] }),
      fc.constantFrom(null, []),
    ),
  },
  { requiredKeys: [] },
);

describe('Function: webDraft', () => {
  it('should map a web form as before, with the same keys in the same order', () => {
    fc.assert(
      fc.property(
        body,
        fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
        fc.constantFrom(undefined, 'short', 'bench-key-12', 'bad key!'),
        (b, ms, key) => {
          // Act: twice at the same instant, then at another one
          const at = new Date(ms);
          const first = webDraft(b, at, key);
          const again = webDraft(b, new Date(ms), key);
          const later = webDraft(b, new Date(ms + 1000), key);
          // Assess
          expect(ordered(first)).toEqual(ordered(reference(b, at, key)));
          expect(ordered(again)).toEqual(ordered(first));
          expect(later.receivedAt).toBe(toShanghaiIso(new Date(ms + 1000)));
        },
      ),
      { numRuns: 500, seed: 3 },
    );
  });
});
