/**
 * The EventBridge emulator's state and operations, one method per API action, taking and returning the
 * JSON bodies of the AWS JSON 1.1 protocol. Errors are `AwsError`s with AWS's types and wording.
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Operations.html
 */
import { isCityLoopError } from '#core/errors.ts';
import { compilePattern, type EventMatcher, prepareEvent } from '#core/eventbridge/pattern.ts';
import { ArchiveStore } from './archive.ts';
import type { DeliveryJob, Dispatcher } from './delivery.ts';
import {
  type EventEnvelope,
  entrySize,
  MAX_ENTRIES,
  MAX_ENTRIES_BYTES,
  type PutEventsEntry,
  toEvent,
} from './envelope.ts';
import { AwsError, alreadyExists, constraint, notFound, validation } from './errors.ts';
import { renderTargetInput, type TargetInput, validateTargetInput } from './transform.ts';

type Input = Record<string, unknown>;

export interface ServiceOptions {
  account: string;
  region: string;
  archiveDir: string | undefined;
  dispatcher: Dispatcher;
  /** Attempts per delivery (first try included) when the target sets no lower RetryPolicy. */
  maxAttempts: number;
  log: (line: string) => void;
}

interface Target extends TargetInput {
  Id: string;
  Arn: string;
  DeadLetterConfig?: { Arn?: string };
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  [key: string]: unknown;
}

interface Rule {
  name: string;
  arn: string;
  busName: string;
  eventPattern: string | undefined;
  match: EventMatcher | undefined;
  scheduleExpression: string | undefined;
  state: string;
  description: string | undefined;
  roleArn: string | undefined;
  targets: Map<string, Target>;
}

interface Bus {
  name: string;
  arn: string;
  description: string | undefined;
  created: Date;
  modified: Date;
  rules: Map<string, Rule>;
}

interface Archive {
  name: string;
  arn: string;
  busName: string;
  busArn: string;
  description: string | undefined;
  eventPattern: string | undefined;
  match: EventMatcher | undefined;
  retentionDays: number;
  created: Date;
  store: ArchiveStore;
}

interface Replay {
  name: string;
  arn: string;
  description: string | undefined;
  archiveArn: string;
  destination: { Arn: string; FilterArns?: string[] };
  start: Date;
  end: Date;
  state: 'STARTING' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  stateReason: string | undefined;
  replayStart: Date;
  replayEnd: Date | undefined;
  lastReplayed: Date | undefined;
}

const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const ARCHIVE_NAME = /^[.\-_A-Za-z0-9]{1,48}$/;
const REPLAY_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/;
const MAX_TARGETS_PER_RULE = 5;
const MAX_TARGETS_PER_CALL = 10;
const RULE_STATES = new Set(['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS']);

/** Epoch seconds, the JSON protocol's timestamp form. */
const epoch = (d: Date) => d.getTime() / 1000;

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

function str(input: Input, key: string, required: true): string;
function str(input: Input, key: string, required?: false): string | undefined;
function str(input: Input, key: string, required = false): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) {
    if (required) throw constraint(null, lowerFirst(key), 'Member must not be null');
    return undefined;
  }
  if (typeof v !== 'string') throw new AwsError('SerializationException', `${key} must be a string`);
  return v;
}

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

function named(input: Input, key: string, pattern: RegExp): string {
  const v = str(input, key, true);
  if (!pattern.test(v)) {
    throw constraint(v, lowerFirst(key), `Member must satisfy regular expression pattern: ${pattern.source}`);
  }
  return v;
}

function timestamp(input: Input, key: string): Date {
  const v = input[key];
  if (v === undefined || v === null) throw constraint(null, lowerFirst(key), 'Member must not be null');
  const d = typeof v === 'number' ? new Date(v * 1000) : typeof v === 'string' ? new Date(v) : new Date(Number.NaN);
  if (Number.isNaN(d.getTime())) throw new AwsError('SerializationException', `${key} is not a timestamp`);
  return d;
}

