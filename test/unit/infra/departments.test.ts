/**
 * A large city: the departments in nested stacks of `DEPARTMENTS_PER_STACK`, every template far from CloudFormation's
 * 500 resources and 200 outputs, and a department appended at the end moves no other department.
 */
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Department } from '#core/taxonomy/types.ts';
import { buildTopology, departmentQueueId, type FunctionSpec, queueEnvName } from '#core/topology.ts';
import { FEATURE_FLAGS } from '#infra/create-app.ts';
import {
  DEPARTMENTS_PER_STACK,
  departmentGroup,
  departmentsStackId,
  pascal,
  placeDepartments,
} from '#infra/departments-stack.ts';
import { CityLoopStack } from '#infra/stack.ts';
import { flatten, type Resource, type StackTemplate, templatesOf } from './templates.ts';

/** Skip esbuild (the functions are not what this is about), and CloudFormation's schema check. */
const FAST = { 'aws:cdk:bundling-stacks': [] as string[] };
const CENTRE: Department = { id: 'centre', name: '12345热线中心', kind: 'centre' };

/** `n` departments: functional bureaus, then streets (属地), in a fixed order. */
function generated(n: number): Department[] {
  return Array.from({ length: n }, (_, i) =>
    i % 3 === 2
      ? { id: `street-${i + 1}`, name: `第${i + 1}街道办事处`, kind: 'street', areas: [`第${i + 1}社区`] }
      : { id: `unit-${i + 1}`, name: `第${i + 1}职能单位`, kind: 'functional' },
  );
}

interface Synth {
  stack: CityLoopStack;
  templates: StackTemplate[];
  resources: Record<string, Resource>;
}

/** Department queues a function of the parent uses (none does in the shipped topology): through nested outputs. */
const SENDS_TO = departmentQueueId('unit-1');
const RECEIVES_FROM = departmentQueueId('street-99');

function synth(departments: Department[], nag: boolean): Synth {
  const app = new App({ context: { ...FEATURE_FLAGS, ...FAST }, builtinCloudFormationValidation: false });
  const all = [CENTRE, ...departments];
  const topology = buildTopology(all);
  const fixture: FunctionSpec = {
    id: 'dept-fixture',
    entry: 'test/unit/infra/fixtures/handler.ts',
    description: 'uses two department queues (test)',
    memoryMb: 256,
    timeoutSec: 5,
    table: 'none',
    putEvents: false,
    sendTo: [SENDS_TO],
    receiveFrom: [RECEIVES_FROM],
    blobs: 'none',
  };
  const stack = new CityLoopStack(app, 'CityLoopLarge', {
    topology: { ...topology, functions: [...topology.functions, fixture] },
    departments: all,
    web: false,
  });
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const templates = templatesOf(stack);
  return { stack, templates, resources: flatten(templates).resources };
}

const cfnOf = (c: { node: { defaultChild?: unknown } } | undefined): CfnElement => {
  if (!c) throw new Error('construct not found');
  return c.node.defaultChild as CfnElement;
};

/** Where a department's resources are: nested stack path, and logical ids in it. */
function placement(s: Synth, d: Department): Record<string, string> {
  const queue = cfnOf(s.stack.queue(departmentQueueId(d.id)));
  const dlq = cfnOf(s.stack.queue(`${departmentQueueId(d.id)}-dlq`));
  const role = cfnOf(s.stack.departmentRoles.get(d.id));
  const stackOf = Stack.of(queue);
  const ids = (prefix: string) =>
    Object.keys(s.templates.find((t) => t.stack === stackOf)?.json.Resources ?? {})
      .filter((k) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(k))
      .join(',');
  return {
    stack: stackOf.node.path,
    queue: stackOf.getLogicalId(queue),
    dlq: stackOf.getLogicalId(dlq),
    role: `${Stack.of(role).node.path} ${Stack.of(role).getLogicalId(role)}`,
    rule: ids(`RuleRoute${pascal(d.id)}`),
    alarm: ids(`Alarm${pascal(departmentQueueId(d.id))}Dlq`),
    group: ids(`StaffGroup${pascal(departmentGroup(d.id))}`),
  };
}

const DEPARTMENTS = 120;
let large: Synth;
let appended: Synth;
const departments = generated(DEPARTMENTS);

