/**
 * The CityLoop stack is a parent template and nested templates (the departments, `infra/departments-stack.ts`). For
 * assertions that do not care where a resource lives, `flatten` merges them into one view, as the single template
 * was before: a nested template's parameters are replaced by what the parent passes them, and a parent's reference to
 * a nested output by that output's value. So `{ Ref: <bus> }` or `Fn::GetAtt <queue>.Arn` read the same wherever the
 * resource is.
 */
import { NestedStack, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

type Json = Record<string, unknown>;
export interface Resource {
  Type: string;
  Properties?: Json;
  DeletionPolicy?: string;
}

export interface StackTemplate {
  stack: Stack;
  /** The parent's logical id of the nested stack resource (undefined for the parent itself). */
  resourceId?: string;
  json: { Resources: Record<string, Resource>; Outputs?: Record<string, { Value: unknown }>; Parameters?: Json };
}

export interface Flat {
  /** The parent first, then each nested stack in construct order. */
  templates: StackTemplate[];
  resources: Record<string, Resource>;
  outputs: Record<string, { Value: unknown }>;
}

/** The nested stacks under `parent`, in construct order. */
export function nestedStacks(parent: Stack): NestedStack[] {
  return parent.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack);
}

/** The templates of `parent` and its nested stacks (the app is synthesized once, by the first `fromStack`). */
export function templatesOf(parent: Stack): StackTemplate[] {
  const top: StackTemplate = { stack: parent, json: Template.fromStack(parent).toJSON() as StackTemplate['json'] };
  return [
    top,
    ...nestedStacks(parent).map((n) => ({
      stack: n,
      resourceId: parent.resolve(n.nestedStackResource?.logicalId) as string,
      json: Template.fromStack(n).toJSON() as StackTemplate['json'],
    })),
  ];
}

function substitute(value: unknown, replace: (v: Json) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => substitute(v, replace));
  if (value === null || typeof value !== 'object') return value;
  const replaced = replace(value as Json);
  if (replaced !== undefined) return replaced;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, replace)]));
}

/** One view of the parent and nested templates; logical ids must not collide across them. */
export function flatten(templates: StackTemplate[]): Flat {
  const [parent, ...nested] = templates;
  if (!parent) throw new Error('no template');
  const parameters = new Map<string, Json>();
  const nestedOut = new Map<string, Record<string, { Value: unknown }>>();
  for (const t of nested) {
    const id = t.resourceId ?? '';
    parameters.set(id, (parent.json.Resources[id]?.Properties?.Parameters ?? {}) as Json);
    nestedOut.set(id, t.json.Outputs ?? {});
  }
  const resources: Record<string, Resource> = {};
  const outputs: Record<string, { Value: unknown }> = {};
  const add = <T>(into: Record<string, T>, key: string, value: T): void => {
    if (key in into) throw new Error(`logical id ${key} in more than one template`);
    into[key] = value;
  };
  const fromNested = (id: string) => (v: Json) => {
    const ref = v.Ref;
    const params = parameters.get(id) ?? {};
    return typeof ref === 'string' && ref in params ? params[ref] : undefined;
  };
  const fromParent = (v: Json) => {
    const att = v['Fn::GetAtt'];
    if (!Array.isArray(att) || typeof att[1] !== 'string' || !att[1].startsWith('Outputs.')) return undefined;
    const out = nestedOut.get(att[0] as string)?.[att[1].slice('Outputs.'.length)];
    return out ? substitute(out.Value, fromNested(att[0] as string)) : undefined;
  };
  for (const [k, r] of Object.entries(parent.json.Resources)) add(resources, k, substitute(r, fromParent) as Resource);
  for (const [k, o] of Object.entries(parent.json.Outputs ?? {}))
    add(outputs, k, substitute(o, fromParent) as { Value: unknown });
  for (const t of nested) {
    const id = t.resourceId ?? '';
    for (const [k, r] of Object.entries(t.json.Resources)) add(resources, k, substitute(r, fromNested(id)) as Resource);
    for (const [k, o] of Object.entries(t.json.Outputs ?? {}))
      add(outputs, k, substitute(o, fromNested(id)) as { Value: unknown });
  }
  return { templates, resources, outputs };
}
