/**
 * Local SMTP listener (`npm start`): mail sent to 127.0.0.1:SMTP_PORT (default 2525) takes the AWS path's shape:
 * the raw message is written where SES's S3 action would put it (`raw/email/ses/<id>` in the local blobs, with the
 * envelope sender prepended as `Return-Path`, as SES does) and the `email-inbound` function is invoked with an SES
 * event. Size-limited like SES (the parser's 25 MB), loopback only, no AUTH/STARTTLS (nothing leaves this machine).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { SESEvent } from 'aws-lambda';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { EMAIL_DEFAULTS } from '#channels/email/parse.ts';
import { rawPrefix } from '#functions/email/inbound.ts';
import { getRuntime } from '#functions/lib/runtime.ts';
import type { LocalService, LocalServiceContext } from '../stack.ts';

export const FUNCTION_ID = 'email-inbound';

/** An SES Lambda-action event for one message, with no verdicts (nothing scans mail locally). */
export function sesEventFor(messageId: string, session: SMTPServerSession, at: Date): SESEvent {
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const to = session.envelope.rcptTo.map((r) => r.address);
  return {
    Records: [
      {
        eventSource: 'aws:ses',
        eventVersion: '1.0',
        ses: {
          mail: {
            timestamp: at.toISOString(),
            source: from,
            messageId,
            destination: to,
            headersTruncated: false,
            headers: [],
            commonHeaders: { returnPath: from, messageId, date: at.toUTCString(), from: [from], to },
          },
          receipt: {
            timestamp: at.toISOString(),
            processingTimeMillis: 0,
            recipients: to,
            action: {
              type: 'Lambda',
              functionArn: `arn:aws:lambda:local:000000000000:function:${FUNCTION_ID}`,
              invocationType: 'RequestResponse',
            },
          },
        },
      },
    ],
  } as unknown as SESEvent;
}

function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export async function start(ctx: LocalServiceContext): Promise<LocalService> {
  const port = ctx.options.smtpPort ?? Number(process.env.SMTP_PORT ?? 2525);
  const maxBytes = EMAIL_DEFAULTS.maxBytes;
  const server = new SMTPServer({
    banner: 'CityLoop 12345 local SMTP',
    size: maxBytes,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    maxClients: 20,
    socketTimeout: 60_000,
    async onData(stream, session, callback) {
      try {
        const data = await readAll(stream);
        if (stream.sizeExceeded) {
          const err = Object.assign(new Error(`邮件超过 ${maxBytes} 字节 message exceeds the size limit`), {
            responseCode: 552,
          });
          callback(err);
          return;
        }
        const id = randomUUID().replace(/-/g, '');
        const now = new Date();
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const raw = Buffer.concat([Buffer.from(`Return-Path: <${from.replace(/[\r\n<>]/g, '')}>\r\n`), data]);
        await getRuntime().blobs.put(`${rawPrefix()}${id}`, raw, 'message/rfc822');
        await ctx.stack.invoke(FUNCTION_ID, sesEventFor(id, session, now));
        callback(null, `Message queued as ${id}`);
      } catch (e) {
        ctx.log(`[smtp] ${(e as Error).message}`);
        callback(Object.assign(new Error('暂时无法处理 temporary failure, try again later'), { responseCode: 451 }));
      }
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  server.on('error', (e) => ctx.log(`[smtp] ${(e as Error).message}`));
  const actual = (server.server.address() as AddressInfo).port;
  return {
    name: 'smtp',
    describe: `smtp://127.0.0.1:${actual}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