beforeAll(() => {
  large = synth(departments, true);
  appended = synth(generated(DEPARTMENTS + 1), false);
});

describe('Class: DepartmentsStack (a city of 120 departments)', () => {
  it('should keep every template, parent and nested, far from 500 resources, 200 outputs and 200 parameters', () => {
    // Prepare
    const chunks = Math.ceil(DEPARTMENTS / DEPARTMENTS_PER_STACK);

    // Act
    const sizes = large.templates.map((t) => ({
      path: t.stack.node.path,
      resources: Object.keys(t.json.Resources).length,
      outputs: Object.keys(t.json.Outputs ?? {}).length,
      parameters: Object.keys(t.json.Parameters ?? {}).length,
    }));

    // Assess
    expect(sizes.map((s) => s.path)).toEqual([
      'CityLoopLarge',
      ...Array.from({ length: chunks }, (_, i) => `CityLoopLarge/${departmentsStackId(i)}`),
    ]);
    for (const s of sizes) {
      expect(s.resources, s.path).toBeLessThan(400);
      expect(s.outputs, s.path).toBeLessThan(150);
      expect(s.parameters, s.path).toBeLessThan(50);
    }
  });

  it('should give every department its queue, DLQ, rule on its detail.department with the rule DLQ, and role', () => {
    // Prepare
    const topology = buildTopology([CENTRE, ...departments]);
    const ruleDlqArn = large.stack.resolve(large.stack.queue('rule-dlq').queueArn);
    const rules = Object.values(large.resources).filter((r) => r.Type === 'AWS::Events::Rule');

    for (const d of departments) {
      // Act
      const queue = cfnOf(large.stack.queue(departmentQueueId(d.id)));
      const dlq = cfnOf(large.stack.queue(`${departmentQueueId(d.id)}-dlq`));
      const queueArn = { 'Fn::GetAtt': [Stack.of(queue).getLogicalId(queue), 'Arn'] };
      const mine = rules.filter(
        (r) =>
          JSON.stringify((r.Properties?.EventPattern as { detail?: unknown })?.detail) ===
          JSON.stringify({ department: [d.id] }),
      );
      const role = cfnOf(large.stack.departmentRoles.get(d.id));

      // Assess
      expect(Stack.of(queue), d.id).not.toBe(large.stack);
      expect(Stack.of(dlq)).toBe(Stack.of(queue));
      expect(Stack.of(role)).toBe(Stack.of(queue));
      expect(large.resources[Stack.of(queue).getLogicalId(queue)]?.Properties?.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [Stack.of(dlq).getLogicalId(dlq), 'Arn'] },
        maxReceiveCount: 5,
      });
      expect(mine, d.id).toHaveLength(1);
      expect(mine[0]?.Properties?.EventPattern).toEqual(topology.rules.find((r) => r.id === `route-${d.id}`)?.pattern);
      expect(mine[0]?.Properties?.EventBusName).toEqual(large.stack.resolve(large.stack.bus.eventBusName));
      expect(mine[0]?.Properties?.Targets).toEqual([
        expect.objectContaining({ Arn: queueArn, DeadLetterConfig: { Arn: ruleDlqArn } }),
      ]);
      expect(large.resources[Stack.of(role).getLogicalId(role)]?.Type).toBe('AWS::IAM::Role');
    }
    expect(large.stack.departmentRoles.size).toBe(DEPARTMENTS);
  });

  it('should pass cdk-nag AwsSolutions in the parent and every nested stack', () => {
    // Act
    const nag = new AwsSolutionsChecks().validateScope(large.stack);

    // Assess
    expect(nag.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`)).toEqual([]);
    expect(large.templates.length).toBeGreaterThan(2);
  });

  it('should keep the rule DLQ’s policy at one EventBridge statement for all departments (SQS: ≤ 20 statements, 8 KB)', () => {
    // Prepare
    const dlq = cfnOf(large.stack.queue('rule-dlq'));
    const dlqRef = JSON.stringify([{ Ref: large.stack.getLogicalId(dlq) }]);

    // Act
    const policies = Object.values(large.resources).filter(
      (r) => r.Type === 'AWS::SQS::QueuePolicy' && JSON.stringify(r.Properties?.Queues) === dlqRef,
    );
    const document = policies[0]?.Properties?.PolicyDocument as { Statement: unknown[] } | undefined;

    // Assess
    expect(policies).toHaveLength(1);
    expect(document?.Statement).toHaveLength(2);
    expect(JSON.stringify(document).length).toBeLessThan(8192);
  });
});

describe('Class: CityLoopStack (a function using department queues)', () => {
  it('should pass the queue URLs and ARNs of nested stacks to the function through nested outputs', () => {
    // Prepare
    const fn = large.stack.functions.get('dept-fixture');
    const fnId = large.stack.getLogicalId(cfnOf(fn));
    const roleId = large.stack.getLogicalId(cfnOf(fn?.executionRole));
    const parent = large.templates[0]?.json;
    const queueOf = (id: string) => {
      const q = cfnOf(large.stack.queue(id));
      return { stack: Stack.of(q), id: Stack.of(q).getLogicalId(q) };
    };

    // Act
    const env = (r: Resource | undefined): Record<string, unknown> =>
      (r?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const raw = env(parent?.Resources[fnId]);
    const flat = env(large.resources[fnId]);
    const statements = Object.values(large.resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles) === `[{"Ref":"${roleId}"}]`)
      .flatMap(
        (r) =>
          (r.Properties?.PolicyDocument as { Statement?: { Action: string[]; Resource: unknown }[] } | undefined)
            ?.Statement ?? [],
      );

    // Assess
    for (const [queueId, action] of [
      [SENDS_TO, 'sqs:SendMessage'],
      [RECEIVES_FROM, 'sqs:ReceiveMessage'],
    ] as const) {
      const q = queueOf(queueId);
      const nested = large.templates.find((t) => t.stack === q.stack);
      expect(q.stack, queueId).not.toBe(large.stack);
      // In the parent: an attribute of the nested stack resource, an output of the nested template.
      expect(JSON.stringify(raw[queueEnvName(queueId)])).toContain(`"${nested?.resourceId}","Outputs.`);
      expect(flat[queueEnvName(queueId)]).toEqual({ Ref: q.id });
      const grant = statements.find((st) => [st.Action].flat().includes(action));
      expect(grant?.Resource, queueId).toEqual({ 'Fn::GetAtt': [q.id, 'Arn'] });
    }
  });
});

