import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { InfrastructureError, streams, toNewEvent, type EventData, type RecordedEvent } from '@mlp/contracts';
import { parseTrainingSpecYaml } from '@mlp/ml';
import { repoRoot } from '@mlp/testing';
import { modelCard } from './model-card';
import { buildRunContext } from './run-context';
import { RunsProjection } from './runs.projection';

const runId = '0b6a3c1e-aaaa-4bbb-8ccc-123456789abc';
const spec = parseTrainingSpecYaml(readFileSync(join(repoRoot, 'examples/training/penguins.train.yaml'), 'utf8'));

/** TrainingRunRequested as stored: the spec as JSON. */
function request(storedSpec: unknown): EventData<'TrainingRunRequested'> {
  return {
    runId,
    experiment: 'penguins',
    spec: JSON.parse(JSON.stringify(storedSpec)) as Record<string, unknown>,
    seed: 42,
    inputs: [{ ref: 'dataset:penguins@1', sha256: 'a'.repeat(64) }],
    data: { artifactKey: `sha256/${'a'.repeat(64)}`, sha256: 'a'.repeat(64), rows: 344 },
    featureViews: [],
    backend: 'cpu',
    simd: false,
    libraries: {},
    codeVersion: 'test',
    coordinator: 'c1',
  };
}

function recorded(data: EventData<'TrainingRunRequested'>): RecordedEvent {
  const meta = { now: '2026-01-01T00:00:00.000Z', correlationId: 'c', causationId: null, actor: 'test' };
  return { ...toNewEvent({ type: 'TrainingRunRequested', data }, meta, { codeVersion: 'test' }), stream: streams.run(runId), revision: 0, position: 1 };
}

const broken = () => ({ ...spec, model: { ...spec.model, epochs: 'ten' } });

describe('training specs read back from events are re-validated', () => {
  it('the runs projection shows the task of a valid stored spec, and `invalid` with the reason for a broken one', () => {
    const ok = new RunsProjection();
    ok.handle(recorded(request(spec)));
    expect(ok.runs.get(runId)).toMatchObject({ task: spec.task, warnings: [] });

    const bad = new RunsProjection();
    bad.handle(recorded(request(broken())));
    expect(bad.runs.get(runId)!.task).toBe('invalid');
    expect(bad.runs.get(runId)!.warnings).toEqual([expect.stringMatching(new RegExp(`^stored training spec of run ${runId} is invalid: model\\.epochs: `))]);
  });

  it('a run context is not built from a broken stored spec: STORED_DATA_INVALID naming the field, before any data is read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlp-stored-spec-'));
    try {
      const err = await buildRunContext(new FsArtifactStore({ root: dir }), request(broken())).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InfrastructureError);
      expect((err as InfrastructureError).code).toBe('STORED_DATA_INVALID');
      expect((err as InfrastructureError).message).toMatch(new RegExp(`^stored training spec of run ${runId} is invalid: model\\.epochs: `));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the model card is not written from a broken stored spec', () => {
    const facts: Parameters<typeof modelCard>[0] = {
      request: request({ ...spec, data: { ...spec.data, label: 42 } }),
      prepared: { runId, rows: 1, droppedMissingLabel: 0, features: [], dropped: [], warnings: [], classes: [] },
      split: { runId, method: 'random', sizes: {}, indicesSha256: 'a'.repeat(64) },
      trials: [],
      evaluation: { runId, metrics: {}, slices: {}, fairness: {}, baseline: { kind: 'none' as const, metrics: {} }, comparison: {}, blessed: false },
      params: {},
      weightsSha256: 'a'.repeat(64),
    };
    expect(() => modelCard(facts)).toThrow(/^stored training spec of run .* is invalid: data\.label: /);
  });
});
