import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Cron } from 'croner';
import { randomUUID } from 'node:crypto';
import { SERVICE_LOGGER, type Logger } from '@mlp/service-kit';
import { PoliciesService } from '../policies/policies.service';
import type { PolicyView } from '../policies/policies.projection';
import { missedFiring } from './retraining-schedule';

/**
 * Cron retraining per policy (croner). Each firing is a FireSchedule command
 * carrying its scheduled time; the decider records RetrainingScheduleFired
 * once per time, so instances that fire together, or a restart, never double
 * it. At start (and when a policy is applied) the latest time missed since
 * the last recorded firing is fired once, marked `catchUp`.
 */
@Injectable()
export class RetrainingSchedulerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly jobs = new Map<string, { sha256: string; job: Cron }>();
  private started = false;

  constructor(
    private readonly policies: PoliciesService,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.started = true;
    this.policies.projection.onApplied((view) => void this.arm(view));
    for (const view of this.policies.list()) await this.arm(view);
  }

  onModuleDestroy(): void {
    this.started = false;
    for (const { job } of this.jobs.values()) job.stop();
    this.jobs.clear();
  }

  /** (Re)schedules a model's retraining after its policy changed; catches up a missed firing first. */
  async arm(view: PolicyView, now = new Date()): Promise<void> {
    if (!this.started) return;
    const current = this.jobs.get(view.model);
    if (current?.sha256 === view.sha256) return;
    current?.job.stop();
    this.jobs.delete(view.model);
    const schedule = view.policy.schedule;
    if (!schedule) return;
    const missed = missedFiring(schedule.retrain, schedule.timezone, view.lastScheduledAt ?? view.appliedAt, now);
    if (missed) await this.fire(view.model, missed, true);
    const job = new Cron(schedule.retrain, { timezone: schedule.timezone ?? 'UTC', protect: true }, async (self: Cron) => {
      const due = self.currentRun();
      if (due) await this.fire(view.model, due.toISOString(), false);
    });
    this.jobs.set(view.model, { sha256: view.sha256, job });
  }

  /** Records one firing (once per scheduled time, whoever fires it). */
  async fire(model: string, scheduledAt: string, catchUp: boolean): Promise<void> {
    try {
      const result = await this.policies.execute(model, { type: 'FireSchedule', model, scheduledAt, catchUp }, { now: new Date().toISOString(), correlationId: randomUUID(), causationId: null, actor: 'monitoring.scheduler' });
      if (result.events.length > 0) this.logger.info({ model, scheduledAt, catchUp }, 'scheduled retraining fired');
    } catch (err) {
      this.logger.error({ err, model, scheduledAt }, 'could not record a scheduled retraining');
    }
  }
}
