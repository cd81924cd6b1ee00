/**
 * Open311 answers in both formats the spec names: XML (required) and JSON. XML is built with fast-xml-parser's
 * XMLBuilder with entity escaping on (& < > " ' in every value), no DOCTYPE, and characters XML 1.0 cannot carry
 * removed first; element names are only ours, never taken from input. Lists are the spec's plural roots
 * (`<services><service>`), JSON lists are bare arrays, and absent values are empty elements / `null`, so every
 * answer has the spec's complete shape.
 * http://wiki.open311.org/GeoReport_v2/
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { AttributeDefinition } from './config.ts';
import type { Open311ErrorEntry } from './errors.ts';
import type { Open311Service } from './services.ts';
import type { PublicRequest, RequestUpdate } from './view.ts';

export const FORMATS = ['xml', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export const CONTENT_TYPES: Record<Format, string> = {
  xml: 'text/xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

export interface Rendered {
  contentType: string;
  body: string;
}

type Scalar = string | number | boolean | null;
type Node = Scalar | Node[] | { [k: string]: Node };

const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to remove control characters.
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const builder = new XMLBuilder({
  format: false,
  processEntities: true,
  suppressEmptyNode: true,
  ignoreAttributes: true,
});

function xmlSafe(node: Node): Node {
  if (typeof node === 'string') return node.replace(NOT_XML, '');
  if (node === null || typeof node !== 'object') return node ?? '';
  if (Array.isArray(node)) return node.map(xmlSafe);
  const out: Record<string, Node> = {};
  for (const [k, v] of Object.entries(node)) out[k] = v === null ? '' : xmlSafe(v);
  return out;
}

function xml(root: string, content: Node): Rendered {
  const body = builder.build({ [root]: xmlSafe(content) }) as string;
  return { contentType: CONTENT_TYPES.xml, body: `<?xml version="1.0" encoding="utf-8"?>\n${body}` };
}

function json(value: unknown): Rendered {
  return { contentType: CONTENT_TYPES.json, body: JSON.stringify(value) };
}

/** An XML list: `<root><item/>...</root>`; an empty list is an empty root. */
function xmlList(root: string, item: string, items: Node[]): Rendered {
  return xml(root, items.length > 0 ? { [item]: items } : '');
}

export interface Discovery {
  changeset: string;
  contact: string;
  key_service: string;
  endpoints: { specification: string; url: string; changeset: string; type: string; formats: string[] }[];
}

export function renderDiscovery(d: Discovery, fmt: Format): Rendered {
  if (fmt === 'json') return json(d);
  return xml('discovery', {
    changeset: d.changeset,
    contact: d.contact,
    key_service: d.key_service,
    endpoints: {
      endpoint: d.endpoints.map((e) => ({
        specification: e.specification,
        url: e.url,
        changeset: e.changeset,
        type: e.type,
        formats: { format: e.formats },
      })),
    },
  });
}

export function renderServices(services: Open311Service[], fmt: Format): Rendered {
  const items = services.map((s) => ({
    service_code: s.service_code,
    service_name: s.service_name,
    description: s.description,
    metadata: s.metadata,
    type: s.type,
    keywords: s.keywords,
    group: s.group,
  }));
  return fmt === 'json' ? json(items) : xmlList('services', 'service', items);
}

export function renderServiceDefinition(serviceCode: string, attributes: AttributeDefinition[], fmt: Format): Rendered {
  const attrs = attributes.map((a, i) => ({
    variable: a.variable,
    code: a.code,
    datatype: a.datatype,
    required: a.required,
    datatype_description: a.datatype_description ?? null,
    order: a.order ?? i + 1,
    description: a.description,
    values: (a.values ?? []).map((v) => ({ key: v.key, name: v.name })),
  }));
  if (fmt === 'json') return json({ service_code: serviceCode, attributes: attrs });
  return xml('service_definition', {
    service_code: serviceCode,
    attributes: attrs.length
      ? {
          attribute: attrs.map((a) => ({ ...a, values: a.values.length ? { value: a.values } : '' })),
        }
      : '',
  });
}

export interface PostedRequest {
  service_request_id: string;
  token: string;
  service_notice: string;
  account_id?: string;
}

export function renderPosted(posted: PostedRequest[], fmt: Format): Rendered {
  const items = posted.map((p) => ({
    service_request_id: p.service_request_id,
    token: p.token,
    service_notice: p.service_notice,
    account_id: p.account_id ?? null,
  }));
  return fmt === 'json' ? json(items) : xmlList('service_requests', 'request', items);
}

export function renderTokens(list: { service_request_id: string; token: string }[], fmt: Format): Rendered {
  const items = list.map((t) => ({ service_request_id: t.service_request_id, token: t.token }));
  return fmt === 'json' ? json(items) : xmlList('service_requests', 'request', items);
}

const REQUEST_FIELDS = [
  'service_request_id',
  'status',
  'status_notes',
  'service_name',
  'service_code',
  'description',
  'agency_responsible',
  'service_notice',
  'requested_datetime',
  'updated_datetime',
  'expected_datetime',
  'address',
  'address_id',
  'zipcode',
  'lat',
  'long',
  'media_url',
] as const satisfies readonly (keyof PublicRequest)[];

export function renderRequests(list: PublicRequest[], fmt: Format): Rendered {
  const items = list.map((r) => {
    const o: Record<string, Scalar> = {};
    for (const f of REQUEST_FIELDS) o[f] = r[f] ?? null;
    return o;
  });
  return fmt === 'json' ? json(items) : xmlList('service_requests', 'request', items);
}

const UPDATE_FIELDS = [
  'update_id',
  'service_request_id',
  'status',
  'updated_datetime',
  'description',
  'media_url',
  'external_status_code',
] as const satisfies readonly (keyof RequestUpdate)[];

export function renderUpdates(list: RequestUpdate[], fmt: Format): Rendered {
  const items = list.map((u) => {
    const o: Record<string, Scalar> = {};
    for (const f of UPDATE_FIELDS) o[f] = u[f] ?? null;
    return o;
  });
  return fmt === 'json' ? json(items) : xmlList('service_request_updates', 'request_update', items);
}

export function renderUpdatePosted(updateId: string, fmt: Format): Rendered {
  return fmt === 'json'
    ? json([{ update_id: updateId }])
    : xml('service_request_updates', { request_update: { update_id: updateId } });
}

export function renderErrors(errors: Open311ErrorEntry[], fmt: Format): Rendered {
  const items = errors.map((e) => ({ code: e.code, description: e.description }));
  return fmt === 'json' ? json(items) : xmlList('errors', 'error', items);
}
