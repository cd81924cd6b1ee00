/**
 * Checks `attribute[CODE]` answers against a service definition: required answers present, one value unless the
 * datatype is a multivaluelist, list keys among the defined values, numbers and date-times well formed.
 * Codes the definition does not know are ignored (clients such as FixMyStreet send their own extras); they stay in
 * the raw record.
 */
import type { AttributeDefinition } from './config.ts';
import { formatW3c, parseW3cDateTime } from './datetime.ts';
import type { Open311Problem } from './errors.ts';

export const ATTRIBUTE_TEXT_LIMITS = { string: 500, text: 2000 } as const;

export interface AttributeAnswer {
  code: string;
  /** The definition's question, e.g. 路灯杆编号. */
  label: string;
  /** Keys (lists) or values as sent, normalized. */
  values: string[];
  /** What a person reads: list names instead of keys, date-times in +08:00. */
  display: string[];
}

export interface AttributeCheck {
  answers: AttributeAnswer[];
  problems: Open311Problem[];
  ignored: string[];
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function checkAttributes(
  defs: readonly AttributeDefinition[],
  given: ReadonlyMap<string, string[]>,
): AttributeCheck {
  const answers: AttributeAnswer[] = [];
  const problems: Open311Problem[] = [];
  const known = new Set(defs.map((d) => d.code));
  const ignored = [...given.keys()].filter((c) => !known.has(c));
  for (const def of defs) {
    if (!def.variable) continue;
    const values = (given.get(def.code) ?? []).map((v) => v.trim()).filter((v) => v !== '');
    if (values.length === 0) {
      if (def.required) {
        problems.push({
          code: 'MISSING_ATTRIBUTE',
          description: `attribute ${def.code} (${def.description}) is required`,
        });
      }
      continue;
    }
    const invalid = (why: string) =>
      problems.push({ code: 'INVALID_ATTRIBUTE', description: `attribute ${def.code}: ${why}` });
    if (def.datatype !== 'multivaluelist' && values.length > 1) {
      invalid('expects a single value');
      continue;
    }
    const value = values[0] ?? '';
    switch (def.datatype) {
      case 'string':
      case 'text': {
        const max = ATTRIBUTE_TEXT_LIMITS[def.datatype];
        if ([...value].length > max) invalid(`longer than ${max} characters`);
        else answers.push({ code: def.code, label: def.description, values: [value], display: [value] });
        break;
      }
      case 'number': {
        const n = Number(value);
        if (!NUMBER.test(value) || !Number.isFinite(n)) invalid('is not a number');
        else answers.push({ code: def.code, label: def.description, values: [String(n)], display: [String(n)] });
        break;
      }
      case 'datetime': {
        const t = parseW3cDateTime(value);
        if (!t) invalid('is not a W3C date-time');
        else
          answers.push({
            code: def.code,
            label: def.description,
            values: [formatW3c(t.ms)],
            display: [formatW3c(t.ms)],
          });
        break;
      }
      case 'singlevaluelist':
      case 'multivaluelist': {
        const byKey = new Map((def.values ?? []).map((v) => [v.key, v.name]));
        const keys = [...new Set(values)];
        const unknown = keys.filter((k) => !byKey.has(k));
        if (unknown.length > 0) invalid(`unknown value ${unknown.slice(0, 3).join(', ').slice(0, 100)}`);
        else
          answers.push({
            code: def.code,
            label: def.description,
            values: keys,
            display: keys.map((k) => byKey.get(k) ?? k),
          });
        break;
      }
    }
  }
  return { answers, problems, ignored };
}
