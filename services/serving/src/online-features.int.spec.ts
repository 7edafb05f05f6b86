import { join } from 'node:path';
import { subjects, telemetryStream, type IngestionOutcome, type OnlineFeaturesResponse } from '@mlp/contracts';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { featureStoreService } from '@mlp/service-feature-store';
import { ingestionService } from '@mlp/service-ingestion';
import { eventually } from '@mlp/testing';
import { servingService } from './index';
import { SqliteTelemetrySink } from './telemetry/telemetry-sink';
import { assignAlias, registerVersion, storeTinyModel, type ChurnRow, type StoredTinyModel } from './testing/model.fixture';

jest.setTimeout(120_000);

const SCHEMA = `dataset: customers
columns:
  customer_id: {type: string, required: true}
  ts:          {type: datetime, required: true}
  tenure:      {type: float, nullable: true}
  monthly:     {type: float, required: true}
  plan:        {type: category, required: true, values: [basic, pro, team]}
`;
const VIEWS = `entities:
  - name: customer
    joinKeys: [customer_id]
featureViews:
  - name: cust
    entity: customer
    source: {dataset: customers}
    timestamp: ts
    ttl: 3650d
    online: true
    features:
      - {name: tenure, column: tenure}
      - {name: monthly, column: monthly}
      - {name: plan, column: plan}
`;
const CUSTOMERS: Record<string, ChurnRow> = {
  C001: { tenure: 2.5, monthly: 95.5, plan: 'basic' },
  C002: { tenure: 48, monthly: 22.25, plan: 'team' },
  C003: { tenure: null, monthly: 60, plan: 'pro' },
};

describe('serving: instances with entity keys get their features from the feature store (in process)', () => {
  let p: InProcessServices;
  let model: StoredTinyModel;
  const url = (i: number, path: string) => `${p.services[i].url}${path}`;

  beforeAll(async () => {
    p = await startInProcessServices([ingestionService, featureStoreService, servingService], {
      prefix: 'serving-online',
      processEnv: (dir) => ({ MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`, MLP_SERVING_GRPC_PORT: '-1' }),
    });
    expect((await fetch(url(0, '/datasets/customers/schema'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: SCHEMA })).status).toBeLessThan(300);
    const csv = ['customer_id,ts,tenure,monthly,plan', ...Object.entries(CUSTOMERS).map(([id, r]) => `${id},2024-05-01 10:00:00,${r.tenure ?? ''},${r.monthly},${r.plan}`)].join('\n') + '\n';
    expect(((await (await fetch(url(0, '/datasets/customers/upload?format=csv'), { method: 'PUT', body: csv })).json()) as IngestionOutcome).status).toBe('accepted');
    expect((await fetch(url(1, '/feature-views'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: VIEWS })).status).toBeLessThan(300);
    await fetch(url(1, '/feature-views/cust/materialize'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await eventually(async () => {
      const res = await fetch(url(1, '/features/online'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features: ['cust'], entities: { customer_id: ['C002'] } }) });
      return res.ok && ((await res.json()) as OnlineFeaturesResponse).results[0].features['cust:monthly']?.status === 'present';
    }, 60_000, 'materialized');

    // A model trained on a training set of the view: its inputs are the view's columns `cust__<feature>`.
    model = await storeTinyModel(p.artifacts, { epochs: 20, prefix: 'cust__' });
    await registerVersion(p.store, 'churn', 1, model, { featureViews: ['cust@1'] });
    await assignAlias(p.store, 'churn', 'production', 1);
    await eventually(async () => (await fetch(url(2, '/v2/models/churn@production/ready'))).ok, 30_000, 'served');
  });
  afterAll(async () => p?.close());

  it('fetches the features of every keyed instance in one call and predicts on them', async () => {
    const client = p.services[2].app.get<MlpClient>(MLP_CLIENT);
    const send = jest.spyOn(client, 'send');
    const res = await fetch(url(2, '/v1/models/churn@production:predict'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        instances: [
          { customer_id: 'C001' },
          // A value sent with the keys wins over the stored one.
          { customer_id: 'C002', cust__plan: 'basic' },
          { customer_id: 'C003' },
          // Features given in full need no lookup.
          { cust__tenure: 10, cust__monthly: 30, cust__plan: 'pro' },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const lookups = send.mock.calls.filter(([subject]) => subject === subjects.qry.featureStore.getOnlineFeatures);
    send.mockRestore();
    expect(lookups).toHaveLength(1);
    expect(lookups[0][1]).toEqual({ features: ['cust:tenure', 'cust:monthly', 'cust:plan'], entities: { customer_id: ['C001', 'C002', 'C003'] } });
    const body = (await res.json()) as { request_id: string; probabilities: number[][] };
    const expectedRows: ChurnRow[] = [CUSTOMERS.C001, { ...CUSTOMERS.C002, plan: 'basic' }, CUSTOMERS.C003, { tenure: 10, monthly: 30, plan: 'pro' }];
    const offline = model.offline(expectedRows);
    body.probabilities.forEach((pr, i) => expect(pr[1]).toBeCloseTo(offline[i], 6));
    // Not what the model says on other values: the fetched ones were used.
    expect(Math.abs(offline[0] - offline[1])).toBeGreaterThan(1e-3);

    const sink = new SqliteTelemetrySink(join(p.dir, telemetryStream.sqlite.file));
    try {
      const records = await eventually(async () => {
        const r = sink.predictions().filter((x) => x.requestId === body.request_id);
        return r.length === 4 ? r : undefined;
      }, 10_000, 'telemetry');
      // Telemetry carries the inputs after the lookup.
      expect(records[0].features).toEqual({ cust__tenure: 2.5, cust__monthly: 95.5, cust__plan: 'basic' });
      expect(records[2].features).toEqual({ cust__tenure: null, cust__monthly: 60, cust__plan: 'pro' });
    } finally {
      await sink.close();
    }
  });

  it('an unknown entity gets no features: its missing required inputs are a 400 naming them', async () => {
    const res = await fetch(url(2, '/v1/models/churn:predict'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [{ customer_id: 'C999' }] }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { details: { path: string }[] };
    expect(body.details.map((d) => d.path)).toEqual(['instances[0].cust__monthly', 'instances[0].cust__plan']);
  });
});