/** `Limit` + `NextToken` paging over a list (the token is an opaque offset). */
function page<T>(items: T[], input: Input): { items: T[]; NextToken?: string } {
  const limitRaw = input.Limit;
  const limit = typeof limitRaw === 'number' && limitRaw > 0 ? Math.min(limitRaw, 100) : 100;
  const token = str(input, 'NextToken');
  let start = 0;
  if (token !== undefined) {
    start = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw validation('The NextToken is not valid.');
  }
  const slice = items.slice(start, start + limit);
  const next = start + limit;
  return next < items.length
    ? { items: slice, NextToken: Buffer.from(String(next), 'utf8').toString('base64url') }
    : { items: slice };
}

function compileOrThrow(pattern: string): EventMatcher {
  try {
    return compilePattern(pattern);
  } catch (e) {
    if (isCityLoopError(e)) throw new AwsError('InvalidEventPatternException', e.message);
    throw e;
  }
}

export class EventBridgeService {
  private readonly buses = new Map<string, Bus>();
  private readonly archives = new Map<string, Archive>();
  private readonly replays = new Map<string, Replay>();
  private readonly pendingReplays = new Set<Promise<void>>();
  private readonly partition: string;

  constructor(private readonly opts: ServiceOptions) {
    this.partition = partitionOf(opts.region);
    this.addBus('default', undefined);
  }

  /** Action name → handler, as routed from `X-Amz-Target: AWSEvents.<Action>`. */
  readonly actions: Record<string, (input: Input) => unknown> = {
    CreateEventBus: (i) => this.createEventBus(i),
    DescribeEventBus: (i) => this.describeEventBus(i),
    ListEventBuses: (i) => this.listEventBuses(i),
    DeleteEventBus: (i) => this.deleteEventBus(i),
    PutRule: (i) => this.putRule(i),
    DescribeRule: (i) => this.describeRule(i),
    ListRules: (i) => this.listRules(i),
    DeleteRule: (i) => this.deleteRule(i),
    EnableRule: (i) => this.setRuleState(i, 'ENABLED'),
    DisableRule: (i) => this.setRuleState(i, 'DISABLED'),
    PutTargets: (i) => this.putTargets(i),
    ListTargetsByRule: (i) => this.listTargetsByRule(i),
    RemoveTargets: (i) => this.removeTargets(i),
    ListRuleNamesByTarget: (i) => this.listRuleNamesByTarget(i),
    PutEvents: (i) => this.putEvents(i),
    TestEventPattern: (i) => this.testEventPattern(i),
    CreateArchive: (i) => this.createArchive(i),
    DescribeArchive: (i) => this.describeArchive(i),
    ListArchives: (i) => this.listArchives(i),
    DeleteArchive: (i) => this.deleteArchive(i),
    StartReplay: (i) => this.startReplay(i),
    DescribeReplay: (i) => this.describeReplay(i),
    ListReplays: (i) => this.listReplays(i),
  };

  /** Resolves when every replay started so far has dispatched its events. */
  async settleReplays(): Promise<void> {
    for (let round = 0; round < 100 && this.pendingReplays.size > 0; round++) {
      await Promise.allSettled([...this.pendingReplays]);
    }
  }

  /** Resolves when every replay started so far has dispatched its events and every delivery has finished. */
  async drain(): Promise<void> {
    await this.settleReplays();
    await this.opts.dispatcher.drain();
  }

  // ---- ARNs and lookups -------------------------------------------------------------------------------------

  private arn(resource: string): string {
    return `arn:${this.partition}:events:${this.opts.region}:${this.opts.account}:${resource}`;
  }

  private addBus(name: string, description: string | undefined): Bus {
    const now = new Date();
    const bus: Bus = {
      name,
      arn: this.arn(`event-bus/${name}`),
      description,
      created: now,
      modified: now,
      rules: new Map(),
    };
    this.buses.set(name, bus);
    return bus;
  }

