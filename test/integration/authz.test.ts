/**
 * The authorization matrix on the local stack: anonymous, citizen (with their proof), agent, department A (the case's),
 * department B, supervisor × every endpoint of the department, supervisor and citizen APIs.
 * Authorized mutations are sent with a stale `expectedVersion`, so they pass every access check and then stop at
 * 409 CONFLICT: the matrix changes nothing, which the end of the test checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { citizenToken } from '#core/cases/citizen-auth.ts';
import type { LocalStack } from '#local/stack.ts';
import { eventually, http, startTestStack } from '../helpers/local-stack.ts';

type Who = 'anonymous' | 'citizen' | 'agent' | 'deptA' | 'deptB' | 'supervisor';
const WHO: Who[] = ['anonymous', 'citizen', 'agent', 'deptA', 'deptB', 'supervisor'];

const KEYS: Partial<Record<Who, string>> = {
  agent: 'local-agent-001',
  deptA: 'local-dept-chengguan',
  deptB: 'local-dept-zhujian',
  supervisor: 'local-supervisor-001',
};

interface Endpoint {
  api: 'dept' | 'supervisor' | 'citizen';
  method: 'GET' | 'POST';
  /** `{id}` is the case id / tracking number. */
  path: string;
}

const DEPT_ACTIONS = ['sign', 'contact', 'return', 'extension', 'resolve', 'notes'];
const SUPERVISOR_ACTIONS = [
  'triage',
  'reject',
  'answer',
  'return/approve',
  'return/reject',
  'extension/approve',
  'extension/reject',
  'redispatch',
  'closure/approve',
  'closure/reject',
  'follow-up',
  'reopen',
  'archive',
  'notes',
  'chase',
];

const ENDPOINTS: Endpoint[] = [
  { api: 'dept', method: 'GET', path: '/api/dept/cases' },
  { api: 'dept', method: 'GET', path: '/api/dept/cases/{id}' },
  ...DEPT_ACTIONS.map((a): Endpoint => ({ api: 'dept', method: 'POST', path: `/api/dept/cases/{id}/${a}` })),
  { api: 'supervisor', method: 'GET', path: '/api/supervisor/cases' },
  { api: 'supervisor', method: 'GET', path: '/api/supervisor/triage' },
  { api: 'supervisor', method: 'GET', path: '/api/supervisor/cases/{id}' },
  ...SUPERVISOR_ACTIONS.map(
    (a): Endpoint => ({ api: 'supervisor', method: 'POST', path: `/api/supervisor/cases/{id}/${a}` }),
  ),
  { api: 'citizen', method: 'GET', path: '/api/requests/{id}' },
  { api: 'citizen', method: 'POST', path: '/api/requests/{id}/updates' },
  { api: 'citizen', method: 'POST', path: '/api/requests/{id}/follow-up' },
];

/** What each caller must get: an HTTP status and, for refusals, the error code. */
type Expect = { status: number; code?: string } | 'allowed';

function expected(e: Endpoint, who: Who): Expect {
  if (e.api === 'citizen') {
    if (e.method === 'GET') return 'allowed';
    return who === 'citizen' ? 'allowed' : { status: 401, code: 'CITIZEN_PROOF_REQUIRED' };
  }
  if (who === 'anonymous' || who === 'citizen') return { status: 401, code: 'UNAUTHENTICATED' };
  if (e.api === 'dept') {
    if (who === 'deptA') return 'allowed';
    if (who === 'deptB') return e.path === '/api/dept/cases' ? 'allowed' : { status: 404, code: 'NOT_FOUND' };
    return { status: 403, code: 'FORBIDDEN_ROLE' };
  }
  return who === 'supervisor' ? 'allowed' : { status: 403, code: 'FORBIDDEN_ROLE' };
}

