/**
 * The Open311 GeoReport v2 response shapes (http://wiki.open311.org/GeoReport_v2/) and the mySociety
 * servicerequestupdates extension, written from the spec independently of our renderer: JSON answers are checked
 * with strict zod schemas; XML answers are parsed (well-formed, no DOCTYPE, the spec's root and item element names,
 * no unknown or missing elements), converted to the JSON shape by the spec's types, and checked with the same schemas.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import * as z from 'zod/mini';

const W3C = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const w3c = z.string().check(z.regex(W3C));
const str = z.string();
const nstr = z.nullable(z.string());
const id = z.union([z.string().check(z.minLength(1)), z.number()]);

const Service = z.strictObject({
  service_code: id,
  service_name: str,
  description: nstr,
  metadata: z.boolean(),
  type: z.enum(['realtime', 'batch', 'blackbox']),
  keywords: nstr,
  group: nstr,
});

const Attribute = z.strictObject({
  variable: z.boolean(),
  code: str,
  datatype: z.enum(['string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist']),
  required: z.boolean(),
  datatype_description: nstr,
  order: z.number().check(z.int(), z.gte(1)),
  description: str,
  values: z.array(z.strictObject({ key: id, name: str })),
});

const Request = z.strictObject({
  service_request_id: id,
  status: z.enum(['open', 'closed']),
  status_notes: nstr,
  service_name: nstr,
  service_code: z.nullable(id),
  description: nstr,
  agency_responsible: nstr,
  service_notice: nstr,
  requested_datetime: z.nullable(w3c),
  updated_datetime: z.nullable(w3c),
  expected_datetime: z.nullable(w3c),
  address: nstr,
  address_id: z.nullable(id),
  zipcode: z.nullable(id),
  lat: z.nullable(z.number().check(z.gte(-90), z.lte(90))),
  long: z.nullable(z.number().check(z.gte(-180), z.lte(180))),
  media_url: nstr,
});

/** mySociety statuses, as FixMyStreet's map_state reads them. */
export const MYSOCIETY_STATUSES = [
  'OPEN',
  'CLOSED',
  'FIXED',
  'IN_PROGRESS',
  'ACTION_SCHEDULED',
  'INVESTIGATING',
  'DUPLICATE',
  'NOT_COUNCILS_RESPONSIBILITY',
  'NO_FURTHER_ACTION',
  'INTERNAL_REFERRAL',
] as const;

const Update = z.strictObject({
  update_id: id,
  service_request_id: id,
  status: z.enum(MYSOCIETY_STATUSES),
  updated_datetime: w3c,
  description: str,
  media_url: nstr,
  external_status_code: z.optional(nstr),
});

