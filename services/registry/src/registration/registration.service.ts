import { readFileSync } from 'node:fs';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ArtifactStore } from '@mlp/artifacts';
import { aliasName, getRegisteredModelSchema, IllegalStateError, registrationMode, ValidationError, toFieldIssues } from '@mlp/contracts';
import type { EventStore, RunningProcessManager } from '@mlp/eventstore';
import { ARTIFACT_STORE, EVENT_STORE, SERVICE_LOGGER, startProcessManager, type Logger } from '@mlp/service-kit';
import { RegistryService } from '../model/registry.service';
import { REGISTRY_CONFIG, type RegistryConfig } from '../registry-config';
import { registrationProcessManager } from './registration.process-manager';

/** `MLP_REGISTRY_POLICY_FILE`: per-model registration policies. */
export const policyFileSchema = z
  .object({
    models: z.record(getRegisteredModelSchema.shape.name, z.object({ registration: registrationMode, approvalRequiredFor: z.array(aliasName).default([]) }).strict()),
  })
  .strict();

export function parsePolicyFile(text: string, path: string): z.output<typeof policyFileSchema> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ValidationError(`${path} is not valid YAML: ${(err as Error).message}`, [{ path: 'MLP_REGISTRY_POLICY_FILE', message: 'invalid YAML' }], { code: 'INVALID_CONFIG' });
  }
  const result = policyFileSchema.safeParse(raw);
  if (!result.success) {
    const issues = toFieldIssues(result.error);
    throw new ValidationError(`${path}: ${issues.map((i) => `${i.path || '(file)'}: ${i.message}`).join('; ')}`, issues, { code: 'INVALID_CONFIG' });
  }
  return result.data;
}

/** Applies the policy file at start, then runs the registration process manager (unless MLP_REGISTRY_AUTO_REGISTER=off). */
@Injectable()
export class RegistrationService implements OnModuleInit, OnModuleDestroy {
  private manager?: RunningProcessManager;

  constructor(
    private readonly registry: RegistryService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.MLP_REGISTRY_POLICY_FILE) await this.applyPolicyFile(this.config.MLP_REGISTRY_POLICY_FILE);
    if (this.config.MLP_REGISTRY_AUTO_REGISTER === 'off') return;
    const pm = registrationProcessManager({ store: this.store, artifacts: this.artifacts, registry: this.registry, logger: this.logger });
    this.manager = await startProcessManager(this.store, pm, this.logger);
  }

  async onModuleDestroy(): Promise<void> {
    await this.manager?.stop();
  }

  private async applyPolicyFile(path: string): Promise<void> {
    const file = parsePolicyFile(readFileSync(path, 'utf8'), path);
    const meta = { now: new Date().toISOString(), correlationId: `policy-file:${path}`, causationId: null, actor: 'registry:policy-file' };
    for (const [model, policy] of Object.entries(file.models)) {
      try {
        await this.registry.execute({ type: 'CreateRegisteredModel', name: model, description: 'created by the registry policy file' }, meta);
      } catch (err) {
        if (!(err instanceof IllegalStateError && err.code === 'MODEL_EXISTS')) throw err;
      }
      await this.registry.execute({ type: 'SetRegistrationPolicy', name: model, ...policy }, meta);
    }
    this.logger.info({ path, models: Object.keys(file.models) }, 'registration policies applied');
  }
}
