import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { NotFoundError, streams, type CommandMetadata, type MonitoringPolicy } from '@mlp/contracts';
import { handleCommand, ProjectionRunner, type EventStore, type RunningProcessManager } from '@mlp/eventstore';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import { EVENT_STORE, ProjectionCatalog, SERVICE_CONFIG, SERVICE_LOGGER, startProcessManager, type BaseConfig, type Logger } from '@mlp/service-kit';
import { WebhookSecrets } from '../alerts/webhook-secrets';
import { monitorPolicyDecider, type PolicyCommand } from './monitor-policy.decide';
import { PoliciesProjection, type PolicyView } from './policies.projection';
import { parsePolicy, parsePolicyYaml, policySha256 } from './policy';
import { policyActionsProcessManager } from './policy-actions.process-manager';
import { policyReactionsProcessManager } from './policy-reactions.process-manager';

export interface ApplyPolicyResult {
  model: string;
  sha256: string;
  /** False when the same policy was already in force. */
  changed: boolean;
  policy: MonitoringPolicy;
}

/** Applies policies (stream `monitor-<model>`), serves them, and runs the policy's reactions and actions. */
@Injectable()
export class PoliciesService implements OnModuleInit, OnModuleDestroy {
  readonly projection = new PoliciesProjection();
  private readonly runner: ProjectionRunner<PoliciesProjection>;
  private managers: RunningProcessManager[] = [];
  private readonly secrets: WebhookSecrets;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(MLP_CLIENT) private readonly client: MlpClient,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_CONFIG) base: BaseConfig,
    @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog,
  ) {
    this.secrets = WebhookSecrets.fromEnv(process.env, base.MLP_HOME);
    this.runner = new ProjectionRunner(store, this.projection);
    catalog?.register(this.runner, () => new PoliciesProjection());
  }

  async onModuleInit(): Promise<void> {
    await this.runner.start();
    this.managers = [
      await startProcessManager(this.store, policyReactionsProcessManager(), this.logger),
      await startProcessManager(this.store, policyActionsProcessManager(this.client, this.logger), this.logger),
    ];
  }

  async onModuleDestroy(): Promise<void> {
    for (const m of this.managers) await m.stop();
    await this.runner.stop();
  }

  /**
   * A policy from YAML text or JSON, validated (400 with every bad field), its
   * webhook's secrets sealed (see WebhookSecrets), recorded unless already in force.
   */
  async apply(input: { yaml: string } | { policy: unknown }, meta: CommandMetadata): Promise<ApplyPolicyResult> {
    const parsed = 'yaml' in input ? parsePolicyYaml(input.yaml) : parsePolicy(input.policy);
    const webhook = parsed.alerts?.webhook;
    const policy = webhook === undefined ? parsed : { ...parsed, alerts: { ...parsed.alerts!, webhook: this.secrets.seal(webhook) } };
    const sha256 = policySha256(policy);
    const result = await this.execute(policy.model, { type: 'ApplyPolicy', policy, sha256 }, meta);
    if (result.position >= 0) await this.runner.waitFor(result.position);
    return { model: policy.model, sha256, changed: result.events.length > 0, policy };
  }

  execute(model: string, command: PolicyCommand, meta: CommandMetadata) {
    return handleCommand(this.store, streams.monitor(model), monitorPolicyDecider, command, meta);
  }

  get(model: string): PolicyView {
    const view = this.projection.get(model);
    if (!view) throw new NotFoundError(`no monitoring policy for model '${model}'`, { code: 'POLICY_NOT_FOUND' });
    return view;
  }

  list(): PolicyView[] {
    return this.projection.list();
  }
}
