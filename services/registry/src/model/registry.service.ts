import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  ConcurrencyError,
  NotFoundError,
  streams,
  toNewEvent,
  type AliasHistoryEntry,
  type CommandMetadata,
  type ModelVersionView,
  type RecordedEvent,
  type RegisteredModelView,
  type SearchVersionsDto,
  type VersionComparison,
} from '@mlp/contracts';
import { aggregate, codeVersion, commandEventId, completeRecordedCommand, findRecordedCommand, isExpectedVersionConflict, ProjectionRunner, type EventStore } from '@mlp/eventstore';
import { EVENT_STORE, ProjectionCatalog } from '@mlp/service-kit';
import { REGISTRY_CONFIG, type RegistryConfig } from '../registry-config';
import { registeredModelDecider, type RegisteredModelCommand } from './registered-model.decide';
import type { RegisteredModelEvent, RegistrationPolicy } from './registered-model';
import { RegistryProjection } from './registry.projection';

export interface ExecuteOptions {
  /** The revision the caller read: a different current revision is a 412, never retried. */
  expectedRevision?: number;
  /** Event ids by index (process managers: deterministic ids make a re-delivered reaction a no-op). */
  eventIds?: (index: number) => string;
  /** Attempts after the first when another writer wins and no expectedRevision was given. Default 5. */
  maxRetries?: number;
}

export interface ExecuteResult {
  events: RecordedEvent[];
  /** The stream's revision after the command. */
  revision: number;
}

const compareOp = { '>': (a: number, b: number) => a > b, '>=': (a: number, b: number) => a >= b, '<': (a: number, b: number) => a < b, '<=': (a: number, b: number) => a <= b, '=': (a: number, b: number) => a === b } as const;

/**
 * Runs commands on `model-<name>` streams (load → decide → append with the revision read) and answers queries
 * from the projection. One stream per model serializes alias moves: of two concurrent writers one wins and
 * the other is retried on fresh state, or refused with 412 when it named the revision it expected.
 */
