/**
 * The bus port on EventBridge. PutEvents takes ≤10 entries per call and can fail per entry
 * (`FailedEntryCount`): only the failed entries are sent again, a bounded number of times.
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Bus, BusEvent } from '#core/ports.ts';
import { EVENT_SOURCE } from '#core/topology.ts';

let client: EventBridgeClient | undefined;
export function eventBridgeClient(): EventBridgeClient {
  client ??= new EventBridgeClient({ maxAttempts: 4 });
  return client;
}

const BATCH = 10;

export class EventBridgeBus implements Bus {
  constructor(
    private readonly eb: EventBridgeClient,
    private readonly busName: string,
    private readonly attempts = 3,
  ) {}

  async publish(events: BusEvent[]): Promise<{ failed: number[] }> {
    const entries: PutEventsRequestEntry[] = events.map((e) => ({
      EventBusName: this.busName,
      Source: EVENT_SOURCE,
      DetailType: e.detailType,
      Detail: JSON.stringify(e.detail),
      ...(e.resources ? { Resources: e.resources } : {}),
    }));
    let pending = entries.map((_, i) => i);
    for (let attempt = 0; attempt < this.attempts && pending.length > 0; attempt++) {
      const stillFailed: number[] = [];
      for (let i = 0; i < pending.length; i += BATCH) {
        const idx = pending.slice(i, i + BATCH);
        try {
          const out = await this.eb.send(new PutEventsCommand({ Entries: idx.map((j) => entries[j]!) }));
          if (out.FailedEntryCount) {
            out.Entries?.forEach((r, k) => {
              if (r.ErrorCode) stillFailed.push(idx[k]!);
            });
          }
        } catch {
          stillFailed.push(...idx);
        }
      }
      pending = stillFailed;
      if (pending.length > 0 && attempt + 1 < this.attempts) await sleep(50 * 2 ** attempt);
    }
    return { failed: pending };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Forget the client (the local stack re-points the SDK when it restarts in the same process). */
export function resetEventBridgeClient(): void {
  client = undefined;
}
