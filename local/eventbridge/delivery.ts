/**
 * Target delivery: asynchronous like EventBridge, retried a bounded number of times with exponential
 * backoff, then sent to the target's dead-letter queue when it has one, else logged and dropped.
 * (AWS retries for up to 24 h / 185 times; locally a few quick attempts show the same outcome.)
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
 */

export type Deliver = (targetArn: string, body: string) => Promise<void>;

export interface DeliveryJob {
  ruleArn: string;
  targetId: string;
  targetArn: string;
  /** What the target receives (after Input/InputPath/InputTransformer). */
  body: string;
  /** What the dead-letter queue receives: the original event. */
  event: string;
  dlqArn: string | undefined;
  maxAttempts: number;
  /** Stop retrying once the event is this old (RetryPolicy.MaximumEventAgeInSeconds). */
  maxAgeMs: number;
}

export interface DeliveryStats {
  delivered: number;
  retried: number;
  deadLettered: number;
  dropped: number;
}

export interface DispatcherOptions {
  retryDelayMs: number;
  attemptTimeoutMs: number;
  log: (line: string) => void;
}

/** Runs deliveries in the background and knows which are still under way. */
export class Dispatcher {
  readonly stats: DeliveryStats = { delivered: 0, retried: 0, deadLettered: 0, dropped: 0 };
  private readonly inflight = new Set<Promise<void>>();
  private readonly sleepers = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly deliver: Deliver,
    private readonly opts: DispatcherOptions,
  ) {}

  submit(job: DeliveryJob): void {
    const p: Promise<void> = this.run(job).finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** Resolves once every delivery submitted so far (and any they lead to) has finished. */
  async drain(): Promise<void> {
    for (let round = 0; round < 1000 && this.inflight.size > 0; round++) {
      await Promise.allSettled([...this.inflight]);
    }
  }

  /** Cuts pending retry waits short; deliveries still failing are dropped (and logged), never dead-lettered. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const wake of this.sleepers) wake();
    await this.drain();
  }

  private async run(job: DeliveryJob): Promise<void> {
    const started = Date.now();
    let lastError = '';
    for (let attempt = 1; attempt <= job.maxAttempts; attempt++) {
      try {
        await this.attempt(job.targetArn, job.body);
        this.stats.delivered++;
        return;
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
      }
      const last = attempt === job.maxAttempts || Date.now() - started >= job.maxAgeMs;
      if (last || this.stopped) break;
      this.stats.retried++;
      await this.sleep(this.opts.retryDelayMs * 2 ** (attempt - 1));
      if (this.stopped) break;
    }
    const where = `rule ${job.ruleArn} target ${job.targetId} (${job.targetArn})`;
    if (this.stopped) {
      this.stats.dropped++;
      this.opts.log(`eventbridge: dropped on shutdown, ${where}: ${lastError}`);
      return;
    }
    if (job.dlqArn === undefined) {
      this.stats.dropped++;
      this.opts.log(`eventbridge: delivery failed, no dead-letter queue, dropped: ${where}: ${lastError}`);
      return;
    }
    try {
      await this.attempt(job.dlqArn, job.event);
      this.stats.deadLettered++;
      this.opts.log(`eventbridge: delivery failed, sent to dead-letter queue ${job.dlqArn}: ${where}: ${lastError}`);
    } catch (e) {
      this.stats.dropped++;
      const why = e instanceof Error ? e.message : String(e);
      this.opts.log(`eventbridge: delivery and dead-letter queue ${job.dlqArn} both failed, dropped: ${where}: ${why}`);
    }
  }

  private async attempt(arn: string, body: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer in ${this.opts.attemptTimeoutMs} ms`)),
        this.opts.attemptTimeoutMs,
      );
    });
    try {
      await Promise.race([this.deliver(arn, body), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
