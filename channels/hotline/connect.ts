/**
 * Amazon Connect contact flow events (the "Invoke AWS Lambda function" block): parse and validate the event into the
 * facts of one call, and build the flat string map the flow gets back. Pure: no AWS imports, never throws.
 * Event shape: https://docs.aws.amazon.com/connect/latest/adminguide/connect-lambda-functions.html
 * (samples: ../shared/data/aws-events/connectContactFlowEvent{All,Min}.json).
 *
 * The caller's number comes from telephony (`Details.ContactData.CustomerEndpoint.Address`, E.164), never from
 * typing. A withheld number (Connect passes `anonymous`, or a keypad spelling such as `+266696687`) or a chat contact
 * simply has no caller number; the call is still recorded.
 */
import { toE164 } from '#core/intake/phone.ts';

/** Connect contact ids are UUIDs; we accept any short id of letters, digits and dashes (it becomes a table key). */
export const CONTACT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

export const CONNECT_LIMITS = {
  /** Contact attributes and block parameters kept per call (Connect allows 32 KB of attributes in all). */
  maxAttributes: 64,
  maxKeyLength: 128,
  maxValueLength: 1024,
  maxTextField: 256,
} as const;

export type CallerStatus = 'present' | 'withheld' | 'invalid' | 'none';

/** What one contact flow invocation tells us about a call. */
export interface ConnectCall {
  contactId: string;
  initialContactId?: string;
  previousContactId?: string;
  /** VOICE, CHAT, TASK ... */
  channel: string;
  initiationMethod?: string;
  /** E.164, only when telephony gave a usable number. */
  callerPhone?: string;
  callerStatus: CallerStatus;
  /** The number the citizen dialled (our hotline), as given. */
  dialled?: string;
  queue?: { name?: string; arn?: string };
  instanceArn?: string;
  /** User-defined contact attributes (IVR choices, language ...), strings only. */
  attributes: Record<string, string>;
  /** The Lambda block's own parameters. */
  parameters: Record<string, string>;
  /** Attributes or parameters left out (not strings, too long, too many). */
  dropped: number;
}

export type ConnectErrorCode =
  | 'NOT_AN_OBJECT'
  | 'NOT_A_CONTACT_FLOW_EVENT'
  | 'MISSING_CONTACT_DATA'
  | 'MISSING_CONTACT_ID'
  | 'INVALID_CONTACT_ID';

export type ConnectParse = { ok: true; call: ConnectCall } | { ok: false; code: ConnectErrorCode; message: string };

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own enumerable property, read defensively (a hostile object may have throwing getters). */
function prop(o: Obj, key: string): unknown {
  try {
    return Object.hasOwn(o, key) ? o[key] : undefined;
  } catch {
    return undefined;
  }
}

function text(v: unknown, max: number = CONNECT_LIMITS.maxTextField): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  return s === '' || s.length > max ? undefined : s;
}

function contactIdOf(v: unknown): string | undefined {
  return typeof v === 'string' && CONTACT_ID_PATTERN.test(v) ? v : undefined;
}

/** A flat string map, bounded; returns how many entries were left out. */
function stringMap(v: unknown): { map: Record<string, string>; dropped: number } {
  const map: Record<string, string> = {};
  if (!isObj(v)) return { map, dropped: 0 };
  let dropped = 0;
  let kept = 0;
  let keys: string[];
  try {
    keys = Object.keys(v);
  } catch {
    return { map, dropped: 0 };
  }
  for (const k of keys) {
    const value = prop(v, k);
    if (
      kept >= CONNECT_LIMITS.maxAttributes ||
      FORBIDDEN_KEYS.has(k) ||
      k.length === 0 ||
      k.length > CONNECT_LIMITS.maxKeyLength ||
      typeof value !== 'string' ||
      value.length > CONNECT_LIMITS.maxValueLength
    ) {
      dropped++;
      continue;
    }
    map[k] = value;
    kept++;
  }
  return { map, dropped };
}

const WITHHELD_WORDS = ['anonymous', 'restricted', 'unavailable', 'unknown', 'private', 'withheld'];
const WITHHELD = new RegExp(`^(${WITHHELD_WORDS.join('|')})$`, 'i');
const KEYPAD = 'abc2def3ghi4jkl5mno6pqrs7tuv8wxyz9'
  .split(/(?<=\d)/)
  .flatMap((g) => [...g.slice(0, -1)].map((ch) => [ch, g.slice(-1)] as const));
const keypad = new Map(KEYPAD);
/** The same words spelt on a phone keypad, as some networks pass them (`+266696687` is ANONYMOUS). */
const WITHHELD_KEYPAD = new Set(WITHHELD_WORDS.map((w) => [...w].map((ch) => keypad.get(ch)).join('')));

/**
 * The caller's number as E.164, or why there is none. Connect sends E.164 already; we still parse it (with CN as the
 * default region for a number without `+`) and refuse what is not a possible number.
 */
