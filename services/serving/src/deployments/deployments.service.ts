import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  categories,
  streams,
  subjects,
  type CommandMetadata,
  type DeploymentView,
  type EventData,
  type PolicyDecision,
  type RecordedEvent,
  type ShiftTrafficDto,
  type StartDeploymentDto,
} from '@mlp/contracts';
import { aggregate, handleCommand, type EventStore, type Subscription } from '@mlp/eventstore';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import { EVENT_STORE, HttpMetrics, ProjectionCatalog } from '@mlp/service-kit';
import { ServingRuntime } from '../serving-runtime';
import { evaluatePolicy } from './canary-policy';
import { deploymentEventTypes, evolve, initialState, type DeploymentEvent, type DeploymentState } from './deployment';
import { deploymentDecider, type DeploymentCommand, type Issuer } from './deployment.decide';
import { DeploymentMetrics } from './deployment-metrics';
import { DeploymentRouter, type LiveRollout } from './deployment-router';
import { deploymentView } from './deployment-view';
import { DeploymentStatesProjection, deploymentStatesSnapshot } from './deployment-states.projection';

/** How often the canary schedule (and promotions waiting for their alias) are checked. */
const TICK_MS = 1000;
/** How long a promoted version stays pinned while the registry's alias move has not arrived here yet. */
const SETTLE_MS = 60_000;

/**
 * Rollouts on this serving instance. A catch-up subscription on the
 * `deployment` category (from position 1, like the model routes) keeps
 * every model's deployment state, so all instances converge on the same
 * split; the router in the inference path reads it, and the versions an
 * active rollout needs are pinned in the ModelManager (loaded and warmed
 * before they take traffic). Commands from HTTP, NATS, the canary schedule
 * and the automatic policy all go through the decider; promotion moves the
 * registry alias first (over the transport), so the alias and the rollout
 * agree once it completes.
 */
@Injectable()
export class DeploymentsService implements OnModuleInit, OnApplicationShutdown {
  readonly router: DeploymentRouter;
  private readonly metrics: DeploymentMetrics;
  private readonly states = new Map<string, { state: DeploymentState; revision: number }>();
  /** `model:version` → the latest model metrics monitoring evaluated for it. */
  private readonly modelMetrics = new Map<string, Record<string, number>>();
  private readonly busy = new Set<string>();
  /**
   * Promoted versions whose alias move has not arrived here yet (the alias
   * and deployment events come through different subscriptions): kept
   * pinned, so the version is not dropped and loaded again in between.
   */
  private readonly settling = new Map<string, { alias: string; version: number; until: number }>();
  private subscriptions: Subscription[] = [];
  private timer?: NodeJS.Timeout;
  private pinned = '';
  private caughtUp: Promise<void> = Promise.resolve();
  /** Last global position the deployment subscription handled (for verification against a rebuild). */
  private position = 0;

  constructor(
    private readonly runtime: ServingRuntime,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(MLP_CLIENT) private readonly client: MlpClient,
    httpMetrics: HttpMetrics,
    @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog,
  ) {
    const fresh = new DeploymentStatesProjection();
    const livePosition = () => this.position;
    // `states` is the live map itself (tests reach the read model through the catalog).
    const projection = { name: fresh.name, version: fresh.version, filter: fresh.filter, states: this.states, snapshot: () => deploymentStatesSnapshot(this.states) };
    catalog?.register(
      {
        store,
        get position() {
          return livePosition();
        },
        projection,
      },
      () => new DeploymentStatesProjection(),
    );
    this.router = new DeploymentRouter(runtime.models, {
      onRouted: (live, arm, version, code, latencyMs) => {
        this.metrics.requests.inc({ model: live.model, version: String(version), arm, code });
        this.metrics.latency.observe({ model: live.model, arm }, latencyMs / 1000);
      },
      onPolicyDue: (live) => void this.decideByPolicy(live),
      onMirrored: (model, version, code) => this.metrics.shadow.inc({ model, version: String(version), code }),
    });
    this.metrics = new DeploymentMetrics(httpMetrics.registry, () =>
      this.router.all().flatMap((l) => [
        { model: l.model, arm: 'stable', version: l.rollout.stableVersion, weight: l.rollout.weights.stable },
        { model: l.model, arm: 'candidate', version: l.rollout.candidateVersion, weight: l.rollout.weights.candidate },
      ]),
    );
    runtime.inference.router = this.router;
  }

  onModuleInit(): void {
    const deployments = this.store.subscribe({ filter: { category: categories.deployment } }, (e) => this.apply(e));
    const monitor = this.store.subscribe({ filter: { category: categories.monitor } }, (e) => this.onMonitorEvent(e));
    this.subscriptions = [deployments, monitor];
    this.caughtUp = deployments.caughtUp.catch((err: unknown) => this.runtime.logger.error({ err }, 'serving could not read the deployment events'));
    // Not ready before the split is known and its versions are loaded: a restarted instance must not answer from the alias alone.
    this.runtime.models.addReadinessGate(this.caughtUp.then(() => this.runtime.models.settled()));
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Resolves once the deployment log was read (tests, readiness). */
  whenCaughtUp(): Promise<void> {
    return this.caughtUp;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.subscriptions.map((s) => s.close().catch(() => undefined)));
    this.runtime.inference.router = undefined;
  }

