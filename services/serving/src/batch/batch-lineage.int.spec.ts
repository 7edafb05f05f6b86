import { streams, type BatchJobView } from '@mlp/contracts';
import { registryService } from '@mlp/service-registry';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { eventually } from '@mlp/testing';
import { servingService } from '../index';
import { churnRows, promoteTinyModel } from '../testing/model.fixture';

/** A batch job of serving shows in the registry's lineage graph of the version, read from the shared event log. */
describe('batch inference lineage in the registry', () => {
  jest.setTimeout(120_000);
  let p: InProcessServices;

  beforeAll(async () => {
    p = await startInProcessServices([servingService, registryService], {
      prefix: 'batch-lineage',
      env: { MLP_AUTH: 'off' },
      processEnv: () => ({ MLP_SERVING_GRPC_PORT: '-1', MLP_SERVING_TELEMETRY: 'off', MLP_REGISTRY_AUTO_REGISTER: 'off' }),
    });
  });
  afterAll(() => p?.close());

  it('links input sha256 → job ← model version, job → output file', async () => {
    await promoteTinyModel(p);
    const [serving, registry] = p.services.map((s) => s.url);
    const { rows } = churnRows(200, 4);
    const csv = ['tenure,monthly,plan', ...rows.map((r) => `${r.tenure ?? ''},${r.monthly},${r.plan}`)].join('\n');
    const { key } = (await (await fetch(`${serving}/batch/inputs`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: csv })).json()) as { key: string };
    const started = (await (await fetch(`${serving}/batch/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'churn@production', input: { upload: key } }) })).json()) as BatchJobView;
    const done = await eventually(async () => {
      const v = (await (await fetch(`${serving}/batch/jobs/${started.jobId}`)).json()) as BatchJobView;
      return v.status === 'completed' && v;
    }, 60_000, 'the job');
    expect((await p.store.readStream(streams.batch(done.jobId))).at(-1)?.type).toBe('BatchInferenceCompleted');

    const job = `batch:${done.jobId}`;
    const output = `artifact:${done.output!.artifactKey}`;
    const graph = await eventually(async () => {
      const g = (await (await fetch(`${registry}/lineage/models/churn/versions/1`)).json()) as { edges: { from: string; to: string; relation: string }[]; nodes: { id: string; type: string }[] };
      return g.edges?.some((e) => e.relation === 'output-of') && g;
    }, 30_000, 'the registry to project the job');
    expect(graph.edges).toEqual(
      expect.arrayContaining([
        { from: 'model:churn@1', to: job, relation: 'predicted-with' },
        { from: `artifact:${key}`, to: job, relation: 'input-of' },
        { from: job, to: output, relation: 'output-of' },
      ]),
    );
    expect(graph.nodes.find((n) => n.id === job)).toMatchObject({ type: 'batch-inference', status: 'completed', input: { sha256: key.slice('sha256/'.length), rows: 200 }, output: { sha256: done.output!.sha256, rows: 200 } });
    const tree = await (await fetch(`${registry}/lineage/models/churn/versions/1?format=tree`)).text();
    expect(tree).toContain(`batch inference ${done.jobId} (completed)`);
  });
});
