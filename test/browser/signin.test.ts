/**
 * Staff sign-in through a hosted login page (the Cognito hosted UI on AWS), in real Chromium: the console reads
 * `/config.json`, sends the agent to the authorization endpoint with a PKCE challenge, exchanges the returned code
 * with the verifier, works with the token, and signs out at the hosted page too. The identity provider is played
 * by request interception on the stack's own origin (127.0.0.1): it checks what a real one checks (state,
 * redirect URI, S256 challenge against the verifier) and hands out a local API key as the "ID token", which the
 * local stack accepts as `Authorization: Bearer <key>` like the JWT authorizer accepts Cognito's token.
 */
import { createHash } from 'node:crypto';
import type { Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack.ts';
import { startTestStack } from '../helpers/local-stack.ts';
import { type Browser, buildPages, launchBrowser, screenshot } from './helpers.ts';

const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: 15_000, interval: 200 });

describe('Browser: hosted staff sign-in (authorization code + PKCE)', () => {
  let stack: LocalStack;
  let cleanup: () => Promise<void>;
  let browser: Browser;
  const idp = { challenge: '', codes: 0, exchanges: [] as Record<string, string>[], logouts: [] as string[] };

  beforeAll(async () => {
    await buildPages();
    ({ stack, cleanup } = await startTestStack());
    browser = await launchBrowser();
    const base = `${stack.info.url}/__idp`;
    await browser.context.route(`${stack.info.url}/config.json`, (route: Route) =>
      route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({
          auth: {
            mode: 'oauth',
            oauth: {
              clientId: 'pages-client',
              scopes: ['openid', 'email', 'profile'],
              authorizeUrl: `${base}/oauth2/authorize`,
              tokenUrl: `${base}/oauth2/token`,
              logoutUrl: `${base}/logout`,
            },
          },
        }),
      }),
    );
    await browser.context.route(`${base}/oauth2/authorize?*`, (route: Route) => {
      const q = new URL(route.request().url()).searchParams;
      const ok =
        q.get('response_type') === 'code' &&
        q.get('client_id') === 'pages-client' &&
        q.get('code_challenge_method') === 'S256' &&
        q.get('redirect_uri') === `${stack.info.url}/agent/`;
      if (!ok) return route.fulfill({ status: 400, body: 'bad authorization request' });
      idp.challenge = q.get('code_challenge') ?? '';
      idp.codes++;
      return route.fulfill({
        status: 302,
        headers: { location: `${q.get('redirect_uri')}?code=code-${idp.codes}&state=${q.get('state')}` },
      });
    });
    await browser.context.route(`${base}/oauth2/token`, (route: Route) => {
      const form = Object.fromEntries(new URLSearchParams(route.request().postData() ?? ''));
      idp.exchanges.push(form);
      const verified =
        createHash('sha256')
          .update(form.code_verifier ?? '')
          .digest('base64url') === idp.challenge;
      if (form.grant_type !== 'authorization_code' || form.code !== `code-${idp.codes}` || !verified) {
        return route.fulfill({ status: 400, contentType: 'application/json', body: '{"error":"invalid_grant"}' });
      }
      return route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({
          id_token: 'local-agent-001',
          refresh_token: 'r-1',
          expires_in: 3600,
          token_type: 'Bearer',
        }),
      });
    });
    await browser.context.route(`${base}/logout?*`, (route: Route) => {
      const q = new URL(route.request().url()).searchParams;
      idp.logouts.push(q.get('logout_uri') ?? '');
      return route.fulfill({ status: 302, headers: { location: q.get('logout_uri') ?? '/' } });
    });
  });

  afterAll(async () => {
    await browser?.close();
    await cleanup?.();
  });

  it('should sign the agent in at the hosted page, work with the token, and sign out there too', async () => {
    // Prepare
    const page = await browser.newPage();
    await page.goto(`${stack.info.url}/agent/`);
    const button = page.locator('#hosted-signin');
    await button.waitFor();
    expect(await page.locator('input[name=credential]').count()).toBe(0);
    await screenshot(page, '13-staff-hosted-signin');
    // Act: go to the hosted page and come back with a code.
    await button.click();
    await page.locator('#agent-text').waitFor();
    // Assess: the code was exchanged with the verifier of the challenge, and is gone from the address bar.
    expect(idp.exchanges).toHaveLength(1);
    expect(idp.exchanges[0]).toMatchObject({ client_id: 'pages-client', redirect_uri: `${stack.info.url}/agent/` });
    expect(page.url()).toBe(`${stack.info.url}/agent/`);
    const stored = await page.evaluate(() => sessionStorage.getItem('cityloop.staff.agent'));
    expect(JSON.parse(stored ?? '{}')).toMatchObject({ kind: 'bearer', value: 'local-agent-001', refreshToken: 'r-1' });
    // The API takes the token: draft assistance answers while the agent types.
    await page.fill('#agent-text', '和平路88号路灯坏了，晚上很黑');
    await poll(() => page.locator('#suggested-category').count()).toBe(1);
    // Act: sign out.
    await page.getByRole('button', { name: '退出' }).click();
    // Assess: the hosted session ends too, and the console asks to sign in again.
    await page.locator('#hosted-signin').waitFor();
    expect(idp.logouts).toEqual([`${stack.info.url}/agent/`]);
    expect(await page.evaluate(() => sessionStorage.getItem('cityloop.staff.agent'))).toBeNull();
    expect(browser.problems).toEqual([]);
  });

  it('should refuse a callback this tab did not start (a forged or replayed code)', async () => {
    // Prepare
    const page = await browser.newPage();
    // Act
    await page.goto(`${stack.info.url}/agent/?code=code-1&state=forged`);
    // Assess
    await poll(async () => (await page.locator('.signin').textContent()) ?? '').toContain('登录请求已失效');
    expect(idp.exchanges).toHaveLength(1);
    expect(page.url()).toBe(`${stack.info.url}/agent/`);
  });
});
