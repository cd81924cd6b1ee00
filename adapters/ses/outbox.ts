/**
 * Outbox on AWS: email through SES v2 (raw MIME when the caller built it, to keep threading headers). SMS and WeChat
 * subscribe messages go to the notify queue for the channel senders (`NOTIFY` messages), so a slow provider never
 * holds up a case transition.
 */
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { OutboundMessage, Outbox, WorkQueue } from '#core/ports.ts';

let client: SESv2Client | undefined;

/** One SES client per container, built on first use (most invocations never send an email). */
export function sesClient(): SESv2Client {
  client ??= new SESv2Client({ maxAttempts: 4 });
  return client;
}

/** Forget the client (the local stack re-points the SDK when it restarts in the same process). */
export function resetSesClient(): void {
  client = undefined;
}

export class SesOutbox implements Outbox {
  constructor(
    private readonly ses: SESv2Client,
    private readonly from: string,
    private readonly queue: WorkQueue,
  ) {}

  async send(m: OutboundMessage): Promise<void> {
    if (m.channel !== 'email') {
      await this.queue.send('notify', [JSON.stringify(m)]);
      return;
    }
    await this.ses.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: [m.to] },
        Content: m.raw
          ? { Raw: { Data: m.raw } }
          : {
              Simple: {
                Subject: { Data: m.subject ?? '', Charset: 'UTF-8' },
                Body: { Text: { Data: m.text, Charset: 'UTF-8' } },
              },
            },
      }),
    );
  }
}
