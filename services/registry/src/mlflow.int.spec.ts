import { streams, toNewEvent, validateEventData } from '@mlp/contracts';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { registryService } from './index';

const hex = (c: string) => c.repeat(64);
const meta = { now: '2026-01-01T00:00:00.000Z', correlationId: 'seed', causationId: null, actor: 'seed' };

/**
 * The MLflow REST subset, request by request, against the shapes of mlflow/protos/model_registry.proto:
 * RegisteredModel {name, creation_timestamp, last_updated_timestamp, description, latest_versions, tags[{key,value}],
 * aliases[{alias, version}]}, ModelVersion {name, version (string), creation_timestamp, last_updated_timestamp,
 * user_id, current_stage, description, source, run_id, status, status_message, tags, run_link, aliases[string]},
 * errors {error_code, message}.
 */
describe('MLflow-compatible REST API (/api/2.0/mlflow)', () => {
  jest.setTimeout(60_000);
  let p: InProcessServices;
  let base: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/api/2.0/mlflow/${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { [k: string]: any } }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const modelVersionKeys = ['aliases', 'creation_timestamp', 'current_stage', 'description', 'last_updated_timestamp', 'name', 'run_id', 'run_link', 'source', 'status', 'status_message', 'tags', 'user_id', 'version'];

  beforeAll(async () => {
    p = await startInProcessServices([registryService], { prefix: 'mlflow', processEnv: () => ({ MLP_REGISTRY_AUTO_REGISTER: 'off' }) });
    base = p.services[0].url;
    // Versions come from training runs; two are seeded into the stream MLflow's create makes.
    expect((await call('POST', 'registered-models/create', { name: 'churn', tags: [{ key: 'team', value: 'growth' }], description: 'churn model' })).status).toBe(200);
    const versions = [1, 2].map((version) =>
      toNewEvent(
        { type: 'ModelVersionRegistered', data: validateEventData('ModelVersionRegistered', { name: 'churn', version, runId: `run-${version}`, artifacts: { model: `sha256/${hex(String(version))}` }, metrics: { auc: 0.8 }, tags: { stage: version === 2 ? 'candidate' : 'old' } }) },
        meta,
        { codeVersion: 'test' },
      ),
    );
    await p.store.appendToStream(streams.model('churn'), versions);
    await call('POST', 'registered-models/create', { name: 'fraud' });
  });
  afterAll(async () => p?.close());

  it('registered-models/create returns {registered_model}; a second create is RESOURCE_ALREADY_EXISTS', async () => {
    const created = await call('POST', 'registered-models/create', { name: 'spam', tags: [{ key: 'a', value: 'b' }], description: 'd' });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      registered_model: { name: 'spam', creation_timestamp: expect.any(Number), last_updated_timestamp: expect.any(Number), description: 'd', latest_versions: [], tags: [{ key: 'a', value: 'b' }], aliases: [] },
    });
    const again = await call('POST', 'registered-models/create', { name: 'spam' });
    expect(again).toEqual({ status: 400, body: { error_code: 'RESOURCE_ALREADY_EXISTS', message: expect.stringMatching(/already exists/) } });
    const bad = await call('POST', 'registered-models/create', { tags: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('registered-models/get returns the model with its latest version and aliases; unknown is RESOURCE_DOES_NOT_EXIST', async () => {
    const { status, body } = await call('GET', 'registered-models/get?name=churn');
    expect(status).toBe(200);
    expect(Object.keys(body.registered_model).sort()).toEqual(['aliases', 'creation_timestamp', 'description', 'last_updated_timestamp', 'latest_versions', 'name', 'tags']);
    expect(body.registered_model).toMatchObject({ name: 'churn', description: 'churn model', tags: [{ key: 'team', value: 'growth' }] });
    expect(body.registered_model.latest_versions.map((v: { version: string }) => v.version)).toEqual(['2']);
    expect(await call('GET', 'registered-models/get?name=nope')).toEqual({ status: 404, body: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: expect.any(String) } });
  });

  it('registered-models/search filters by name (=, LIKE, ILIKE) and tags, orders and pages with next_page_token', async () => {
    const like = await call('GET', `registered-models/search?filter=${encodeURIComponent("name LIKE 'ch%'")}`);
    expect(like.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['churn']);
    const tag = await call('GET', `registered-models/search?filter=${encodeURIComponent("tags.team = 'growth'")}`);
    expect(tag.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['churn']);
    const ilike = await call('GET', `registered-models/search?filter=${encodeURIComponent("name ILIKE 'FR%'")}`);
    expect(ilike.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['fraud']);
    const first = await call('GET', 'registered-models/search?max_results=2&order_by=name%20DESC');
    expect(first.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['spam', 'fraud']);
    const second = await call('GET', `registered-models/search?max_results=2&order_by=name%20DESC&page_token=${first.body.next_page_token}`);
    expect(second.body).toEqual({ registered_models: [expect.objectContaining({ name: 'churn' })] });
    expect((await call('GET', `registered-models/search?filter=${encodeURIComponent('owner = 1')}`)).body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('model-versions/get and model-versions/search speak ModelVersion with string versions', async () => {
    const { body } = await call('GET', 'model-versions/get?name=churn&version=2');
    expect(Object.keys(body.model_version).sort()).toEqual(modelVersionKeys);
    expect(body.model_version).toMatchObject({ name: 'churn', version: '2', run_id: 'run-2', status: 'READY', current_stage: 'None', tags: [{ key: 'stage', value: 'candidate' }], aliases: [] });
    expect((await call('GET', 'model-versions/get?name=churn&version=7')).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await call('GET', 'model-versions/get?name=churn&version=x')).body.error_code).toBe('INVALID_PARAMETER_VALUE');
    const byName = await call('GET', `model-versions/search?filter=${encodeURIComponent("name='churn'")}`);
    expect(byName.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['2', '1']);
    const byRun = await call('GET', `model-versions/search?filter=${encodeURIComponent("run_id = 'run-1' AND tags.stage = 'old'")}`);
    expect(byRun.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['1']);
  });

  it('registered-models/alias: POST sets, GET (and get-by-alias) reads, DELETE removes; the history records it', async () => {
    expect(await call('POST', 'registered-models/alias', { name: 'churn', alias: 'champion', version: '2' })).toEqual({ status: 200, body: {} });
    const got = await call('GET', 'registered-models/alias?name=churn&alias=champion');
    expect(got.body.model_version).toMatchObject({ version: '2', aliases: ['champion'] });
    expect((await call('GET', 'registered-models/get-by-alias?name=churn&alias=champion')).body).toEqual(got.body);
    expect((await call('GET', 'registered-models/get?name=churn')).body.registered_model.aliases).toEqual([{ alias: 'champion', version: '2' }]);
    expect((await call('POST', 'registered-models/alias', { name: 'churn', alias: 'champion', version: '9' })).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(await call('DELETE', 'registered-models/alias', { name: 'churn', alias: 'champion' })).toEqual({ status: 200, body: {} });
    expect((await call('GET', 'registered-models/alias?name=churn&alias=champion')).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const history = (await (await fetch(`${base}/models/churn/aliases/champion/history`)).json()) as { history: { version: number; reason: string; ended?: { kind: string } }[] };
    expect(history.history).toMatchObject([{ version: 2, reason: 'MLflow SetRegisteredModelAlias', ended: { kind: 'removed' } }]);
  });

  it('registered-models/delete is refused while an alias points into the model, then deletes softly', async () => {
    await call('POST', 'registered-models/alias', { name: 'churn', alias: 'production', version: '1' });
    const refused = await call('DELETE', 'registered-models/delete', { name: 'churn' });
    expect(refused).toEqual({ status: 400, body: { error_code: 'INVALID_STATE', message: expect.stringMatching(/production → v1/) } });
    await call('DELETE', 'registered-models/alias', { name: 'churn', alias: 'production' });
    expect(await call('DELETE', 'registered-models/delete', { name: 'churn' })).toEqual({ status: 200, body: {} });
    expect((await call('GET', 'registered-models/get?name=churn')).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    // Soft: the stream keeps every event.
    expect((await p.store.readStream(streams.model('churn'))).map((e) => e.type).pop()).toBe('RegisteredModelDeleted');
  });
});
