import { NotFoundError, streams, type EventData } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';

export type DatasetVersion = EventData<'DatasetVersionIngested'>;

/**
 * A dataset's versions, read from its own stream in the event store (the
 * source of truth ingestion writes): the feature store needs the facts, not
 * the ingestion service, so it works while ingestion is down.
 */
export async function datasetVersions(store: EventStore, dataset: string): Promise<DatasetVersion[]> {
  const events = await store.readStream(streams.dataset(dataset));
  return events.filter((e) => e.type === 'DatasetVersionIngested').map((e) => e.data as DatasetVersion);
}

/** The pinned version, or the latest accepted one; rejected versions are never used. */
export async function resolveDatasetVersion(store: EventStore, dataset: string, pinned?: number): Promise<DatasetVersion> {
  const versions = await datasetVersions(store, dataset);
  if (pinned !== undefined) {
    const v = versions.find((x) => x.version === pinned);
    if (!v) throw new NotFoundError(`dataset '${dataset}' has no version ${pinned}`, { code: 'VERSION_NOT_FOUND' });
    if (v.status !== 'accepted') throw new NotFoundError(`dataset '${dataset}' version ${pinned} was rejected`, { code: 'VERSION_REJECTED' });
    return v;
  }
  const accepted = versions.filter((v) => v.status === 'accepted');
  if (accepted.length === 0) throw new NotFoundError(`dataset '${dataset}' has no accepted version`, { code: 'NO_ACCEPTED_VERSION' });
  return accepted[accepted.length - 1];
}