export function callerOf(endpoint: unknown): { phone?: string; status: CallerStatus } {
  if (!isObj(endpoint)) return { status: 'none' };
  const type = prop(endpoint, 'Type');
  const address = prop(endpoint, 'Address');
  if (type !== undefined && type !== null && type !== 'TELEPHONE_NUMBER') return { status: 'none' };
  if (typeof address !== 'string' || address.trim() === '') return { status: 'none' };
  const raw = address.trim();
  if (WITHHELD.test(raw)) return { status: 'withheld' };
  if (raw.length > 32 || !/^\+?[\d\s\-()]+$/.test(raw)) return { status: 'invalid' };
  const compact = raw.replace(/[\s\-()]/g, '');
  if (WITHHELD_KEYPAD.has(compact.replace(/^\+/, ''))) return { status: 'withheld' };
  const phone = toE164(compact);
  if (phone === undefined) {
    // Keypad spellings of "ANONYMOUS" and short service numbers are not a callable number.
    return { status: 'withheld' };
  }
  return { phone, status: 'present' };
}

/** Parses a contact flow event. Never throws; a malformed event is a coded refusal. */
export function parseConnectEvent(event: unknown): ConnectParse {
  try {
    return parse(event);
  } catch {
    // Unreachable by design (the fuzz test feeds it arbitrary values); a bug must still not crash the flow.
    return { ok: false, code: 'NOT_AN_OBJECT', message: 'the event could not be read' };
  }
}

function parse(event: unknown): ConnectParse {
  if (!isObj(event)) return { ok: false, code: 'NOT_AN_OBJECT', message: 'the event is not a JSON object' };
  const name = prop(event, 'Name');
  if (name !== undefined && name !== 'ContactFlowEvent') {
    return { ok: false, code: 'NOT_A_CONTACT_FLOW_EVENT', message: 'Name is not ContactFlowEvent' };
  }
  const details = prop(event, 'Details');
  const data = isObj(details) ? prop(details, 'ContactData') : undefined;
  if (!isObj(data)) {
    return { ok: false, code: 'MISSING_CONTACT_DATA', message: 'Details.ContactData is missing' };
  }
  const rawId = prop(data, 'ContactId');
  if (rawId === undefined || rawId === null || rawId === '') {
    return { ok: false, code: 'MISSING_CONTACT_ID', message: 'Details.ContactData.ContactId is missing' };
  }
  const contactId = contactIdOf(rawId);
  if (!contactId) {
    return { ok: false, code: 'INVALID_CONTACT_ID', message: 'ContactId must be 1-128 letters, digits or dashes' };
  }
  const caller = callerOf(prop(data, 'CustomerEndpoint'));
  const system = prop(data, 'SystemEndpoint');
  const queue = prop(data, 'Queue');
  const attributes = stringMap(prop(data, 'Attributes'));
  const parameters = stringMap(isObj(details) ? prop(details, 'Parameters') : undefined);
  const queueName = isObj(queue) ? text(prop(queue, 'Name')) : undefined;
  const queueArn = isObj(queue) ? text(prop(queue, 'ARN'), 512) : undefined;
  const call: ConnectCall = {
    contactId,
    channel: text(prop(data, 'Channel'), 32) ?? 'VOICE',
    callerStatus: caller.status,
    attributes: attributes.map,
    parameters: parameters.map,
    dropped: attributes.dropped + parameters.dropped,
  };
  const initial = contactIdOf(prop(data, 'InitialContactId'));
  const previous = contactIdOf(prop(data, 'PreviousContactId'));
  if (initial && initial !== contactId) call.initialContactId = initial;
  if (previous && previous !== contactId) call.previousContactId = previous;
  const method = text(prop(data, 'InitiationMethod'), 32);
  if (method) call.initiationMethod = method;
  if (caller.phone) call.callerPhone = caller.phone;
  const dialled = isObj(system) ? text(prop(system, 'Address'), 32) : undefined;
  if (dialled) call.dialled = dialled;
  if (queueName || queueArn)
    call.queue = { ...(queueName ? { name: queueName } : {}), ...(queueArn ? { arn: queueArn } : {}) };
  const instance = text(prop(data, 'InstanceARN'), 512);
  if (instance) call.instanceArn = instance;
  return { ok: true, call };
}

/**
 * What the flow gets back. Connect wants a flat map of strings (STRING_MAP response validation); values are kept to
 * letters, digits, `_` and `-`, which every flow block can compare and play.
 */
export type FlowAttributes = Record<string, string>;

export interface FlowFacts {
  contactId: string;
  callerStatus: CallerStatus;
  /** Reports this number filed before (any state). */
  knownReports: number;
  openCases: number;
  /** The newest open case's tracking number, for the IVR to read out. */
  latestOpenTrackingNo?: string;
}

const SAFE_VALUE = /^[A-Za-z0-9_-]{0,256}$/;

function safe(v: string): string {
  return SAFE_VALUE.test(v) ? v : v.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 256);
}

export function flowAttributes(f: FlowFacts): FlowAttributes {
  const out: FlowAttributes = {
    callRecord: 'saved',
    contactId: safe(f.contactId),
    callerNumber: f.callerStatus,
    callerKnown: String(f.knownReports > 0),
    openCases: String(Math.max(0, Math.trunc(f.openCases))),
  };
  if (f.latestOpenTrackingNo) out.latestOpenTrackingNo = safe(f.latestOpenTrackingNo);
  return out;
}

/** The answer for an event we could not use: the flow carries on (to an agent) with the reason in `error`. */
export function flowError(code: string): FlowAttributes {
  return { callRecord: 'failed', error: safe(code) };
}