export const JSON_SHAPES = {
  discovery: z.strictObject({
    changeset: w3c,
    contact: str,
    key_service: str,
    endpoints: z
      .array(
        z.strictObject({
          specification: z.string().check(z.regex(/^http:\/\/wiki\.open311\.org\/GeoReport_v2/)),
          url: z.string().check(z.regex(/^https?:\/\//)),
          changeset: w3c,
          type: z.enum(['production', 'test']),
          formats: z.array(z.enum(['text/xml', 'application/json'])).check(z.minLength(1)),
        }),
      )
      .check(z.minLength(1)),
  }),
  services: z.array(Service),
  serviceDefinition: z.strictObject({ service_code: id, attributes: z.array(Attribute) }),
  posted: z
    .array(
      z.strictObject({
        service_request_id: z.optional(id),
        token: z.optional(id),
        service_notice: nstr,
        account_id: nstr,
      }),
    )
    .check(z.refine((l) => l.every((r) => r.service_request_id !== undefined || r.token !== undefined))),
  tokens: z.array(z.strictObject({ service_request_id: z.nullable(id), token: id })),
  requests: z.array(Request),
  updates: z.array(Update),
  updatePosted: z.array(z.strictObject({ update_id: id })),
  errors: z.array(z.strictObject({ code: z.number().check(z.int(), z.gte(400), z.lte(599)), description: str })),
} as const;

export type ShapeKind = keyof typeof JSON_SHAPES;
/** Answers are read loosely by the tests once their shape has been checked here. */
// biome-ignore lint/suspicious/noExplicitAny: a checked answer of any of the spec's shapes.
export type Answer = any;

/** Checks a JSON answer; returns the parsed value. Throws with the issues when the shape is wrong. */
export function checkJson(kind: ShapeKind, body: string): Answer {
  const value = JSON.parse(body);
  const r = JSON_SHAPES[kind].safeParse(value);
  if (!r.success) throw new Error(`JSON ${kind} shape: ${JSON.stringify(r.error.issues.slice(0, 3))}`);
  return value;
}

// ---- XML -------------------------------------------------------------------------------------------------------

type Conv = 'string' | 'bool' | 'number' | 'id';

interface XmlList {
  root: string;
  item: string;
  fields: Record<string, Conv>;
  /** Elements that may be absent (all others must be present, possibly empty). */
  optional?: string[];
}

const REQUEST_FIELDS: Record<string, Conv> = {
  service_request_id: 'id',
  status: 'string',
  status_notes: 'string',
  service_name: 'string',
  service_code: 'id',
  description: 'string',
  agency_responsible: 'string',
  service_notice: 'string',
  requested_datetime: 'string',
  updated_datetime: 'string',
  expected_datetime: 'string',
  address: 'string',
  address_id: 'id',
  zipcode: 'id',
  lat: 'number',
  long: 'number',
  media_url: 'string',
};

const XML_LISTS: Partial<Record<ShapeKind, XmlList>> = {
  services: {
    root: 'services',
    item: 'service',
    fields: {
      service_code: 'id',
      service_name: 'string',
      description: 'string',
      metadata: 'bool',
      type: 'string',
      keywords: 'string',
      group: 'string',
    },
  },
  posted: {
    root: 'service_requests',
    item: 'request',
    fields: { service_request_id: 'id', token: 'id', service_notice: 'string', account_id: 'string' },
    optional: ['service_request_id', 'token'],
  },
  tokens: { root: 'service_requests', item: 'request', fields: { service_request_id: 'id', token: 'id' } },
  requests: { root: 'service_requests', item: 'request', fields: REQUEST_FIELDS },
  updates: {
    root: 'service_request_updates',
    item: 'request_update',
    fields: {
      update_id: 'id',
      service_request_id: 'id',
      status: 'string',
      updated_datetime: 'string',
      description: 'string',
      media_url: 'string',
      external_status_code: 'string',
    },
    optional: ['external_status_code', 'media_url'],
  },
  updatePosted: { root: 'service_request_updates', item: 'request_update', fields: { update_id: 'id' } },
  errors: { root: 'errors', item: 'error', fields: { code: 'number', description: 'string' } },
};

const parser = new XMLParser({
  ignoreAttributes: false,
  parseTagValue: false,
  processEntities: true,
  // The spec's own examples are indented: whitespace between elements is not content.
  trimValues: true,
  ignoreDeclaration: true,
  isArray: (_name, jpath) =>
    /^(services\.service|service_requests\.request|service_request_updates\.request_update|errors\.error|discovery\.endpoints\.endpoint|discovery\.endpoints\.endpoint\.formats\.format|service_definition\.attributes\.attribute|service_definition\.attributes\.attribute\.values\.value)$/.test(
      String(jpath),
    ),
});

function convert(value: unknown, conv: Conv, where: string): unknown {
  if (value === '' || value === undefined) return null;
  if (typeof value !== 'string') throw new Error(`XML ${where}: expected text, got an element`);
  if (conv === 'bool') {
    if (value !== 'true' && value !== 'false') throw new Error(`XML ${where}: not a boolean: ${value}`);
    return value === 'true';
  }
  if (conv === 'number') {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new Error(`XML ${where}: not a number: ${value}`);
    return n;
  }
  return value;
}

function strictFields(
  node: unknown,
  fields: Record<string, Conv>,
  optional: string[],
  where: string,
): Record<string, unknown> {
  if (typeof node !== 'object' || node === null) throw new Error(`XML ${where}: expected elements`);
  const rec = node as Record<string, unknown>;
  const unknown = Object.keys(rec).filter((k) => !(k in fields));
  if (unknown.length) throw new Error(`XML ${where}: unknown elements ${unknown.join(', ')}`);
  const out: Record<string, unknown> = {};
  for (const [k, conv] of Object.entries(fields)) {
    if (!(k in rec)) {
      if (optional.includes(k)) continue;
      throw new Error(`XML ${where}: missing <${k}>`);
    }
    out[k] = convert(rec[k], conv, `${where}.${k}`);
  }
  return out;
}

function parseDocument(body: string, root: string): Record<string, unknown> {
  if (!body.startsWith('<?xml version="1.0" encoding="utf-8"?>')) throw new Error('XML: no UTF-8 declaration');
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw new Error('XML: DOCTYPE or ENTITY present');
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw new Error(`XML not well-formed: ${valid.err.msg}`);
  const doc = parser.parse(body) as Record<string, unknown>;
  const roots = Object.keys(doc);
  if (roots.length !== 1 || roots[0] !== root) throw new Error(`XML: root must be <${root}>, got ${roots.join(', ')}`);
  return doc;
}

/** Checks an XML answer and returns it converted to the JSON shape (so tests can compare both formats). */
export function checkXml(kind: ShapeKind, body: string): Answer {
  let value: unknown;
  if (kind === 'discovery') {
    const doc = parseDocument(body, 'discovery').discovery as Record<string, unknown>;
    const top = strictFields(
      { ...doc, endpoints: '' },
      { changeset: 'string', contact: 'string', key_service: 'string', endpoints: 'string' },
      [],
      'discovery',
    );
    const endpoints = ((doc.endpoints as { endpoint?: unknown[] })?.endpoint ?? []).map((e, i) => {
      const rec = e as Record<string, unknown>;
      const formats = (rec.formats as { format?: string[] } | undefined)?.format ?? [];
      const base = strictFields(
        { ...rec, formats: '' },
        { specification: 'string', url: 'string', changeset: 'string', type: 'string', formats: 'string' },
        [],
        `endpoint[${i}]`,
      );
      return { ...base, formats };
    });
    value = { changeset: top.changeset, contact: top.contact, key_service: top.key_service, endpoints };
  } else if (kind === 'serviceDefinition') {
    const doc = parseDocument(body, 'service_definition').service_definition as Record<string, unknown>;
    const attrs = doc.attributes === '' ? [] : ((doc.attributes as { attribute?: unknown[] })?.attribute ?? []);
    const attributes = attrs.map((a, i) => {
      const rec = a as Record<string, unknown>;
      const values = rec.values === '' ? [] : ((rec.values as { value?: unknown[] })?.value ?? []);
      const base = strictFields(
        { ...rec, values: '' },
        {
          variable: 'bool',
          code: 'string',
          datatype: 'string',
          required: 'bool',
          datatype_description: 'string',
          order: 'number',
          description: 'string',
          values: 'string',
        },
        [],
        `attribute[${i}]`,
      );
      return {
        ...base,
        values: values.map((v, j) => strictFields(v, { key: 'id', name: 'string' }, [], `attribute[${i}].value[${j}]`)),
      };
    });
    const sc = strictFields(
      { ...doc, attributes: '' },
      { service_code: 'id', attributes: 'string' },
      [],
      'service_definition',
    );
    value = { service_code: sc.service_code, attributes };
  } else {
    const spec = XML_LISTS[kind];
    if (!spec) throw new Error(`no XML shape for ${kind}`);
    const doc = parseDocument(body, spec.root);
    const rootNode = doc[spec.root];
    const items = rootNode === '' ? [] : ((rootNode as Record<string, unknown[]>)[spec.item] ?? []);
    if (rootNode !== '' && Object.keys(rootNode as object).some((k) => k !== spec.item)) {
      throw new Error(`XML: <${spec.root}> may only contain <${spec.item}>`);
    }
    value = items.map((it, i) => strictFields(it, spec.fields, spec.optional ?? [], `${spec.item}[${i}]`));
  }
  const r = JSON_SHAPES[kind].safeParse(value);
  if (!r.success) throw new Error(`XML ${kind} shape: ${JSON.stringify(r.error.issues.slice(0, 3))}`);
  return value;
}

/** Checks an answer in whichever format its content type says. */
export function checkShape(kind: ShapeKind, res: { headers?: Record<string, unknown>; body?: string }): Answer {
  const type = String(res.headers?.['content-type'] ?? '');
  const body = res.body ?? '';
  if (type.startsWith('text/xml')) return checkXml(kind, body);
  if (type.startsWith('application/json')) return checkJson(kind, body);
  throw new Error(`unexpected content type ${type}`);
}
