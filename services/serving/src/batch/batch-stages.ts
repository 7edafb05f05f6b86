/**
 * Time spent per stage of a batch job, for the batch bench: on only with
 * MLP_BATCH_STAGES=1, when each run prints `BATCH_STAGES <json>` (ms per
 * stage) as it ends. Stages run concurrently (a chunk's store overlaps the
 * next one's predict): each figure is that stage's own elapsed time.
 */
export class BatchStages {
  private readonly ms = new Map<string, number>();

  constructor(readonly enabled = process.env.MLP_BATCH_STAGES === '1') {}

  time<T>(stage: string, fn: () => T): T {
    const t = performance.now();
    try {
      return fn();
    } finally {
      this.add(stage, performance.now() - t);
    }
  }

  async timeAsync<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.add(stage, performance.now() - t);
    }
  }

  add(stage: string, ms: number): void {
    this.ms.set(stage, (this.ms.get(stage) ?? 0) + ms);
  }

  times(): Record<string, number> {
    return Object.fromEntries(this.ms);
  }

  print(label: string): void {
    if (!this.enabled) return;
    console.log(`BATCH_STAGES ${label} ${JSON.stringify(Object.fromEntries([...this.ms].map(([k, v]) => [k, Math.round(v)])))}`);
  }
}
