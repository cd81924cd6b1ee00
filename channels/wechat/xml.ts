/**
 * Safe XML for WeChat callbacks: the body is attacker-controlled until its signature is checked (and in plain mode
 * the signature does not even cover the body), so the parser gets nothing it could expand or fetch.
 *
 * - Any markup declaration (`<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT` ...) is refused before parsing: no XXE, no
 *   billion-laughs. Only CDATA sections and comments may start with `<!`.
 * - fast-xml-parser runs with entity processing off; the five predefined entities and numeric character references
 *   are decoded here (no expansion possible: output is never longer than input). Unknown entities are malformed.
 * - Values stay strings (MsgId is a 64-bit number: parsing it as a JS number would corrupt it).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CityLoopError } from '#core/errors.ts';

/** WeChat pushes are a few kB; 64 KiB leaves room for long texts in safe mode (base64 grows by 4/3). */
export const DEFAULT_MAX_XML_BYTES = 64 * 1024;
const MAX_DEPTH = 16;

export type XmlValue = string | XmlFields | XmlValue[];
export interface XmlFields {
  [name: string]: XmlValue;
}

export interface ParseXmlOptions {
  /** Size limit in UTF-8 bytes (BODY_TOO_LARGE, 413, beyond it). */
  maxBytes?: number;
  /** Expected root element; WeChat always uses `xml`. */
  root?: string;
}

const parser = new XMLParser({
  preserveOrder: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreAttributes: true,
  trimValues: false,
  cdataPropName: '#cdata',
  commentPropName: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_DEPTH,
});

function malformed(message: string): CityLoopError {
  return new CityLoopError('MALFORMED_XML', message, 400);
}

/** Throws BODY_TOO_LARGE when `text` exceeds `maxBytes` UTF-8 bytes. */
export function assertSize(text: string, maxBytes: number): void {
  // UTF-8 never takes fewer bytes than UTF-16 code units: the cheap length test rejects most oversized bodies.
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new CityLoopError('BODY_TOO_LARGE', `body exceeds ${maxBytes} bytes`, 413);
  }
}

/** Refuses any `<!` markup other than CDATA sections and comments, wherever it appears. */
export function assertNoDeclarations(xml: string): void {
  let pos = 0;
  for (;;) {
    const i = xml.indexOf('<!', pos);
    if (i < 0) return;
    if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i + 9);
      if (end < 0) throw malformed('unterminated CDATA section');
      pos = end + 3;
    } else if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0) throw malformed('unterminated comment');
      pos = end + 3;
    } else {
      throw new CityLoopError('XML_DOCTYPE_FORBIDDEN', 'DOCTYPE and entity declarations are not accepted', 400);
    }
  }
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Decodes the predefined entities and character references of a text node; anything else is malformed. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&([^;&\s]{0,10});?/g, (whole, name: string) => {
    if (!whole.endsWith(';')) throw malformed('bare & in text');
    const predefined = PREDEFINED[name];
    if (predefined !== undefined && Object.hasOwn(PREDEFINED, name)) return predefined;
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (!m) throw malformed(`unknown entity &${name};`);
    const cp = m[1] !== undefined ? Number.parseInt(m[1], 16) : Number.parseInt(m[2] ?? '', 10);
    if (!isXmlChar(cp)) throw malformed('character reference outside the XML character range');
    return String.fromCodePoint(cp);
  });
}

type OrderedNode = Record<string, unknown>;

function cdataText(value: unknown): string {
  if (!Array.isArray(value)) return '';
  let out = '';
  for (const part of value as OrderedNode[]) {
    const t = part['#text'];
    if (t !== undefined) out += String(t);
  }
  return out;
}

function addField(fields: XmlFields, name: string, value: XmlValue): void {
  if (name === '__proto__') {
    throw malformed(`element name ${name} is not accepted`);
  }
  if (!Object.hasOwn(fields, name)) {
    fields[name] = value;
    return;
  }
  const prev = fields[name];
  if (Array.isArray(prev)) prev.push(value);
  else if (prev !== undefined) fields[name] = [prev, value];
}

/** Leaf elements become their text (CDATA verbatim, text entity-decoded); elements with children become fields. */
function convert(children: unknown, depth: number): XmlValue {
  if (depth > MAX_DEPTH) throw malformed('XML nested too deeply');
  if (!Array.isArray(children)) return '';
  let text = '';
  let fields: XmlFields | undefined;
  for (const node of children as OrderedNode[]) {
    for (const key of Object.keys(node)) {
      if (key === ':@') continue;
      const value = node[key];
      if (key === '#text') text += decodeEntities(String(value));
      else if (key === '#cdata') text += cdataText(value);
      else {
        fields ??= {};
        addField(fields, key, convert(value, depth + 1));
      }
    }
  }
  return fields ?? text;
}

/**
 * Parses a WeChat XML document and returns the fields of its root element.
 * Throws (all 4xx): BODY_TOO_LARGE, XML_DOCTYPE_FORBIDDEN, MALFORMED_XML.
 */
export function parseXml(xml: string, options: ParseXmlOptions = {}): XmlFields {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  const root = options.root ?? 'xml';
  assertSize(xml, maxBytes);
  assertNoDeclarations(xml);
  const body = xml.replace(/^\uFEFF/, '').trim();
  if (body.length === 0) throw malformed('empty body');
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw malformed(`not well-formed XML: ${valid.err.msg}`);
  let doc: unknown;
  try {
    doc = parser.parse(body);
  } catch (e) {
    throw malformed(`not well-formed XML: ${e instanceof Error ? e.message : 'parse error'}`);
  }
  if (!Array.isArray(doc)) throw malformed('no root element');
  const elements = (doc as OrderedNode[]).filter((n) => Object.keys(n).some((k) => !k.startsWith('#') && k !== ':@'));
  const first = elements[0];
  if (elements.length !== 1 || first === undefined) throw malformed('expected exactly one root element');
  const name = Object.keys(first).find((k) => k !== ':@');
  if (name !== root) throw malformed(`root element must be <${root}>`);
  const content = convert(first[name], 1);
  if (typeof content === 'string') {
    if (content.trim().length > 0) throw malformed(`<${root}> must contain elements`);
    return {};
  }
  if (Array.isArray(content)) throw malformed(`<${root}> must contain elements`);
  return content;
}

/** The text of a leaf field, or undefined when absent, repeated or not a leaf. */
export function textField(fields: XmlFields, name: string): string | undefined {
  if (!Object.hasOwn(fields, name)) return undefined;
  const v = fields[name];
  return typeof v === 'string' ? v : undefined;
}

// Characters XML 1.0 cannot carry at all, even in CDATA.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to match control characters.
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Wraps text in CDATA; a `]]>` inside is split across two sections so it cannot close the first early. */
export function cdata(text: string): string {
  return `<![CDATA[${text.replace(NOT_XML, '').replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Builds a flat WeChat XML document, one element per line as WeChat's own samples do.
 * Strings go into CDATA; numbers (integers) are written bare, as WeChat writes CreateTime.
 */
export function buildXml(fields: ReadonlyArray<readonly [string, string | number]>, root = 'xml'): string {
  if (!NAME.test(root)) throw new TypeError(`invalid element name ${root}`);
  const lines = [`<${root}>`];
  for (const [name, value] of fields) {
    if (!NAME.test(name)) throw new TypeError(`invalid element name ${name}`);
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new TypeError(`${name} must be an integer`);
      lines.push(`<${name}>${value}</${name}>`);
    } else {
      lines.push(`<${name}>${cdata(value)}</${name}>`);
    }
  }
  lines.push(`</${root}>`);
  return lines.join('\n');
}