@Injectable()
export class RegistryService implements OnModuleInit, OnModuleDestroy {
  readonly projection = new RegistryProjection();
  private readonly runner: ProjectionRunner<RegistryProjection>;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
    @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog,
  ) {
    this.runner = new ProjectionRunner(store, this.projection);
    catalog?.register(this.runner, () => new RegistryProjection());
  }

  onModuleInit(): Promise<void> {
    return this.runner.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.runner.stop();
  }

  get defaults(): RegistrationPolicy {
    return { registration: this.config.MLP_REGISTRY_DEFAULT_POLICY, approvalRequiredFor: this.config.MLP_REGISTRY_APPROVAL_ALIASES };
  }

  async execute(command: RegisteredModelCommand, meta: CommandMetadata, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const stream = streams.model(command.name);
    const maxRetries = options.expectedRevision === undefined ? (options.maxRetries ?? 5) : 0;
    const version = codeVersion();
    const envelopesOf = (decided: readonly RegisteredModelEvent[]) =>
      decided.map((e, i) => toNewEvent(e, meta, { codeVersion: version, id: options.eventIds?.(i) ?? commandEventId(stream, command.type, meta, i) }));
    for (let attempt = 0; ; attempt++) {
      const history = await this.store.readStream(stream);
      const current = history.length === 0 ? -1 : history[history.length - 1].revision;
      const recorded = findRecordedCommand(history, stream, command.type, meta);
      if (recorded) {
        // Another request under this Idempotency-Key may be between the publishes of its batch (JetStream): complete it rather than answer with a prefix.
        if (await completeRecordedCommand(this.store, stream, history, recorded, (before) => envelopesOf(registeredModelDecider.decide(command, aggregate(registeredModelDecider, before))))) continue;
        await this.runner.waitFor(recorded.events.at(-1)!.position);
        return { events: recorded.events, revision: current };
      }
      if (options.expectedRevision !== undefined && options.expectedRevision !== current) throw conflict(command.name, options.expectedRevision, current);
      const decided = registeredModelDecider.decide(command, aggregate(registeredModelDecider, history));
      if (decided.length === 0) return { events: [], revision: current };
      const envelopes = envelopesOf(decided);
      try {
        const result = await this.store.appendToStream(stream, envelopes, { expectedRevision: current === -1 ? 'no_stream' : current });
        await this.runner.waitFor(result.position);
        const first = result.nextExpectedRevision - envelopes.length + 1;
        return { events: envelopes.map((e, i) => ({ ...e, stream, revision: first + i, position: result.position })), revision: result.nextExpectedRevision };
      } catch (err) {
        if (!isExpectedVersionConflict(err)) throw err;
        if (attempt >= maxRetries) {
          const actual = typeof err.actual === 'number' ? err.actual : -1;
          throw conflict(command.name, options.expectedRevision ?? current, actual, attempt + 1);
        }
      }
    }
  }

  // ---- queries -------------------------------------------------------------

  getModel(name: string): RegisteredModelView {
    const model = this.projection.getModel(name);
    if (!model || model.status === 'deleted') throw new NotFoundError(`registered model '${name}' does not exist`, { code: 'MODEL_NOT_FOUND', details: { name } });
    return { ...model, policy: model.policy ? { ...model.policy, source: 'model' } : { ...this.defaults, source: 'default' } };
  }

  listModels(): RegisteredModelView[] {
    return this.projection
      .listModels()
      .filter((m) => m.status !== 'deleted')
      .map((m) => this.getModel(m.name));
  }

  listVersions(name: string): ModelVersionView[] {
    this.getModel(name);
    return this.projection.versions(name);
  }

  getVersion(name: string, version: number): ModelVersionView {
    this.getModel(name);
    const v = this.projection.getVersion(name, version);
    if (!v) throw new NotFoundError(`registered model '${name}' has no version ${version}`, { code: 'VERSION_NOT_FOUND', details: { name, version } });
    return v;
  }

  versionByAlias(name: string, alias: string): ModelVersionView {
    const model = this.getModel(name);
    const version = model.aliases?.[alias];
    if (version === undefined) throw new NotFoundError(`registered model '${name}' has no alias '${alias}'`, { code: 'ALIAS_NOT_FOUND', details: { name, alias } });
    return this.getVersion(name, version);
  }

  /** Versions by model, tags (all must match), metric thresholds (all must hold), alias, status, run. */
  searchVersions(query: SearchVersionsDto): ModelVersionView[] {
    const models = query.name ? [this.getModel(query.name)] : this.listModels();
    return models
      .flatMap((m) => this.projection.versions(m.name))
      .filter((v) => Object.entries(query.tags).every(([k, val]) => v.tags[k] === val))
      .filter((v) => query.metrics.every((t) => typeof v.metrics[t.metric] === 'number' && compareOp[t.op](v.metrics[t.metric], t.value)))
      .filter((v) => !query.alias || v.aliases.includes(query.alias))
      .filter((v) => !query.status || v.status === query.status)
      .filter((v) => !query.runId || v.runId === query.runId);
  }

  aliasHistory(name: string, alias: string): { name: string; alias: string; current: number | null; history: AliasHistoryEntry[] } {
    const model = this.getModel(name);
    const history = this.projection.aliasHistory(name, alias);
    if (history.length === 0) throw new NotFoundError(`alias '${alias}' of '${name}' has never been assigned`, { code: 'ALIAS_NOT_FOUND', details: { name, alias } });
    return { name, alias, current: model.aliases?.[alias] ?? null, history };
  }

  compare(name: string, a: number, b: number): VersionComparison {
    const va = this.getVersion(name, a);
    const vb = this.getVersion(name, b);
    const metricNames = [...new Set([...Object.keys(va.metrics), ...Object.keys(vb.metrics)])].sort();
    const paramNames = [...new Set([...Object.keys(va.params), ...Object.keys(vb.params)])].sort();
    const refs = (v: ModelVersionView) => new Set(v.lineage.inputs.map((i) => `${i.ref} sha256:${i.sha256}`));
    const ra = refs(va);
    const rb = refs(vb);
    return {
      name,
      a,
      b,
      metrics: metricNames.map((metric) => {
        const x = va.metrics[metric] ?? null;
        const y = vb.metrics[metric] ?? null;
        return { metric, a: x, b: y, delta: x !== null && y !== null ? y - x : null };
      }),
      params: paramNames.map((param) => ({ param, a: va.params[param] ?? null, b: vb.params[param] ?? null, same: JSON.stringify(va.params[param]) === JSON.stringify(vb.params[param]) })),
      lineage: { onlyA: [...ra].filter((r) => !rb.has(r)).sort(), onlyB: [...rb].filter((r) => !ra.has(r)).sort(), same: [...ra].filter((r) => rb.has(r)).sort() },
      signatureSame: JSON.stringify(va.signature) === JSON.stringify(vb.signature),
    };
  }

  /** Waits until the read model has seen `position` (read-your-writes for callers that appended elsewhere). */
  waitFor(position: number): Promise<void> {
    return this.runner.waitFor(position);
  }
}

function conflict(name: string, expected: number, actual: number, attempts?: number): ConcurrencyError {
  const tried = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';
  return new ConcurrencyError(
    `registered model '${name}' changed while this command was being decided${tried}: expected revision ${expected}, it is at ${actual}. Read the model again and retry.`,
    { code: 'WRONG_EXPECTED_REVISION', details: { name, expectedRevision: expected, actualRevision: actual } },
  );
}
