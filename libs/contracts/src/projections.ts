import type { ServiceName } from './services';

/** One place where a live read model and its rebuild from the log disagree. */
export interface ProjectionDifference {
  /** e.g. `models[0].versions[1].aliases.production`; `(root)` for the whole snapshot. */
  path: string;
  /** Short JSON renderings; `(absent)` where one side has no value at the path. */
  live: string;
  rebuilt: string;
}

/** A live read model compared with a fresh rebuild fed the same events (`mlp replay projections`). */
export interface ProjectionCheck {
  name: string;
  version: number;
  /** Global log position both sides were compared at. */
  position: number;
  /** Events the rebuild handled. */
  events: number;
  equal: boolean;
  /** sha256 of the canonical JSON snapshot of each side. */
  liveHash: string;
  rebuiltHash: string;
  /** The first differing paths, when not equal. */
  diff?: ProjectionDifference[];
}

/** What `POST /admin/projections/verify` and `subjects.cmd.admin.verifyProjections(service)` answer. */
export interface ProjectionsReport {
  service: ServiceName;
  projections: ProjectionCheck[];
}
