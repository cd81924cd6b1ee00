/**
 * The local SMTP listener on its own (no emulators): what a client sends over SMTP is stored where SES's S3 action
 * would put it, with the envelope sender as Return-Path, and handed to `email-inbound` as an SES event; oversize mail
 * is refused with 552, a failing function with a temporary 451 (the client retries).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SESEvent } from 'aws-lambda';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEmail } from '#channels/email/parse.ts';
import { getRuntime, resetRuntime } from '#functions/lib/runtime.ts';
import { start } from '#local/services/smtp.ts';
import type { LocalService, LocalStack } from '#local/stack.ts';

describe('Local service: SMTP listener', () => {
  const invoked: { id: string; event: SESEvent }[] = [];
  let fail = false;
  let service: LocalService;
  let dataDir: string;
  let port: number;
  const saved = { dir: process.env.CITYLOOP_DATA_DIR, table: process.env.TABLE_NAME };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cityloop-smtp-'));
    // the runtime the listener writes blobs through: files under the data dir (the table is never reached here)
    process.env.CITYLOOP_DATA_DIR = dataDir;
    process.env.TABLE_NAME = 'cityloop-smtp-test';
    resetRuntime();
    const stack = {
      invoke: async (id: string, event: unknown) => {
        if (fail) throw new Error('function failed');
        invoked.push({ id, event: event as SESEvent });
        return {};
      },
    } as unknown as LocalStack;
    service = await start({ stack, options: { smtpPort: 0 }, log: () => undefined });
    port = Number(/:(\d+)$/.exec(service.describe)?.[1]);
  });
  afterAll(async () => {
    await service?.stop();
    resetRuntime();
    for (const [k, v] of [
      ['CITYLOOP_DATA_DIR', saved.dir],
      ['TABLE_NAME', saved.table],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const transport = () => nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });

  it('should listen on loopback only, on the port it was given (0: any free port)', () => {
    // Assess
    expect(service.describe).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/);
    expect(port).toBeGreaterThan(0);
  });

  it('should store the raw mail with Return-Path and invoke email-inbound with an SES event', async () => {
    // Prepare
    const raw = Buffer.from('From: a@b.cn\r\nSubject: =?UTF-8?B?6Lev54Gv?=\r\nMessage-ID: <x1@b.cn>\r\n\r\nhello\r\n');
    // Act
    const info = await transport().sendMail({ envelope: { from: 'a@b.cn', to: ['12345@city.example.cn'] }, raw });
    // Assess
    expect(info.response).toMatch(/^250 .*queued as [0-9a-f]{32}/);
    expect(invoked).toHaveLength(1);
    const record = invoked[0]?.event.Records[0];
    expect(invoked[0]?.id).toBe('email-inbound');
    expect(record?.ses.receipt.recipients).toEqual(['12345@city.example.cn']);
    const stored = await getRuntime().blobs.get(`raw/email/ses/${record?.ses.mail.messageId}`);
    const text = Buffer.from(stored as Uint8Array).toString('utf8');
    expect(text.startsWith('Return-Path: <a@b.cn>\r\nFrom: a@b.cn\r\n')).toBe(true);
    expect((await parseEmail(Buffer.from(stored as Uint8Array))).subject).toBe('路灯');
  });

  it('should record a null sender as Return-Path <> (bounces), so the mail is seen as machine-written', async () => {
    // Act
    await transport().sendMail({
      envelope: { from: '', to: ['12345@city.example.cn'] },
      raw: Buffer.from('From: MAILER-DAEMON@mx.example.com\r\nSubject: failure\r\n\r\nundeliverable\r\n'),
    });
    // Assess
    const id = invoked.at(-1)?.event.Records[0]?.ses.mail.messageId;
    const parsed = await parseEmail(Buffer.from((await getRuntime().blobs.get(`raw/email/ses/${id}`)) as Uint8Array));
    expect(parsed.loop.reasons).toEqual(expect.arrayContaining(['NULL_RETURN_PATH']));
  });

  it('should refuse mail over 25 MB with 552 and answer 451 when the function fails', async () => {
    // Prepare
    const big = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), Buffer.alloc(26 * 1024 * 1024, 0x61)]);
    const envelope = { from: 'a@b.cn', to: ['12345@city.example.cn'] };
    const count = invoked.length;
    // Act
    const tooBig = await transport()
      .sendMail({ envelope, raw: big })
      .catch((e: { responseCode?: number }) => e);
    fail = true;
    const failed = await transport()
      .sendMail({ envelope, raw: Buffer.from('Subject: x\r\n\r\nx\r\n') })
      .catch((e: { responseCode?: number }) => e);
    fail = false;
    // Assess
    expect((tooBig as { responseCode?: number }).responseCode).toBe(552);
    expect((failed as { responseCode?: number }).responseCode).toBe(451);
    expect(invoked).toHaveLength(count);
  });
});
