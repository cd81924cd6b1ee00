/**
 * The Open311 settings (`config/open311.json`) as one zod/mini schema: jurisdiction, discovery facts, limits,
 * publication choices, service attributes per service_code, and the local-only client keys.
 * Client keys on AWS never come from this file (see functions/open311/config.ts): `localClients` is honoured only
 * outside Lambda, so a key in the repository cannot open a deployed endpoint.
 */
import * as z from 'zod/mini';

export const DATATYPES = ['string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist'] as const;
export type Datatype = (typeof DATATYPES)[number];

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const positive = z.number().check(z.int(), z.gte(1));

export const AttributeValue = z.object({ key: text(64), name: text(200) });

export const AttributeDefinition = z
  .object({
    code: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/)),
    datatype: z.enum(DATATYPES),
    required: z.boolean(),
    /** false: an informational attribute (no input), shown by clients as text. */
    variable: z._default(z.boolean(), true),
    /** The question the client shows, e.g. 路灯杆编号. */
    description: text(500),
    datatype_description: z.optional(z.string().check(z.maxLength(500))),
    order: z.optional(positive),
    values: z.optional(z.array(AttributeValue).check(z.minLength(1), z.maxLength(100))),
  })
  .check(
    z.refine(
      (a) => (a.datatype === 'singlevaluelist' || a.datatype === 'multivaluelist') === (a.values !== undefined),
      {
        message: 'list datatypes need values; other datatypes have none',
      },
    ),
  );
export type AttributeDefinition = z.infer<typeof AttributeDefinition>;

export const ServiceOverride = z.object({
  description: z.optional(text(1000)),
  /** Shown in the answer to POST requests for this service. */
  notice: z.optional(text(500)),
  attributes: z.optional(z.array(AttributeDefinition).check(z.maxLength(50))),
});

const Rate = z.object({ perMinute: positive, burst: positive });

export const LocalClient = z.object({
  id: z.string().check(z.regex(/^[a-z0-9-]{1,32}$/)),
  name: z.optional(text(100)),
  /** Hex SHA-256 of the api_key: the key itself is not kept in the repository. */
  keySha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  perMinute: z.optional(positive),
  burst: z.optional(positive),
});
export type LocalClient = z.infer<typeof LocalClient>;

export const Open311Config = z.object({
  /** Default and only jurisdiction this endpoint serves; another one is a 404 as the spec says. */
  jurisdictionId: text(200),
  discovery: z.object({
    changeset: z.iso.datetime({ offset: true }),
    contact: text(500),
    keyService: text(500),
  }),
  /** Answer to POST requests; `{trackingNo}` is replaced by the 受理编号. */
  serviceNotice: text(500),
  /** Absolute base URL published in discovery, e.g. https://12345.example.gov.cn/open311/v2; default from the request. */
  publicBaseUrl: z.optional(z.string().check(z.regex(/^https?:\/\/[^\s]+[^/\s]$/))),
  limits: z.object({
    bodyBytes: positive,
    pageSizeDefault: positive,
    pageSizeMax: positive,
    /** start_date..end_date at most this long (the spec's 90 days). */
    windowDays: positive,
    /** servicerequestupdates sees changes of cases requested at most this many days before the window. */
    updatesLookbackDays: positive,
    /** service_request_id values in one GET requests. */
    maxIds: positive,
  }),
  rateLimit: z.object({ client: Rate, anonymous: Rate }),
  publish: z.object({
    /** The citizen's text, with phone numbers and emails masked. */
    description: z.boolean(),
    /** Rounding of published coordinates (4 ≈ 11 m): a pin must not point at a citizen's flat. */
    coordinateDecimals: z.number().check(z.int(), z.gte(0), z.lte(7)),
    /** `open311`: updates of requests that came in through Open311 only; `all`: of every case. */
    updatesScope: z.enum(['open311', 'all']),
  }),
  services: z.record(z.string(), ServiceOverride),
  localClients: z.array(LocalClient),
});
export type Open311Config = z.infer<typeof Open311Config>;

/** Parses the file; throws with the zod issues when it is malformed (a deploy-time mistake, not a client's). */
export function parseOpen311Config(value: unknown): Open311Config {
  const r = Open311Config.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`config/open311.json is invalid: ${issues}`);
  }
  return r.data;
}
