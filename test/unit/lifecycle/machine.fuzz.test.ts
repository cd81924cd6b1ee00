/**
 * Random action sequences from every kind of caller: the machine never throws, every accepted action moves the
 * version by exactly one, the invariants of a case hold after every step, and archived is terminal.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NATURES } from '#core/intake/schema.ts';
import type { Action } from '#core/lifecycle/actions.ts';
import { allowedActions, applyAction, receiveCase } from '#core/lifecycle/machine.ts';
import { ACTION_TYPES, CASE_STATES, ROLES, SATISFACTION } from '#core/lifecycle/states.ts';
import { type Actor, type CaseSnapshot, CaseSnapshotSchema } from '#core/lifecycle/types.ts';

const DEPARTMENTS = ['zhujian', 'shuiwu', 'chengguan'] as const;
const CITIZENS = ['c-1', 'c-2'] as const;
const START = Date.parse('2025-10-09T09:00:00+08:00');

const words = fc.constantFrom(undefined, '', '  ', '理由', '已处理完毕');
const dates = fc.constantFrom(
  undefined,
  '2025-10-12T23:59:59+08:00',
  '2025-10-30T23:59:59+08:00',
  '2026-03-01T00:00:00Z',
);

/** Mostly well-formed actions with gaps, so that both acceptances and every kind of refusal occur. */
const action: fc.Arbitrary<Action> = fc
  .record({
    type: fc.constantFrom(...ACTION_TYPES),
    reason: words,
    text: words,
    department: fc.constantFrom(undefined, ...DEPARTMENTS),
    category: fc.constantFrom(undefined, 'ZJ-01', 'SW-02'),
    newDueAt: dates,
    satisfaction: fc.constantFrom(undefined, ...SATISFACTION),
    resolved: fc.constantFrom(undefined, true, false),
    visibility: fc.constantFrom(undefined, 'public', 'internal'),
  })
  .map((a) => Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Action);

/** Any role, sometimes the owner (department of the case, citizen who filed it), sometimes not. */
const actor = fc.record({
  role: fc.constantFrom(...ROLES),
  department: fc.constantFrom(...DEPARTMENTS),
  citizen: fc.constantFrom(...CITIZENS),
  own: fc.boolean(),
});

const junk = fc.anything();

/** A step that picks one of the actions some owner may take now, with a complete payload: it walks deep. */
const guided = fc.record({
  kind: fc.constant('guided' as const),
  pick: fc.noBias(fc.nat(100_000)),
  other: fc.noBias(fc.nat(100)),
  days: fc.integer({ min: 1, max: 20 }),
  satisfaction: fc.constantFrom(...SATISFACTION),
  resolved: fc.boolean(),
  visibility: fc.constantFrom('public' as const, 'internal' as const),
  minutes: fc.nat(3000),
});

/** The SLA engine setting the windows (outside the machine), so the window checks are exercised too. */
const sla = fc.record({
  kind: fc.constant('sla' as const),
  returnHours: fc.integer({ min: -24, max: 72 }),
  dueDays: fc.integer({ min: -2, max: 10 }),
  extraDays: fc.integer({ min: 1, max: 14 }),
  minutes: fc.constant(0),
});

const step = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('action' as const), action, actor, minutes: fc.nat(3000) }) },
  { weight: 8, arbitrary: guided },
  { weight: 1, arbitrary: sla },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('junk' as const), junk, actor, minutes: fc.nat(60) }) },
);

type Guided = typeof guided extends fc.Arbitrary<infer T> ? T : never;

/** Every (owner actor, action) pair offered now; picks one and fills a complete payload. */
function guide(g: Guided, s: CaseSnapshot, now: string): { action: Action; actor: Actor } | null {
  const owners = ROLES.map((role) => toActor({ role, department: DEPARTMENTS[0], citizen: CITIZENS[0], own: true }, s));
  // Notes change no state: the unguided steps cover them; here they would only slow the walk down.
  const pairs = owners.flatMap((who) =>
    allowedActions(s, who, now)
      .filter((type) => type !== 'addNote' && type !== 'citizenUpdate')
      .map((type) => ({ who, type })),
  );
  if (pairs.length === 0) return null;
  const { who, type } = pairs[g.pick % pairs.length] as (typeof pairs)[number];
  const others = DEPARTMENTS.filter((d) => d !== s.department);
  const due = new Date(
    Math.max(Date.parse(now), Date.parse(s.windows.dueAt ?? now)) + g.days * 86_400_000,
  ).toISOString();
  const full = {
    type,
    reason: '理由',
    text: '处理情况',
    department: others[g.other % others.length],
    category: 'ZJ-01',
    newDueAt: due,
    satisfaction: g.satisfaction,
    resolved: g.resolved,
    visibility: g.visibility,
  };
  return { action: full as Action, actor: who };
}

function toActor(
  a: { role: Actor['role']; department: string; citizen: string; own: boolean },
  s: CaseSnapshot,
): Actor {
  if (a.role === 'department')
    return { role: a.role, id: 'd-user', department: a.own ? (s.department ?? a.department) : a.department };
  if (a.role === 'citizen') return { role: a.role, id: a.own ? (s.citizenRef ?? a.citizen) : a.citizen };
  return { role: a.role, id: `${a.role}-1` };
}

