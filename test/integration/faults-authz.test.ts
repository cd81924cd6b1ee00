/**
 * The gateway half of the authorization matrix, generated from the topology so a route added later is covered on
 * the day it is added: every non-public route refuses a caller without a credential or with an unknown one (401,
 * before the handler), refuses a staff role it does not name (403 from the handler), and lets the roles it names
 * through to the handler (which may still answer 400/404/409 for the made-up ids used here, never 401/403/500).
 * The case-level matrix (which department sees which case, citizens' proofs) is test/integration/authz.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack.ts';
import { http, startTestStack } from '../helpers/local-stack.ts';

const KEYS = {
  agent: 'local-agent-001',
  supervisor: 'local-supervisor-001',
  department: 'local-dept-zhujian',
} as const;
type Role = keyof typeof KEYS;

/**
 * Roles a route's `auth` admits besides its own: the 值班长 (supervisor) stands in at the hotline console, so the
 * agent routes let supervisors through on purpose (`requireStaff(event, 'agent', 'supervisor')` in the handlers).
 */
const ALSO: Partial<Record<string, Role[]>> = { agent: ['supervisor'] };

const fill = (path: string) =>
  path
    .replace('{caseId}', '20251128000001')
    .replace('{trackingNo}', '20251128000001')
    .replace('{contactId}', '5ca32fbd-8f92-46af-92a5-6b0f970f0efe')
    .replace('{proxy+}', 'services.json');

describe('Local stack: every non-public route × every role (generated from the topology)', () => {
  let stack: LocalStack;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ stack, cleanup } = await startTestStack({ rateLimit: false }));
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('should refuse anonymous and unknown callers at the gateway, wrong roles in the handler, and pass the right ones', async () => {
    const routes = stack.topology.functions.flatMap((f) => (f.routes ?? []).map((r) => ({ ...r, fn: f.id })));
    const closed = routes.filter((r) => r.auth !== 'public');
    expect(closed.length).toBeGreaterThan(20);
    const wrong: string[] = [];
    for (const r of closed) {
      const path = fill(r.path);
      const body = r.method === 'GET' ? undefined : {};
      const anonymous = await http(stack, r.method, path, body);
      if (anonymous.status !== 401) wrong.push(`${r.method} ${r.path} anonymous → ${anonymous.status}`);
      const forged = await http(stack, r.method, path, body, { authorization: 'Bearer not-a-real-key-000' });
      if (forged.status !== 401) wrong.push(`${r.method} ${r.path} unknown key → ${forged.status}`);
      for (const role of Object.keys(KEYS) as Role[]) {
        const allowed = r.auth === role || r.auth === 'staff' || (ALSO[r.auth] ?? []).includes(role);
        const res = await http(stack, r.method, path, body, { 'x-api-key': KEYS[role] });
        if (res.status >= 500) wrong.push(`${r.method} ${r.path} as ${role} → ${res.status} ${res.text.slice(0, 80)}`);
        else if (allowed && (res.status === 401 || res.status === 403))
          wrong.push(`${r.method} ${r.path} as ${role} (allowed) → ${res.status}`);
        else if (!allowed && res.status !== 403)
          wrong.push(`${r.method} ${r.path} as ${role} (not allowed) → ${res.status} ${res.json?.error?.code ?? ''}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('should never answer a public route with a 5xx, with or without a staff credential', async () => {
    const routes = stack.topology.functions.flatMap((f) => f.routes ?? []).filter((r) => r.auth === 'public');
    const wrong: string[] = [];
    for (const r of routes) {
      for (const headers of [{}, { 'x-api-key': KEYS.department }] as Record<string, string>[]) {
        const res = await http(stack, r.method, fill(r.path), r.method === 'GET' ? undefined : {}, headers);
        if (res.status >= 500) wrong.push(`${r.method} ${r.path} → ${res.status} ${res.text.slice(0, 80)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
