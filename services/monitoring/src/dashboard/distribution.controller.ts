import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { ArtifactStore } from '@mlp/artifacts';
import { NotFoundError, parseOrThrow, streams, type EventData } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import { ARTIFACT_STORE, EVENT_STORE } from '@mlp/service-kit';
import { binCounts, histogramEdges } from '../windows/column-summary';

const query = z.object({ feature: z.string().min(1).max(200), report: z.uuid() }).strict();
/** Report and sample artifacts are small JSON documents; refuse anything far larger. */
const MAX_BYTES = 32 * 1024 * 1024;

interface WindowColumn {
  kind: 'numeric' | 'categorical';
  count: number;
  top?: Record<string, number>;
  histogram?: { edges: number[]; counts: number[] };
}

export interface Distribution {
  feature: string;
  kind: 'numeric' | 'categorical';
  /** Bin or value labels, shared by both sides. */
  labels: string[];
  reference: { rows: number; shares: number[] };
  current: { rows: number; shares: number[] };
  note?: string;
}

const shares = (counts: number[]) => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total ? c / total : 0));
};

/**
 * One feature's reference (the training sample) and current (one drift
 * window) distributions on shared bins, for the dashboard's overlay: the
 * window's counts come from its report artifact, the reference's from the
 * sample artifact the report names.
 */
@ApiTags('monitoring')
@Controller('monitoring')
export class DistributionController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  @Get(':model/distribution')
  @ApiOperation({ summary: "A feature's reference and current distributions on shared bins (?feature=, ?report=<DriftReportComputed event id>)" })
  async distribution(@Param('model') model: string, @Query() q: Record<string, unknown>): Promise<Distribution> {
    const { feature, report } = parseOrThrow(query, q, 'query');
    const event = (await this.store.readStream(streams.monitor(model))).find((e) => e.id === report && e.type === 'DriftReportComputed');
    if (!event) throw new NotFoundError(`no drift report ${report} for model '${model}'`);
    const data = event.data as EventData<'DriftReportComputed'>;
    const json = async <T>(key: string) => JSON.parse((await this.artifacts.getBuffer(key, { maxBytes: MAX_BYTES })).toString('utf8')) as T;
    const window = (await json<{ columns?: Record<string, WindowColumn> }>(data.reportArtifactKey)).columns?.[feature];
    if (!window) throw new NotFoundError(`feature '${feature}' is not in drift report ${report}`);
    const sample = data.reference.sampleArtifactKey ? (await json<{ columns: Record<string, unknown[]> }>(data.reference.sampleArtifactKey)).columns[feature] ?? [] : [];
    if (window.kind === 'numeric') {
      const values = sample.filter((v): v is number => typeof v === 'number');
      if (!window.histogram) {
        return { feature, kind: 'numeric', labels: [], reference: { rows: values.length, shares: [] }, current: { rows: window.count, shares: [] }, note: 'this window was recorded before reports kept histograms' };
      }
      const { edges, counts } = window.histogram;
      // The window binned on edges from this same sample: recomputing them checks the pairing.
      const same = JSON.stringify(histogramEdges(values)) === JSON.stringify(edges);
      const labels = ['< ' + edges[0], ...edges.slice(0, -1).map((e, i) => `${+e.toPrecision(4)}–${+edges[i + 1].toPrecision(4)}`), '> ' + edges[edges.length - 1]];
      return {
        feature,
        kind: 'numeric',
        labels,
        reference: { rows: values.length, shares: shares(binCounts(edges, values)) },
        current: { rows: window.count, shares: shares(counts) },
        ...(same ? {} : { note: 'the reference sample changed since this window was binned' }),
      };
    }
    const ref = new Map<string, number>();
    for (const v of sample) if (v !== null && v !== undefined) ref.set(String(v), (ref.get(String(v)) ?? 0) + 1);
    const cur = window.top ?? {};
    const labels = [...new Set([...ref.keys(), ...Object.keys(cur)])].sort();
    return {
      feature,
      kind: 'categorical',
      labels,
      reference: { rows: [...ref.values()].reduce((a, b) => a + b, 0), shares: shares(labels.map((l) => ref.get(l) ?? 0)) },
      current: { rows: window.count, shares: shares(labels.map((l) => cur[l] ?? 0)) },
    };
  }
}
