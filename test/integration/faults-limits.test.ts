/**
 * The local stack's per-client rate limit (API Gateway stage throttling on AWS): a client past its burst gets a coded
 * 429 with Retry-After, before the authorizer; another client (a known API key) has its own bucket; made-up keys
 * share their address's bucket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack.ts';
import { http, startTestStack } from '../helpers/local-stack.ts';

describe('Local stack: per-client rate limit', () => {
  let stack: LocalStack;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ stack, cleanup } = await startTestStack({ rateLimit: { ratePerSec: 0.5, burst: 3 } }));
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('should answer 429 RATE_LIMITED with Retry-After past the burst, per client', async () => {
    // Act: four calls from this address (any route, valid or not, costs a token).
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await http(stack, 'GET', '/api/requests/abc'));
    // Assess
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([400, 400, 400]);
    expect(answers[3]!.status).toBe(429);
    expect(answers[3]!.json.error.code).toBe('RATE_LIMITED');
    const res = await fetch(`${stack.info.url}/api/requests/abc`);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // A made-up key is still this address: refused; a known key has its own bucket.
    expect((await http(stack, 'GET', '/api/requests/abc', undefined, { 'x-api-key': 'made-up-key-1' })).status).toBe(
      429,
    );
    const agent = await http(stack, 'GET', '/api/requests/abc', undefined, { 'x-api-key': 'local-agent-001' });
    expect(agent.status).toBe(400);
    // The pages are not API routes: never throttled.
    expect((await http(stack, 'GET', '/')).status).toBe(200);
  });
});
