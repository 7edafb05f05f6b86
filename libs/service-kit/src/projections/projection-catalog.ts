import type { ProjectionCheck } from '@mlp/contracts';
import { verifyProjection, type LiveReadModel, type VerifiableProjection, type VerifyOptions } from '@mlp/eventstore';

interface Entry {
  live: LiveReadModel;
  fresh: () => VerifiableProjection;
}

/**
 * The read models of one service app, registered by the services that own
 * them (live runner + a factory of empty instances); the service-kit's
 * `/admin/projections/verify` rebuilds each from the log and compares.
 */
export class ProjectionCatalog {
  private readonly entries = new Map<string, Entry>();

  /** Registering a name again replaces the entry (a module re-created in tests). */
  register(live: LiveReadModel, fresh: () => VerifiableProjection): void {
    this.entries.set(live.projection.name, { live, fresh });
  }

  /** The live side registered under `name` (tests reach a read model through it). */
  live(name: string): LiveReadModel | undefined {
    return this.entries.get(name)?.live;
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** Rebuilds and compares every registered read model, in name order. */
  async verify(options?: VerifyOptions): Promise<ProjectionCheck[]> {
    const out: ProjectionCheck[] = [];
    for (const name of this.names()) {
      const { live, fresh } = this.entries.get(name)!;
      out.push(await verifyProjection(live, fresh(), options));
    }
    return out;
  }
}