  /** Accepts a bus name or a bus ARN; absent means the default bus. */
  private busName(nameOrArn: string | undefined): string {
    if (nameOrArn === undefined || nameOrArn === '') return 'default';
    if (nameOrArn.startsWith('arn:')) {
      const at = nameOrArn.indexOf(':event-bus/');
      if (at < 0) throw validation(`Parameter EventBusName is not valid: ${nameOrArn}`);
      return nameOrArn.slice(at + ':event-bus/'.length);
    }
    return nameOrArn;
  }

  private bus(nameOrArn: string | undefined): Bus {
    const name = this.busName(nameOrArn);
    const bus = this.buses.get(name);
    if (!bus) throw notFound(`Event bus ${name} does not exist.`);
    return bus;
  }

  private rule(bus: Bus, name: string): Rule {
    const rule = bus.rules.get(name);
    if (!rule) throw notFound(`Rule ${name} does not exist on EventBus ${bus.name}.`);
    return rule;
  }

  private archive(name: string): Archive {
    const archive = this.archives.get(name);
    if (!archive) throw notFound(`Archive ${name} does not exist.`);
    return archive;
  }

  // ---- Event buses ------------------------------------------------------------------------------------------

  private createEventBus(input: Input) {
    const name = named(input, 'Name', BUS_NAME);
    if (this.buses.has(name)) throw alreadyExists(`Event bus ${name} already exists.`);
    const bus = this.addBus(name, str(input, 'Description'));
    return bus.description === undefined
      ? { EventBusArn: bus.arn }
      : { EventBusArn: bus.arn, Description: bus.description };
  }

  private busView(bus: Bus) {
    return {
      Name: bus.name,
      Arn: bus.arn,
      ...(bus.description === undefined ? {} : { Description: bus.description }),
      CreationTime: epoch(bus.created),
      LastModifiedTime: epoch(bus.modified),
    };
  }

  private describeEventBus(input: Input) {
    return this.busView(this.bus(str(input, 'Name')));
  }

