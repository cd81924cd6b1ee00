/**
 * What a rule target receives: the whole event, a constant `Input`, the part selected by `InputPath`, or an
 * `InputTransformer` template filled from `InputPathsMap`.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 */
import type { EventEnvelope } from './envelope.ts';
import { validation } from './errors.ts';

export interface InputTransformer {
  InputPathsMap?: Record<string, string>;
  InputTemplate: string;
}

export interface TargetInput {
  Input?: string;
  InputPath?: string;
  InputTransformer?: InputTransformer;
}

type Segment = string | number;

/**
 * The JSONPath subset EventBridge targets use: `$`, `.name`, `['name']`, `[index]`.
 * Returns undefined for anything else (wildcards, filters, recursive descent).
 */
export function parseJsonPath(path: string): Segment[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const out: Segment[] = [];
  let i = 1;
  while (i < path.length) {
    const ch = path[i];
    if (ch === '.') {
      let j = i + 1;
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
      const name = path.slice(i + 1, j);
      if (name === '' || name === '*') return undefined;
      out.push(name);
      i = j;
    } else if (ch === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) return undefined;
      const inner = path.slice(i + 1, close);
      const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(inner);
      if (quoted) out.push((quoted[1] ?? quoted[2]) as string);
      else if (/^\d+$/.test(inner)) out.push(Number(inner));
      else return undefined;
      i = close + 1;
    } else {
      return undefined;
    }
  }
  return out;
}

export function selectPath(value: unknown, segments: readonly Segment[]): unknown {
  let cur: unknown = value;
  for (const seg of segments) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[seg];
    } else {
      if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

const PLACEHOLDER_NAME = /^[A-Za-z0-9_-]+$/;
const MAX_PATHS = 100;

/** PutTargets-time checks: AWS refuses these with ValidationException. */
export function validateTargetInput(t: TargetInput, targetId: string): void {
  const given = [t.Input, t.InputPath, t.InputTransformer].filter((x) => x !== undefined && x !== null).length;
  if (given > 1) {
    throw validation(`Only one of Input, InputPath, or InputTransformer must be provided for target ${targetId}.`);
  }
  if (t.Input !== undefined && t.Input !== null) {
    try {
      JSON.parse(t.Input);
    } catch {
      throw validation(`Parameter Input is not valid for target ${targetId}: it must be valid JSON.`);
    }
  }
  if (t.InputPath !== undefined && t.InputPath !== null && !parseJsonPath(t.InputPath)) {
    throw validation(`Parameter InputPath is not valid for target ${targetId}.`);
  }
  if (t.InputTransformer !== undefined && t.InputTransformer !== null) {
    const { InputPathsMap = {}, InputTemplate } = t.InputTransformer;
    if (typeof InputTemplate !== 'string') throw validation('InputTransformer.InputTemplate is required.');
    const entries = Object.entries(InputPathsMap);
    if (entries.length > MAX_PATHS) throw validation(`InputPathsMap has more than ${MAX_PATHS} entries.`);
    for (const [name, path] of entries) {
      if (!PLACEHOLDER_NAME.test(name) || name.startsWith('aws.')) {
        throw validation(`InputPathsMap key ${name} is not valid.`);
      }
      if (typeof path !== 'string' || !parseJsonPath(path)) {
        throw validation(`InputPathsMap value ${String(path)} for ${name} is not a valid JSON path.`);
      }
    }
  }
}

export interface RuleRef {
  name: string;
  arn: string;
}

/** The body a target gets for this event. */
export function renderTargetInput(t: TargetInput, event: EventEnvelope, rule: RuleRef, ingestedAt: Date): string {
  if (t.Input !== undefined && t.Input !== null) return t.Input;
  if (t.InputPath !== undefined && t.InputPath !== null) {
    const selected = selectPath(event, parseJsonPath(t.InputPath) ?? []);
    return JSON.stringify(selected ?? null);
  }
  if (t.InputTransformer !== undefined && t.InputTransformer !== null) {
    return fillTemplate(t.InputTransformer, event, rule, ingestedAt);
  }
  return JSON.stringify(event);
}

/**
 * Replaces `<name>` placeholders. Inside a JSON string a value is inserted as escaped text; outside one it is
 * inserted as JSON (strings quoted), so `{"state": <state>}` stays valid JSON. Unknown placeholders stay as
 * written; a path that selects nothing gives `null` (or nothing inside quotes).
 */
export function fillTemplate(tf: InputTransformer, event: EventEnvelope, rule: RuleRef, ingestedAt: Date): string {
  const values = new Map<string, unknown>();
  for (const [name, path] of Object.entries(tf.InputPathsMap ?? {})) {
    values.set(name, selectPath(event, parseJsonPath(path) ?? []));
  }
  values.set('aws.events.rule-arn', rule.arn);
  values.set('aws.events.rule-name', rule.name);
  values.set('aws.events.event.ingestion-time', ingestedAt.toISOString());
  values.set('aws.events.event', event);
  values.set('aws.events.event.json', event);

  const template = tf.InputTemplate;
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (ch === '\\' && inString) {
      out += ch + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') {
      inString = !inString;
      out += ch;
      continue;
    }
    if (ch === '<') {
      const close = template.indexOf('>', i + 1);
      const name = close > i ? template.slice(i + 1, close) : '';
      if (close > i && values.has(name)) {
        const v = values.get(name);
        if (inString)
          out += v === undefined ? '' : JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v)).slice(1, -1);
        else out += JSON.stringify(v ?? null);
        i = close;
        continue;
      }
    }
    out += ch;
  }
  return out;
}