  // ---- commands ---------------------------------------------------------------

  start(dto: StartDeploymentDto, meta: CommandMetadata): Promise<DeploymentView> {
    const models = this.runtime.models;
    return this.execute(
      dto.model,
      {
        type: 'StartDeployment',
        model: dto.model,
        deploymentId: randomUUID(),
        strategy: dto.strategy,
        alias: dto.alias,
        version: dto.version,
        aliasVersion: models.aliasVersion(dto.model, dto.alias) ?? null,
        registered: models.isRegistered(dto.model, dto.version),
        ...(dto.weight !== undefined ? { weight: dto.weight } : {}),
        auto: dto.auto,
        ...(dto.policy ? { policy: dto.policy } : {}),
        ...(dto.schedule ? { schedule: dto.schedule } : {}),
        ...(dto.sticky ? { sticky: dto.sticky } : {}),
        reason: dto.reason ?? '',
        actor: meta.actor,
      },
      meta,
    );
  }

  shift(dto: ShiftTrafficDto, meta: CommandMetadata, by: Issuer = 'hand', deploymentId?: string): Promise<DeploymentView> {
    const weights = dto.weights ?? { stable: 100 - dto.weight!, candidate: dto.weight! };
    return this.execute(dto.model, { type: 'ShiftTraffic', model: dto.model, weights, by, ...(deploymentId ? { deploymentId } : {}), reason: dto.reason ?? '', actor: meta.actor }, meta);
  }

  /**
   * Decides on the current stream first, so an alias moves only for a
   * promotion the aggregate accepts; then asks the registry to move the
   * alias (its approvals apply: a refusal leaves the rollout active); then
   * appends the promotion.
   */
  async promote(dto: { model: string; reason?: string }, meta: CommandMetadata, by: Issuer = 'hand', decision?: PolicyDecision, deploymentId?: string): Promise<DeploymentView> {
    const command: DeploymentCommand = {
      type: 'PromoteDeployment',
      model: dto.model,
      loadedVersions: this.runtime.models
        .list()
        .filter((s) => s.loaded.name === dto.model && !s.retiring)
        .map((s) => s.loaded.version),
      by,
      ...(deploymentId ? { deploymentId } : {}),
      ...(decision ? { decision } : {}),
      reason: dto.reason ?? '',
      actor: meta.actor,
    };
    const state = aggregate(deploymentDecider, await this.store.readStream(streams.deployment(dto.model)));
    const promoted = deploymentDecider.decide(command, state).find((e) => e.type === 'DeploymentPromoted')?.data as EventData<'DeploymentPromoted'> | undefined;
    if (promoted) {
      await this.client.send(
        subjects.cmd.registry.assignAlias,
        { name: dto.model, alias: promoted.alias, version: promoted.version, reason: `rollout ${promoted.deploymentId} promoted${dto.reason ? `: ${dto.reason}` : ''}` },
        { actor: meta.actor, correlationId: meta.correlationId },
      );
    }
    return this.execute(dto.model, command, meta);
  }

  rollback(dto: { model: string; reason?: string }, meta: CommandMetadata, by: Issuer = 'hand', decision?: PolicyDecision, deploymentId?: string): Promise<DeploymentView> {
    return this.execute(
      dto.model,
      { type: 'RollbackDeployment', model: dto.model, by, ...(deploymentId ? { deploymentId } : {}), ...(decision ? { decision } : {}), reason: dto.reason ?? '', actor: meta.actor },
      meta,
    );
  }

  /** The current split and the full history, replayed from the model's deployment stream. */
  async view(model: string): Promise<DeploymentView> {
    return deploymentView(model, await this.store.readStream(streams.deployment(model)));
  }

  private async execute(model: string, command: DeploymentCommand, meta: CommandMetadata): Promise<DeploymentView> {
    await handleCommand(this.store, streams.deployment(model), deploymentDecider, command, meta);
    // This instance follows its own change at once (the subscription delivers it too, and is skipped by revision).
    const events = await this.store.readStream(streams.deployment(model));
    this.refresh(model, events);
    return deploymentView(model, events);
  }

  // ---- state from the log -------------------------------------------------------

  private apply(e: RecordedEvent): void {
    this.position = Math.max(this.position, e.position);
    if (!deploymentEventTypes.has(e.type)) return;
    const model = (e.data as { model: string }).model;
    const current = this.states.get(model) ?? { state: initialState(), revision: -1 };
    if (e.revision <= current.revision) return;
    this.set(model, evolve(current.state, { type: e.type, data: e.data } as DeploymentEvent), e.revision, e.occurredAt);
  }