  private listEventBuses(input: Input) {
    const prefix = str(input, 'NamePrefix') ?? '';
    const buses = [...this.buses.values()].filter((b) => b.name.startsWith(prefix));
    const p = page(buses, input);
    return { EventBuses: p.items.map((b) => this.busView(b)), ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
  }

  private deleteEventBus(input: Input) {
    const name = named(input, 'Name', BUS_NAME);
    if (name === 'default') throw validation('Cannot delete event bus default.');
    this.buses.delete(name);
    return {};
  }

  // ---- Rules ------------------------------------------------------------------------------------------------

  private putRule(input: Input) {
    const name = named(input, 'Name', RULE_NAME);
    const bus = this.bus(str(input, 'EventBusName'));
    const eventPattern = str(input, 'EventPattern');
    const scheduleExpression = str(input, 'ScheduleExpression');
    if (eventPattern === undefined && scheduleExpression === undefined) {
      throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    }
    if (scheduleExpression !== undefined && bus.name !== 'default') {
      throw validation('ScheduleExpression is supported only on the default event bus.');
    }
    const state = str(input, 'State') ?? 'ENABLED';
    if (!RULE_STATES.has(state)) {
      throw constraint(
        state,
        'state',
        'Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]',
      );
    }
    const match = eventPattern === undefined ? undefined : compileOrThrow(eventPattern);
    const existing = bus.rules.get(name);
    const rule: Rule = {
      name,
      arn: this.arn(bus.name === 'default' ? `rule/${name}` : `rule/${bus.name}/${name}`),
      busName: bus.name,
      eventPattern,
      match,
      scheduleExpression,
      state,
      description: str(input, 'Description'),
      roleArn: str(input, 'RoleArn'),
      targets: existing?.targets ?? new Map(),
    };
    bus.rules.set(name, rule);
    return { RuleArn: rule.arn };
  }

  private ruleView(rule: Rule) {
    const view: Record<string, unknown> = {
      Name: rule.name,
      Arn: rule.arn,
      State: rule.state,
      EventBusName: rule.busName,
    };
    if (rule.eventPattern !== undefined) view.EventPattern = rule.eventPattern;
    if (rule.scheduleExpression !== undefined) view.ScheduleExpression = rule.scheduleExpression;
    if (rule.description !== undefined) view.Description = rule.description;
    if (rule.roleArn !== undefined) view.RoleArn = rule.roleArn;
    return view;
  }

  private describeRule(input: Input) {
    const bus = this.bus(str(input, 'EventBusName'));
    const rule = this.rule(bus, named(input, 'Name', RULE_NAME));
    return { ...this.ruleView(rule), CreatedBy: this.opts.account };
  }

  private listRules(input: Input) {
    const bus = this.bus(str(input, 'EventBusName'));
    const prefix = str(input, 'NamePrefix') ?? '';
    const rules = [...bus.rules.values()].filter((r) => r.name.startsWith(prefix));
    const p = page(rules, input);
    return { Rules: p.items.map((r) => this.ruleView(r)), ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
  }

  private deleteRule(input: Input) {
    const bus = this.bus(str(input, 'EventBusName'));
    const name = named(input, 'Name', RULE_NAME);
    const rule = bus.rules.get(name);
    if (rule === undefined) return {};
    if (rule.targets.size > 0 && input.Force !== true) throw validation("Rule can't be deleted since it has targets.");
    bus.rules.delete(name);
    return {};
  }

  private setRuleState(input: Input, state: 'ENABLED' | 'DISABLED') {
    const bus = this.bus(str(input, 'EventBusName'));
    this.rule(bus, named(input, 'Name', RULE_NAME)).state = state;
    return {};
  }

  // ---- Targets ----------------------------------------------------------------------------------------------

  private putTargets(input: Input) {
    const bus = this.bus(str(input, 'EventBusName'));
    const rule = this.rule(bus, named(input, 'Rule', RULE_NAME));
    const targets = input.Targets;
    if (!Array.isArray(targets)) throw constraint(null, 'targets', 'Member must not be null');
    if (targets.length < 1) throw constraint('[]', 'targets', 'Member must have length greater than or equal to 1');
    if (targets.length > MAX_TARGETS_PER_CALL) {
      throw constraint(`[${targets.length} targets]`, 'targets', 'Member must have length less than or equal to 10');
    }
    const accepted: Target[] = [];
    targets.forEach((raw: unknown, index) => {
      if (typeof raw !== 'object' || raw === null)
        throw new AwsError('SerializationException', 'Target must be an object');
      const t = raw as Target;
      if (typeof t.Id !== 'string' || !TARGET_ID.test(t.Id)) {
        throw constraint(
          t.Id,
          `targets.${index + 1}.member.id`,
          `Member must satisfy regular expression pattern: ${TARGET_ID.source}`,
        );
      }
      if (typeof t.Arn !== 'string' || !t.Arn.startsWith('arn:')) {
        throw validation(`Parameter ${String(t.Arn)} is not valid. Reason: Provided Arn is not in correct format.`);
      }
      const dlq = t.DeadLetterConfig?.Arn;
      if (dlq !== undefined && (typeof dlq !== 'string' || !/^arn:[^:]+:sqs:/.test(dlq))) {
        throw validation(
          `Parameter DeadLetterConfig.Arn is not valid for target ${t.Id}: it must be an SQS queue ARN.`,
        );
      }
      validateTargetInput(t, t.Id);
      accepted.push({ ...t });
    });
    const ids = new Set([...rule.targets.keys(), ...accepted.map((t) => t.Id)]);
    if (ids.size > MAX_TARGETS_PER_RULE) {
      throw new AwsError('LimitExceededException', 'The requested resource exceeds the maximum number allowed.');
    }
    for (const t of accepted) rule.targets.set(t.Id, t);
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  private listTargetsByRule(input: Input) {
    const bus = this.bus(str(input, 'EventBusName'));
    const rule = this.rule(bus, named(input, 'Rule', RULE_NAME));
    const p = page([...rule.targets.values()], input);
    return { Targets: p.items, ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
  }

  private removeTargets(input: Input) {
    const bus = this.bus(str(input, 'EventBusName'));
    const rule = this.rule(bus, named(input, 'Rule', RULE_NAME));
    const ids = input.Ids;
    if (!Array.isArray(ids) || ids.length === 0) throw constraint(null, 'ids', 'Member must not be null');
    for (const id of ids) if (typeof id === 'string') rule.targets.delete(id);
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  private listRuleNamesByTarget(input: Input) {
    const bus = this.bus(str(input, 'EventBusName'));
    const arn = str(input, 'TargetArn', true);
    const names = [...bus.rules.values()]
      .filter((r) => [...r.targets.values()].some((t) => t.Arn === arn))
      .map((r) => r.name);
    const p = page(names, input);
    return { RuleNames: p.items, ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
  }

  // ---- Events -----------------------------------------------------------------------------------------------

  private putEvents(input: Input) {
    const entries = input.Entries;
    if (!Array.isArray(entries)) throw constraint(null, 'entries', 'Member must not be null');
    if (entries.length < 1) throw constraint('[]', 'entries', 'Member must have length greater than or equal to 1');
    if (entries.length > MAX_ENTRIES) {
      throw constraint(
        `[${entries.length} entries]`,
        'entries',
        `Member must have length less than or equal to ${MAX_ENTRIES}`,
      );
    }
    const list = entries.map((e) => (typeof e === 'object' && e !== null ? (e as PutEventsEntry) : {}));
    const total = list.reduce((sum, e) => sum + entrySize(e), 0);
    if (total > MAX_ENTRIES_BYTES) throw validation('Total size of the entries in the request is over the limit.');

    const now = new Date();
    let failed = 0;
    const results = list.map((entry) => {
      const r = toEvent(entry, { account: this.opts.account, region: this.opts.region, now });
      if (!r.ok) {
        failed++;
        return { ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage };
      }
      const busName = this.busName(typeof entry.EventBusName === 'string' ? entry.EventBusName : undefined);
      const bus = this.buses.get(busName);
      // EventBridge accepts events for a bus that does not exist and drops them; say so locally.
      if (bus === undefined) this.opts.log(`eventbridge: event ${r.event.id} sent to missing bus ${busName}, dropped`);
      else this.route(bus, r.event, now, undefined);
      return { EventId: r.event.id };
    });
    return { FailedEntryCount: failed, Entries: results };
  }

  /** Archives (unless replayed) and hands the event to every enabled rule that matches. */
  private route(bus: Bus, event: EventEnvelope, now: Date, replay: Replay | undefined): void {
    const prepared = prepareEvent(event);
    if (replay === undefined) {
      for (const a of this.archives.values()) {
        if (a.busName === bus.name && (a.match === undefined || a.match(prepared))) a.store.add(event, now);
      }
    }
    const serialized = JSON.stringify(event);
    const filter = replay?.destination.FilterArns;
    for (const rule of bus.rules.values()) {
      if (rule.state === 'DISABLED' || rule.match === undefined) continue;
      if (filter !== undefined && filter.length > 0 && !filter.includes(rule.arn)) continue;
      if (!rule.match(prepared)) continue;
      for (const t of rule.targets.values()) this.opts.dispatcher.submit(this.job(rule, t, event, serialized, now));
    }
  }

  private job(rule: Rule, t: Target, event: EventEnvelope, serialized: string, now: Date): DeliveryJob {
    const retries = t.RetryPolicy?.MaximumRetryAttempts;
    const maxAttempts =
      typeof retries === 'number' && retries >= 0
        ? Math.min(this.opts.maxAttempts, retries + 1)
        : this.opts.maxAttempts;
    const age = t.RetryPolicy?.MaximumEventAgeInSeconds;
    return {
      ruleArn: rule.arn,
      targetId: t.Id,
      targetArn: t.Arn,
      body: renderTargetInput(t, event, { name: rule.name, arn: rule.arn }, now),
      event: serialized,
      dlqArn: t.DeadLetterConfig?.Arn,
      maxAttempts,
      maxAgeMs: typeof age === 'number' && age > 0 ? age * 1000 : Number.POSITIVE_INFINITY,
    };
  }

  private testEventPattern(input: Input) {
    const match = compileOrThrow(str(input, 'EventPattern', true));
    let event: unknown;
    try {
      event = JSON.parse(str(input, 'Event', true));
    } catch {
      throw validation('Parameter Event is not valid.');
    }
    const mandatory = ['id', 'account', 'source', 'time', 'region', 'detail-type'];
    if (typeof event !== 'object' || event === null || mandatory.some((k) => !(k in event))) {
      throw validation('Parameter Event is not valid.');
    }
    return { Result: match(event) };
  }

  // ---- Archives and replays ---------------------------------------------------------------------------------

  private createArchive(input: Input) {
    const name = named(input, 'ArchiveName', ARCHIVE_NAME);
    const busArn = str(input, 'EventSourceArn', true);
    if (this.archives.has(name)) throw alreadyExists(`Archive ${name} already exists.`);
    const bus = this.bus(busArn);
    const eventPattern = str(input, 'EventPattern');
    const match = eventPattern === undefined ? undefined : compileOrThrow(eventPattern);
    const retention = input.RetentionDays;
    const retentionDays = typeof retention === 'number' && retention > 0 ? Math.floor(retention) : 0;
    const created = new Date();
    const archive: Archive = {
      name,
      arn: this.arn(`archive/${name}`),
      busName: bus.name,
      busArn: bus.arn,
      description: str(input, 'Description'),
      eventPattern,
      match,
      retentionDays,
      created,
      store: new ArchiveStore(name, this.opts.archiveDir, retentionDays, created),
    };
    this.archives.set(name, archive);
    return { ArchiveArn: archive.arn, State: 'ENABLED', CreationTime: epoch(created) };
  }

  private archiveView(a: Archive) {
    return {
      ArchiveName: a.name,
      EventSourceArn: a.busArn,
      State: 'ENABLED',
      RetentionDays: a.retentionDays,
      SizeBytes: a.store.sizeBytes,
      EventCount: a.store.count,
      CreationTime: epoch(a.created),
    };
  }

  private describeArchive(input: Input) {
    const a = this.archive(named(input, 'ArchiveName', ARCHIVE_NAME));
    return {
      ...this.archiveView(a),
      ArchiveArn: a.arn,
      ...(a.description === undefined ? {} : { Description: a.description }),
      ...(a.eventPattern === undefined ? {} : { EventPattern: a.eventPattern }),
    };
  }

  private listArchives(input: Input) {
    const prefix = str(input, 'NamePrefix') ?? '';
    const source = str(input, 'EventSourceArn');
    const list = [...this.archives.values()].filter(
      (a) => a.name.startsWith(prefix) && (source === undefined || a.busArn === source),
    );
    const p = page(list, input);
    return { Archives: p.items.map((a) => this.archiveView(a)), ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
  }

  private deleteArchive(input: Input) {
    const name = named(input, 'ArchiveName', ARCHIVE_NAME);
    this.archive(name);
    this.archives.delete(name);
    return {};
  }

  private startReplay(input: Input) {
    const name = named(input, 'ReplayName', REPLAY_NAME);
    if (this.replays.has(name)) throw alreadyExists(`Replay ${name} already exists.`);
    const archiveArn = str(input, 'EventSourceArn', true);
    const start = timestamp(input, 'EventStartTime');
    const end = timestamp(input, 'EventEndTime');
    if (end.getTime() <= start.getTime()) {
      throw validation('Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.');
    }
    const archive = [...this.archives.values()].find((a) => a.arn === archiveArn);
    if (archive === undefined) {
      const shown = archiveArn.split('/').pop();
      throw validation(`Parameter EventSourceArn is not valid. Reason: Archive ${shown} does not exist.`);
    }
    const destination = input.Destination as { Arn?: unknown; FilterArns?: unknown } | undefined;
    if (typeof destination?.Arn !== 'string') throw constraint(null, 'destination.arn', 'Member must not be null');
    if (destination.Arn !== archive.busArn) {
      throw validation('Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.');
    }
    const filterArns = Array.isArray(destination.FilterArns)
      ? destination.FilterArns.filter((a): a is string => typeof a === 'string')
      : undefined;
    const replay: Replay = {
      name,
      arn: this.arn(`replay/${name}`),
      description: str(input, 'Description'),
      archiveArn,
      destination: filterArns ? { Arn: destination.Arn, FilterArns: filterArns } : { Arn: destination.Arn },
      start,
      end,
      state: 'STARTING',
      stateReason: undefined,
      replayStart: new Date(),
      replayEnd: undefined,
      lastReplayed: undefined,
    };
    this.replays.set(name, replay);
    const run: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.runReplay(replay, archive))
      .finally(() => this.pendingReplays.delete(run));
    this.pendingReplays.add(run);
    return { ReplayArn: replay.arn, State: replay.state, ReplayStartTime: epoch(replay.replayStart) };
  }

  /** Re-sends archived events in the window to the source bus, marked with `replay-name`. */
  private runReplay(replay: Replay, archive: Archive): void {
    replay.state = 'RUNNING';
    const bus = this.buses.get(archive.busName);
    if (bus === undefined) {
      replay.state = 'FAILED';
      replay.stateReason = `Event bus ${archive.busName} does not exist.`;
      replay.replayEnd = new Date();
      return;
    }
    for (const original of archive.store.between(replay.start, replay.end)) {
      const event: EventEnvelope = { ...original, 'replay-name': replay.name };
      this.route(bus, event, new Date(), replay);
      replay.lastReplayed = new Date(original.time);
    }
    replay.state = 'COMPLETED';
    replay.replayEnd = new Date();
  }

  private replayView(r: Replay) {
    const view: Record<string, unknown> = {
      ReplayName: r.name,
      EventSourceArn: r.archiveArn,
      State: r.state,
      EventStartTime: epoch(r.start),
      EventEndTime: epoch(r.end),
      ReplayStartTime: epoch(r.replayStart),
    };
    if (r.stateReason !== undefined) view.StateReason = r.stateReason;
    if (r.lastReplayed !== undefined && !Number.isNaN(r.lastReplayed.getTime())) {
      view.EventLastReplayedTime = epoch(r.lastReplayed);
    }
    if (r.replayEnd !== undefined) view.ReplayEndTime = epoch(r.replayEnd);
    return view;
  }

  private describeReplay(input: Input) {
    const name = named(input, 'ReplayName', REPLAY_NAME);
    const r = this.replays.get(name);
    if (r === undefined) throw notFound(`Replay ${name} does not exist.`);
    return {
      ...this.replayView(r),
      ReplayArn: r.arn,
      Destination: r.destination,
      ...(r.description === undefined ? {} : { Description: r.description }),
    };
  }

  private listReplays(input: Input) {
    const prefix = str(input, 'NamePrefix') ?? '';
    const list = [...this.replays.values()].filter((r) => r.name.startsWith(prefix));
    const p = page(list, input);
    return { Replays: p.items.map((r) => this.replayView(r)), ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
  }
}
