import { eventCatalogue, toNewEvent, validateEventData } from './catalogue';
import { ValidationError } from './errors';
import { deterministicId } from './ids';
import { assertStreamName, categoryOf, streams } from './streams';
import { serviceOfSubject, subjects } from './subjects';

describe('event catalogue', () => {
  it('declares the events of the services built so far with a positive schema version', () => {
    const required = [
      'DatasetVersionIngested', 'RowsQuarantined', 'FeatureViewDefined', 'TrainingSetBuilt', 'TrainingRunRequested',
      'ModelEvaluated', 'ModelVersionRegistered', 'ModelAliasAssigned', 'MonitorCreated',
    ];
    for (const type of required) expect(eventCatalogue).toHaveProperty(type);
    for (const [type, def] of Object.entries(eventCatalogue)) {
      expect(def.type).toBe(type);
      expect(def.schemaVersion).toBeGreaterThanOrEqual(1);
    }
  });

  it('validates data and names each bad field', () => {
    const err = (() => {
      try {
        validateEventData('ModelAliasAssigned', { name: 'm', alias: '', version: 0, previousVersion: null });
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err!.details.map((d) => d.path).sort()).toEqual(['data.alias', 'data.version']);
  });

  it('wraps a domain event in an envelope with defaults applied', () => {
    const e = toNewEvent(
      { type: 'RegisteredModelCreated', data: { name: 'churn' } },
      { now: '2026-01-01T00:00:00Z', correlationId: 'c', causationId: null, actor: 'me' },
      { codeVersion: '1.0.0' },
    );
    expect(e).toMatchObject({ type: 'RegisteredModelCreated', schemaVersion: 2, data: { name: 'churn', description: '', tags: {} } });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('ids, streams and subjects', () => {
  it('derives stable v5-shaped ids', () => {
    const a = deterministicId('pm', 'event-1');
    expect(a).toBe(deterministicId('pm', 'event-1'));
    expect(a).not.toBe(deterministicId('pm', 'event-2'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('names streams <aggregate>-<id> and rejects subject-breaking names', () => {
    expect(streams.model('churn')).toBe('model-churn');
    expect(categoryOf('featureview-credit_features')).toBe('featureview');
    expect(() => streams.model('a.b')).toThrow(ValidationError);
    expect(() => assertStreamName('model-a>b')).toThrow(ValidationError);
    expect(() => assertStreamName('Model-x')).toThrow(ValidationError);
    expect(() => assertStreamName('run-0b6a3c1e-aaaa-4bbb-8ccc-123456789abc')).not.toThrow();
  });

  it('puts each stream on its own subject under its category', () => {
    expect(subjects.evt.forStream('model-churn')).toBe('mlp.evt.model.model-churn');
    expect(subjects.evt.forCategory('model')).toBe('mlp.evt.model.>');
    expect(subjects.cmd.registry.createModel).toBe('mlp.cmd.registry.create-model');
    expect(serviceOfSubject(subjects.qry.ping('feature-store'))).toBe('feature-store');
    expect(serviceOfSubject('mlp.evt.model.x')).toBeUndefined();
  });
});
