import { describe, expect, it } from 'vitest';
import type { Case } from '#core/case.ts';
import type { DuplicateSuggestion } from '#core/dedupe/engine.ts';
import { CityLoopError } from '#core/errors.ts';
import { DUPLICATE_ROUTES, type DuplicatesDeps, handleDuplicates } from '#functions/dedupe/duplicates.ts';
import type { HttpEvent } from '#functions/lib/http.ts';
import type { DuplicateDraft } from '#functions/lib/triage-context.ts';

const suggestion: DuplicateSuggestion = {
  caseId: '20251128000007',
  title: '和平路12号水管爆了 电话13912345678',
  receivedAt: '2025-11-28T01:00:00.000Z',
  status: 'open',
  reporterCount: 23,
  distanceMeters: 40,
  textSimilarity: 0.4,
  relation: 'incident',
  score: 0.7,
};

const theCase = {
  caseId: '20251128000007',
  state: 'signed',
  department: 'shuiwu',
  category: 'GY-01',
  classification: { categoryName: '供水管道爆裂', confidence: 1, decision: 'auto', reason: 'r' },
  receivedAt: '2025-11-28T09:00:00+08:00',
  reportCount: 25,
} as unknown as Case;

function deps(seen: DuplicateDraft[] = []): DuplicatesDeps {
  return {
    now: () => new Date('2025-11-28T02:00:00Z'),
    suggest: async (draft) => {
      seen.push(draft);
      return [suggestion];
    },
    getCase: async (id) => (id === theCase.caseId ? theCase : undefined),
    citizenOf: async (event) => {
      if (event.headers?.authorization !== 'Bearer good') throw new CityLoopError('INVALID_SESSION', 'no', 401);
      return 'openid-1';
    },
    departmentName: (id) => (id === 'shuiwu' ? '区水务局' : undefined),
  };
}

function event(
  routeKey: string,
  body: unknown,
  opts: { groups?: string; headers?: Record<string, string> } = {},
): HttpEvent {
  return {
    routeKey,
    rawPath: routeKey.split(' ')[1],
    headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: opts.groups
      ? { authorizer: { jwt: { claims: { sub: 'a1', 'cognito:username': 'a1', 'cognito:groups': opts.groups } } } }
      : {},
  } as unknown as HttpEvent;
}

describe('Function: handleDuplicates', () => {
  it("should give an agent the suggestions with the case's state and department, phone numbers masked", async () => {
    // Prepare
    const seen: DuplicateDraft[] = [];
    // Act
    const res = await handleDuplicates(
      event(
        DUPLICATE_ROUTES.agent,
        {
          text: ' 和平路12号水管爆了 ',
          phone: '139 1234 5678',
          location: { lat: 22.69, lon: 114.35, datum: 'GCJ02' },
          limit: 50,
        },
        { groups: '[agents]' },
      ),
      deps(seen),
    );
    // Assess
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(String(res.body));
    expect(body.suggestions[0]).toMatchObject({
      caseId: '20251128000007',
      stateLabel: '签收',
      department: { id: 'shuiwu', name: '区水务局' },
      reportCount: 25,
      reporterCount: 23,
    });
    expect(body.suggestions[0].title).not.toContain('13912345678');
    expect(seen[0]).toMatchObject({
      text: '和平路12号水管爆了',
      citizen: { phone: '+8613912345678' },
      location: { lat: 22.69, lon: 114.35, datum: 'GCJ02' },
      at: '2025-11-28T10:00:00.000+08:00',
    });
  });

  it('should refuse callers without the agent or supervisor role', async () => {
    await expect(handleDuplicates(event(DUPLICATE_ROUTES.agent, { text: 'x' }), deps())).rejects.toMatchObject({
      status: 401,
    });
    await expect(
      handleDuplicates(event(DUPLICATE_ROUTES.agent, { text: 'x' }, { groups: '[dept-shuiwu]' }), deps()),
    ).rejects.toMatchObject({ code: 'FORBIDDEN_ROLE', status: 403 });
  });

  it('should show a citizen no other citizen words: category, status, distance and how many reported it', async () => {
    // Prepare
    const seen: DuplicateDraft[] = [];
    // Act
    const res = await handleDuplicates(
      event(
        DUPLICATE_ROUTES.miniProgram,
        { text: '水管爆了', location: { latitude: 22.69, longitude: 114.35, type: 'gcj02', address: '和平路12号' } },
        { headers: { authorization: 'Bearer good' } },
      ),
      deps(seen),
    );
    // Assess
    const body = JSON.parse(String(res.body));
    expect(body.suggestions).toEqual([
      {
        caseId: '20251128000007',
        category: '供水管道爆裂',
        statusLabel: '处理中',
        receivedAt: '2025-11-28T09:00:00+08:00',
        distanceMeters: 40,
        reporterCount: 25,
        yours: false,
      },
    ]);
    // The session's openid, never one from the body; the location keeps its datum for the conversion.
    expect(seen[0]).toMatchObject({
      citizen: { openid: 'openid-1' },
      location: { lat: 22.69, lon: 114.35, datum: 'GCJ02', address: '和平路12号' },
    });
  });

  it('should refuse a citizen without a valid session, and drafts without text or with bad coordinates', async () => {
    await expect(handleDuplicates(event(DUPLICATE_ROUTES.miniProgram, { text: 'x' }), deps())).rejects.toMatchObject({
      code: 'INVALID_SESSION',
      status: 401,
    });
    await expect(
      handleDuplicates(event(DUPLICATE_ROUTES.agent, { text: '  ' }, { groups: '[agents]' }), deps()),
    ).rejects.toMatchObject({ code: 'TEXT_REQUIRED', status: 400 });
    await expect(
      handleDuplicates(
        event(DUPLICATE_ROUTES.agent, { text: 'x', location: { lat: 91, lon: 0 } }, { groups: '[supervisors]' }),
        deps(),
      ),
    ).rejects.toMatchObject({ code: 'INVALID_LOCATION', status: 400 });
  });
});