function checkInvariants(s: CaseSnapshot): void {
  expect(CaseSnapshotSchema.safeParse(s).success).toBe(true);
  expect(s.state === 'returnRequested').toBe(s.pending?.kind === 'return');
  if (s.pending?.kind === 'extension') expect(s.state).toBe('signed');
  if (['dispatched', 'signed', 'returnRequested', 'resolved', 'followUp', 'closed'].includes(s.state)) {
    expect(s.department).not.toBeNull();
  }
  if (s.state === 'signed' || s.state === 'resolved') expect(s.timestamps.signedAt).not.toBeNull();
  if (s.state === 'resolved') expect(s.timestamps.resolvedAt).not.toBeNull();
  if (s.state === 'archived') expect(s.timestamps.archivedAt).not.toBeNull();
}

describe('Function: applyAction (random sequences)', () => {
  it('should never throw, move versions by one per accepted action, and keep the invariants', () => {
    const reached = new Set<string>();
    fc.assert(
      fc.property(
        fc.constantFrom(...NATURES),
        fc.constantFrom(...CITIZENS),
        fc.array(step, { minLength: 1, maxLength: 80, size: 'max' }),
        (nature, citizenRef, steps) => {
          // Prepare
          const opened = receiveCase(
            { caseId: 'C-fuzz', receivedAt: new Date(START).toISOString(), nature, citizenRef, deadlines: { g: 1 } },
            { role: 'system', id: 'intake' },
          );
          if (!opened.ok) throw new Error(opened.error.code);
          let s = opened.next;
          reached.add(s.state);
          let clock = START;
          let archivedSeen = false;

          for (const st of steps) {
            clock += st.minutes * 60_000;
            const now = new Date(clock).toISOString();
            if (st.kind === 'sla') {
              const at = (ms: number): string => new Date(clock + ms).toISOString();
              const dueAt = at(st.dueDays * 86_400_000);
              s = {
                ...s,
                windows: {
                  returnBy: at(st.returnHours * 3_600_000),
                  dueAt,
                  extensionLatest: at((st.dueDays + st.extraDays) * 86_400_000),
                },
              };
              continue;
            }
            let who: Actor;
            let input: Action;
            if (st.kind === 'guided') {
              const g = guide(st, s, now);
              if (g === null) continue;
              who = g.actor;
              input = g.action;
            } else {
              who = toActor(st.actor, s);
              input = st.kind === 'action' ? st.action : (st.junk as Action);
            }
            const offered = allowedActions(s, who, now);

            // Act
            const r = applyAction(s, input, who, now);

            // Assess
            if (archivedSeen) expect(r.ok).toBe(false);
            if (!r.ok) {
              expect(typeof r.error.code).toBe('string');
              expect(r.error.status).toBeGreaterThanOrEqual(400);
              if (
                st.kind !== 'junk' &&
                ['FORBIDDEN_ROLE', 'NOT_YOUR_CASE', 'ILLEGAL_TRANSITION'].includes(r.error.code)
              ) {
                expect(offered).not.toContain(input.type);
              }
              continue;
            }
            expect(offered).toContain(r.audit.action);
            expect(r.next.version).toBe(s.version + 1);
            expect(r.audit.version).toBe(r.next.version);
            expect(r.audit.from).toBe(s.state);
            expect(r.audit.to).toBe(r.next.state);
            expect(r.event.detail.version).toBe(r.next.version);
            expect(r.next.deadlines).toBe(s.deadlines);
            checkInvariants(r.next);
            reached.add(r.next.state);
            s = r.next;
            if (s.state === 'archived') archivedSeen = true;
          }
        },
      ),
      { numRuns: 400 },
    );
    // The runs must visit the whole lifecycle, or the property above proves little.
    expect([...reached].sort()).toEqual([...CASE_STATES].sort());
  });

  it('should refuse every action on an archived case, whoever asks', () => {
    fc.assert(
      fc.property(action, actor, (a, who) => {
        // Prepare
        const archived: CaseSnapshot = {
          caseId: 'C-arch',
          state: 'archived',
          version: 9,
          department: 'zhujian',
          category: 'ZJ-01',
          nature: '投诉',
          citizenRef: 'c-1',
          pending: null,
          windows: { returnBy: null, dueAt: null, extensionLatest: null },
          deadlines: {},
          counts: { reopenCount: 0, returnCount: 0, extensionCount: 0, redispatchCount: 0 },
          timestamps: {
            receivedAt: '2025-10-01T09:00:00+08:00',
            dispatchedAt: '2025-10-01T09:05:00+08:00',
            signedAt: '2025-10-01T10:00:00+08:00',
            firstContactAt: null,
            resolvedAt: '2025-10-02T10:00:00+08:00',
            closedAt: '2025-10-03T10:00:00+08:00',
            archivedAt: '2025-10-04T10:00:00+08:00',
          },
          satisfaction: '满意',
          resolvedFlag: true,
        };

        // Act
        const r = applyAction(archived, a, toActor(who, archived), '2025-10-05T10:00:00+08:00');

        // Assess
        expect(r.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('should answer arbitrary junk for every argument with an error value', () => {
    fc.assert(
      fc.property(junk, junk, junk, junk, (s, a, who, now) => {
        // Act
        const r = applyAction(s as never, a as never, who as never, now as never);

        // Assess
        expect(r.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
