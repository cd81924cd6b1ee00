/**
 * Hands out tracking numbers from blocks reserved in the store (one atomic ADD per block, not per report).
 * Numbers are unique; they are increasing within one container, not across containers.
 */
import { formatTrackingNo, shanghaiDay, type TrackingNo } from '../ids.ts';
import type { SequenceStore } from '../ports.ts';

export class TrackingNumbers {
  private day = '';
  private next = 0;
  private end = 0;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly store: SequenceStore,
    private readonly blockSize = 20,
  ) {}

  async allocate(at: Date): Promise<TrackingNo> {
    const day = shanghaiDay(at);
    while (day !== this.day || this.next >= this.end) {
      // One reservation in flight at a time; concurrent callers wait for it and then take from the block.
      if (!this.pending) {
        this.pending = (async () => {
          const first = await this.store.reserveSequence(day, this.blockSize);
          this.day = day;
          this.next = first;
          this.end = first + this.blockSize;
        })().finally(() => {
          this.pending = undefined;
        });
      }
      await this.pending;
    }
    return formatTrackingNo(day, this.next++);
  }
}