  private refresh(model: string, events: readonly RecordedEvent[]): void {
    const last = events[events.length - 1];
    if (!last || last.revision <= (this.states.get(model)?.revision ?? -1)) return;
    this.set(model, aggregate(deploymentDecider, events), last.revision, last.occurredAt);
  }

  private set(model: string, state: DeploymentState, revision: number, occurredAt: string): void {
    this.states.set(model, { state, revision });
    const at = Date.parse(occurredAt);
    this.router.set(model, state.status === 'Active' && !state.ending ? state.rollout : null, at);
    const promoted =
      state.status === 'Idle' && state.outcome === 'promoted'
        ? { alias: state.alias, version: state.stableVersion }
        : state.status === 'Active' && state.ending === 'promoted'
          ? { alias: state.rollout.alias, version: state.rollout.candidateVersion }
          : undefined;
    if (promoted && at + SETTLE_MS > Date.now() && this.runtime.models.aliasVersion(model, promoted.alias) !== promoted.version) {
      this.settling.set(model, { ...promoted, until: at + SETTLE_MS });
    } else {
      this.settling.delete(model);
    }
    this.updatePins();
  }

  /** Pins what active rollouts route to, and promoted versions still waiting for their alias. */
  private updatePins(): void {
    const pins = this.router.all().flatMap((l) => [
      { name: l.model, version: l.rollout.stableVersion },
      { name: l.model, version: l.rollout.candidateVersion },
    ]);
    for (const [name, s] of this.settling) pins.push({ name, version: s.version });
    const key = JSON.stringify(pins);
    if (key !== this.pinned) {
      this.pinned = key;
      void this.runtime.models.setPins(pins);
    }
  }

  private onMonitorEvent(e: RecordedEvent): void {
    if (e.type !== 'PerformanceEvaluated') return;
    const d = e.data as EventData<'PerformanceEvaluated'>;
    this.modelMetrics.set(`${d.model}:${d.version}`, d.metrics);
  }

  // ---- schedule and policy ----------------------------------------------------------

  private systemMeta(): CommandMetadata {
    return { now: new Date().toISOString(), correlationId: randomUUID(), causationId: null, actor: `serving:${this.runtime.config.instance}` };
  }

  /** Runs one automatic command per model at a time; failures are logged (the next tick or evaluation tries again). */
  private automatic(model: string, what: string, run: () => Promise<unknown>): Promise<void> {
    if (this.busy.has(model)) return Promise.resolve();
    this.busy.add(model);
    return run()
      .then(() => undefined)
      .catch((err: unknown) => this.runtime.logger.warn({ err, model }, `rollout ${what} failed`))
      .finally(() => this.busy.delete(model));
  }

  /** Moves scheduled canaries to their next step when due; past the last step, promotes (unless a policy decides). */
  private tick(): void {
    const now = Date.now();
    let settled = false;
    for (const [model, s] of this.settling) {
      if (now <= s.until && this.runtime.models.aliasVersion(model, s.alias) !== s.version) continue;
      this.settling.delete(model);
      settled = true;
    }
    if (settled) this.updatePins();
    for (const live of this.router.all()) {
      const r = live.rollout;
      if (!r.schedule || now - live.changedAt < r.schedule.everySeconds * 1000) continue;
      const next = r.schedule.steps.find((s) => s > r.weights.candidate);
      const meta = this.systemMeta();
      if (next !== undefined) {
        void this.automatic(live.model, 'schedule step', () =>
          this.shift({ model: live.model, weights: { stable: 100 - next, candidate: next }, reason: `schedule: step to ${next}%` }, meta, 'schedule', r.deploymentId),
        );
      } else if (!r.policy) {
        void this.automatic(live.model, 'scheduled promotion', () => this.promote({ model: live.model, reason: 'schedule: last step held' }, meta, 'schedule', undefined, r.deploymentId));
      }
    }
  }

  /** The canary policy's verdict after every `minRequests` candidate requests (a promotion waits for the schedule's last step). */
  private decideByPolicy(live: LiveRollout): Promise<void> {
    const r = live.rollout;
    if (!r.policy) return Promise.resolve();
    const s = live.stats.candidate;
    const decision = evaluatePolicy(r.policy, { requests: s.requests, errors: s.errors, p99Ms: s.p99(), metrics: this.modelMetrics.get(`${live.model}:${r.candidateVersion}`) });
    this.metrics.decisions.inc({ model: live.model, outcome: decision.outcome });
    if (decision.outcome === 'promote' && r.schedule?.steps.some((step) => step > r.weights.candidate)) return Promise.resolve();
    const meta = this.systemMeta();
    const reason = decision.outcome === 'promote' ? 'canary policy: healthy' : `canary policy: ${decision.reasons.join('; ')}`;
    return this.automatic(live.model, `policy ${decision.outcome}`, () =>
      decision.outcome === 'promote'
        ? this.promote({ model: live.model, reason }, meta, 'policy', decision, r.deploymentId)
        : this.rollback({ model: live.model, reason }, meta, 'policy', decision, r.deploymentId),
    );
  }
}
