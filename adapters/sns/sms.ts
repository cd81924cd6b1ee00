/**
 * SMS to citizens through Amazon SNS `Publish` to a phone number (no topic): transactional, with the sender id when
 * the city has one registered (`SMS_SENDER_ID`; ignored by carriers of countries without sender ids).
 * https://docs.aws.amazon.com/sns/latest/dg/sms_publish-to-phone.html
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { CityLoopError } from '#core/errors.ts';
import { E164 } from '#core/notify/message.ts';

let client: SNSClient | undefined;

/** One SNS client per container, built on first use. */
export function snsClient(): SNSClient {
  client ??= new SNSClient({ maxAttempts: 3 });
  return client;
}

/** Forget the client (tests and the local stack re-point the SDK). */
export function resetSnsClient(): void {
  client = undefined;
}

/** Sender ids: 1-11 letters and digits, at least one letter (SNS rule). */
export const SENDER_ID = /^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$/;

export class SnsSmsSender {
  constructor(
    private readonly sns: SNSClient,
    private readonly senderId?: string,
  ) {
    if (senderId !== undefined && !SENDER_ID.test(senderId)) {
      throw new CityLoopError('SMS_CONFIG_INVALID', 'SMS_SENDER_ID must be 1-11 letters and digits', 500);
    }
  }

  /** Publishes `text` to the E.164 `phone`; resolves SNS's message id. SDK errors are rethrown as they are. */
  async send(phone: string, text: string): Promise<{ messageId?: string }> {
    if (!E164.test(phone)) throw new CityLoopError('INVALID_PHONE', 'SMS needs an E.164 phone number', 400);
    const out = await this.sns.send(
      new PublishCommand({
        PhoneNumber: phone,
        Message: text,
        MessageAttributes: {
          'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
          ...(this.senderId ? { 'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: this.senderId } } : {}),
        },
      }),
    );
    return out.MessageId ? { messageId: out.MessageId } : {};
  }
}