describe('Function: placeDepartments', () => {
  it('should leave every existing department in its nested stack, under its logical ids, when one is appended', () => {
    // Act
    const before = departments.map((d) => placement(large, d));
    const after = departments.map((d) => placement(appended, d));
    const added = placement(appended, { id: `unit-${DEPARTMENTS + 1}`, name: '', kind: 'functional' });

    // Assess
    expect(after).toEqual(before);
    for (const p of before) expect(Object.values(p).every((v) => v !== '')).toBe(true);
    expect(added.stack).toBe(`CityLoopLarge/${departmentsStackId(Math.floor(DEPARTMENTS / DEPARTMENTS_PER_STACK))}`);
    // The nested templates of the existing departments are unchanged: CloudFormation does not even update them.
    expect(appended.templates.slice(1, large.templates.length).map((t) => t.json)).toEqual(
      large.templates.slice(1).map((t) => t.json),
    );
  });

  it('should cut departments in chunks in their order, and an appended one joins the last chunk or a new one', () => {
    // Prepare
    const list = generated(2 * DEPARTMENTS_PER_STACK - 1);
    const chunkOf = (chunks: Department[][]) => new Map(chunks.flatMap((c, i) => c.map((d) => [d.id, i] as const)));

    // Act
    const before = chunkOf(placeDepartments(list));
    const joins = placeDepartments([...list, ...generated(2 * DEPARTMENTS_PER_STACK).slice(-1)]);
    const opens = placeDepartments(generated(2 * DEPARTMENTS_PER_STACK + 1));

    // Assess
    expect(placeDepartments(list).map((c) => c.length)).toEqual([DEPARTMENTS_PER_STACK, DEPARTMENTS_PER_STACK - 1]);
    for (const [id, i] of before) expect(chunkOf(joins).get(id), id).toBe(i);
    expect(joins.map((c) => c.length)).toEqual([DEPARTMENTS_PER_STACK, DEPARTMENTS_PER_STACK]);
    expect(opens.map((c) => c.length)).toEqual([DEPARTMENTS_PER_STACK, DEPARTMENTS_PER_STACK, 1]);
    expect(() => placeDepartments(list, 0)).toThrow(/≥ 1/);
  });
});
