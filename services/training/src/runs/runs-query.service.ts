import { Inject, Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { NotFoundError, ValidationError } from '@mlp/contracts';
import { ProjectionRunner, type EventStore } from '@mlp/eventstore';
import { lowerIsBetter } from '@mlp/ml';
import { EVENT_STORE, ProjectionCatalog } from '@mlp/service-kit';
import { RunsProjection, type RunView } from './runs.projection';

export interface ListRunsQuery {
  experiment?: string;
  status?: string;
  /** Sort by this holdout metric, best first (lower-is-better metrics ascending). */
  orderBy?: string;
  limit?: number;
}

/** Experiments, runs, comparisons and curves from the runs read model. */
@Injectable()
export class RunsQueryService implements OnModuleInit, OnApplicationShutdown {
  readonly projection = new RunsProjection();
  private readonly runner: ProjectionRunner<RunsProjection>;

  constructor(@Inject(EVENT_STORE) store: EventStore, @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog) {
    this.runner = new ProjectionRunner(store, this.projection);
    catalog?.register(this.runner, () => new RunsProjection());
  }

  async onModuleInit(): Promise<void> {
    await this.runner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }

  waitFor(position: number): Promise<void> {
    return this.runner.waitFor(position);
  }

  experiments() {
    return [...this.projection.experiments.values()].map((e) => {
      const runs = e.runs.map((id) => this.projection.runs.get(id)).filter((r): r is RunView => !!r);
      return { experiment: e.experiment, createdAt: e.createdAt, runs: runs.length, completed: runs.filter((r) => r.status === 'Completed').length, lastRun: runs[runs.length - 1]?.runId };
    });
  }

  list(q: ListRunsQuery = {}): RunView[] {
    let runs = [...this.projection.runs.values()];
    if (q.experiment) runs = runs.filter((r) => r.experiment === q.experiment);
    if (q.status) runs = runs.filter((r) => r.status.toLowerCase() === q.status!.toLowerCase());
    if (q.orderBy) {
      const m = q.orderBy;
      const sign = lowerIsBetter.has(m) ? 1 : -1;
      runs = runs.filter((r) => r.metrics?.[m] !== undefined).sort((a, b) => sign * (a.metrics![m] - b.metrics![m]));
    } else {
      runs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    }
    return runs.slice(0, q.limit ?? 100);
  }

  get(runId: string): RunView {
    const run = this.projection.runs.get(runId);
    if (!run) throw new NotFoundError(`run ${runId} does not exist`, { code: 'RUN_NOT_FOUND' });
    return run;
  }

  /** Per-epoch curves of a run: the final fit's and each trial fold's (latest attempt). */
  curves(runId: string): { runId: string; curves: Record<string, { epoch: number; metrics: Record<string, number> }[]> } {
    this.get(runId);
    const byKey = this.projection.curves.get(runId) ?? new Map();
    return { runId, curves: Object.fromEntries([...byKey].map(([k, v]) => [k, v.points])) };
  }

  /** Side-by-side holdout metrics and parameters of runs, with each metric's difference from the first run. */
  compare(ids: string[]) {
    if (ids.length < 2) throw new ValidationError('compare needs at least two run ids', [{ path: 'ids', message: 'give two or more run ids' }]);
    const runs = ids.map((id) => this.get(id));
    const metrics = [...new Set(runs.flatMap((r) => Object.keys(r.metrics ?? {})))].sort();
    const table = metrics.map((m) => {
      const values = runs.map((r) => r.metrics?.[m] ?? null);
      const base = values[0];
      const valid = values.filter((v): v is number => v !== null);
      const best = valid.length ? (lowerIsBetter.has(m) ? Math.min(...valid) : Math.max(...valid)) : null;
      return { metric: m, values, deltas: values.map((v) => (v === null || base === null ? null : v - base)), best: best === null ? null : runs[values.indexOf(best)].runId };
    });
    return {
      runs: runs.map((r) => ({ runId: r.runId, experiment: r.experiment, status: r.status, params: r.params ?? {}, blessed: r.blessed ?? false, weightsSha256: r.weightsSha256 })),
      metrics: table,
    };
  }
}
