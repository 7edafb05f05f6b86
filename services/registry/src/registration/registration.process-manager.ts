import type { ArtifactStore } from '@mlp/artifacts';
import { categories, deterministicId, DomainError, InfrastructureError, type RecordedEvent } from '@mlp/contracts';
import type { EventStore, ProcessManager } from '@mlp/eventstore';
import type { Logger } from '@mlp/service-kit';
import type { RegistryService } from '../model/registry.service';
import { versionDetailsFromRun } from './run-details';

export const REGISTRATION_PM = 'registry.registration';

/**
 * From `TrainingRunCompleted` (with the run's `ModelEvaluated`: metrics, blessed) to a version of the model
 * named like the run's experiment, under that model's registration policy (else the registry default).
 * Idempotent: the decider registers a run once, and the events' ids derive from the source event.
 * A run that cannot be registered for a domain reason (bad stored data) is logged and skipped; an
 * infrastructure failure (artifact store down) is retried by the runner.
 */
export function registrationProcessManager(deps: { store: EventStore; artifacts: ArtifactStore; registry: RegistryService; logger?: Logger }): ProcessManager {
  return {
    name: REGISTRATION_PM,
    filter: { category: categories.run },
    canHandle: (event: RecordedEvent) => event.type === 'TrainingRunCompleted',
    async handle(event: RecordedEvent): Promise<void> {
      const runId = (event.data as { runId: string }).runId;
      try {
        const details = await versionDetailsFromRun(deps.store, deps.artifacts, runId);
        const name = details.experiment;
        await deps.registry.execute(
          { type: 'RegisterModelVersion', name, source: 'auto', defaults: deps.registry.defaults, details },
          { now: event.occurredAt, correlationId: event.correlationId, causationId: event.id, actor: `process-manager:${REGISTRATION_PM}` },
          { eventIds: (i) => deterministicId(REGISTRATION_PM, event.id, String(i)) },
        );
      } catch (err) {
        if (err instanceof DomainError && !(err instanceof InfrastructureError && err.code !== 'STORED_DATA_INVALID') && err.name !== 'ConcurrencyError') {
          deps.logger?.warn({ err, runId, eventId: event.id }, `run ${runId} not registered: ${err.message}`);
          return;
        }
        throw err;
      }
    },
  };
}