describe('Local stack: authorization matrix of the case APIs', () => {
  let stack: LocalStack;
  let cleanup: () => Promise<void>;
  let tn: string;
  let token: string;

  beforeAll(async () => {
    let dataDir: string;
    ({ stack, dataDir, cleanup } = await startTestStack());
    const posted = await http(
      stack,
      'POST',
      '/api/requests',
      {
        title: '路灯不亮',
        text: '和平路88号门口的路灯已经坏了一个星期，晚上很黑，请尽快维修。',
        citizen: { phone: '13800138000' },
      },
      { 'idempotency-key': 'authz-matrix-0001' },
    );
    tn = posted.json.trackingNo;
    await eventually(
      async () => (await http(stack, 'GET', `/api/requests/${tn}`)).json?.department?.id === 'chengguan',
    );
    // The token a notice link would carry (the local stack keeps its secret in the data folder).
    await http(stack, 'GET', `/api/requests/${tn}?phone4=8000`);
    token = citizenToken(readFileSync(join(dataDir, 'citizen-token.secret'), 'utf8').trim(), tn);
  });
  afterAll(async () => {
    await cleanup?.();
  });

  function send(e: Endpoint, who: Who, id: string) {
    const headers: Record<string, string> = {};
    const key = KEYS[who];
    if (key) headers['x-api-key'] = key;
    if (who === 'citizen') headers['x-citizen-token'] = token;
    const path = e.path.replace('{id}', id);
    return http(stack, e.method, path, e.method === 'POST' ? { expectedVersion: 999 } : undefined, headers);
  }

  it('should give every caller exactly its due on every endpoint', async () => {
    const rows: string[] = [];
    const wrong: string[] = [];
    for (const e of ENDPOINTS) {
      const cells: string[] = [];
      for (const who of WHO) {
        // Act
        const res = await send(e, who, tn);
        cells.push(String(res.status));
        // Assess
        const want = expected(e, who);
        if (want === 'allowed') {
          // Past every access check: a read answers 200; a write stops at the stale version.
          const ok =
            e.method === 'GET' ? res.status === 200 : res.status === 409 && res.json?.error?.code === 'CONFLICT';
          if (!ok) wrong.push(`${e.method} ${e.path} as ${who}: ${res.status} ${res.text.slice(0, 120)}`);
        } else if (res.status !== want.status || res.json?.error?.code !== want.code) {
          wrong.push(
            `${e.method} ${e.path} as ${who}: ${res.status} ${res.json?.error?.code}, want ${want.status} ${want.code}`,
          );
        }
      }
      rows.push(`${`${e.method} ${e.path}`.padEnd(52)} ${cells.join('  ')}`);
    }
    expect(wrong, `\n${WHO.join(' ')}\n${rows.join('\n')}`).toEqual([]);
  });

  it('should not let department B tell another department’s case from a missing one, on any endpoint', async () => {
    for (const e of ENDPOINTS.filter((x) => x.api === 'dept' && x.path.includes('{id}'))) {
      // Act
      const foreign = await send(e, 'deptB', tn);
      const guessed = await send(e, 'deptB', '20991231999999');
      // Assess
      expect({ status: foreign.status, body: foreign.json }, `${e.method} ${e.path}`).toEqual({
        status: guessed.status,
        body: guessed.json,
      });
      expect(foreign.status).toBe(404);
    }
    const listed = await http(stack, 'GET', '/api/dept/cases', undefined, { 'x-api-key': KEYS.deptB! });
    expect(JSON.stringify(listed.json)).not.toContain(tn);
    const own = await http(stack, 'GET', '/api/dept/cases', undefined, { 'x-api-key': KEYS.deptA! });
    expect(own.json.cases.map((c: { caseId: string }) => c.caseId)).toContain(tn);
  });

  it('should show the texts of the tracking page only with the citizen’s proof', async () => {
    for (const who of WHO) {
      const res = await send({ api: 'citizen', method: 'GET', path: '/api/requests/{id}' }, who, tn);
      expect(res.json.verified, who).toBe(who === 'citizen');
      expect(res.text).not.toContain('13800138000');
    }
    const wrong = await http(stack, 'GET', `/api/requests/${tn}`, undefined, { 'x-citizen-token': 'x'.repeat(22) });
    expect(wrong).toMatchObject({ status: 403, json: { error: { code: 'CITIZEN_PROOF_INVALID' } } });
  });

  it('should have changed nothing on the case', async () => {
    const c = await http(stack, 'GET', `/api/supervisor/cases/${tn}`, undefined, { 'x-api-key': KEYS.supervisor! });
    expect(c.json).toMatchObject({ version: 1, state: 'dispatched', department: 'chengguan' });
    expect(c.json.history).toHaveLength(2);
  });
});
