import { randomUUID } from 'node:crypto';
import type { RegisteredModelView } from '@mlp/contracts';
import { closeOnSignals } from '@mlp/service-kit';
import { startEmbedded, type EmbeddedPlatform } from '../embedded';
import { call } from '../api';
import { printJson, printTable } from '../output';
import { demoIngestion } from './demo-ingestion';
import { demoFeatures } from './demo-features';
import { demoTraining } from './demo-training';
import { demoRegistry } from './demo-registry';

export interface UpOptions {
  json: boolean;
  demo: boolean;
}

/** `mlp up`: the embedded platform until Ctrl-C; with the demo, the slice is exercised once first. */
export async function up(options: UpOptions): Promise<EmbeddedPlatform> {
  const started = Date.now();
  const platform = await startEmbedded();
  const readyMs = Date.now() - started;
  const rows = platform.services.map((s) => ({ service: s.service, url: s.url, docs: `${s.url}/docs` }));
  if (options.json) printJson({ readyMs, home: platform.home, eventStore: platform.eventStoreUrl, services: rows, dashboard: `${platform.services.find((s) => s.service === 'monitoring')?.url}/` });
  else {
    console.log(`mlp: six services ready in ${readyMs} ms (data in ${platform.home}, events at ${platform.eventStoreUrl})`);
    printTable(rows, ['service', 'url', 'docs']);
  }
  if (options.demo) await demo(options.json);
  const monitoring = platform.services.find((s) => s.service === 'monitoring');
  if (!options.json) {
    if (monitoring) console.log(`dashboard: ${monitoring.url}/`);
    console.log('Ctrl-C stops the platform.');
  }
  closeOnSignals(() => platform.close());
  return platform;
}

/**
 * The slices every later issue grows into the full pipeline: a model is
 * registered over HTTP, the registry's event reaches monitoring's process
 * manager, and monitoring answers with the registry's view fetched over RPC;
 * then the bundled penguins data is ingested like `mlp ingest` does it, and
 * the synthetic card transactions feed the `customer_spend` feature view
 * (ingested, views applied, materialized, looked up online).
 */
async function demo(json: boolean): Promise<void> {
  const name = `demo-${randomUUID().slice(0, 8)}`;
  const model = await call<RegisteredModelView>('registry', 'POST', '/models', {
    name,
    description: 'created by npm start',
    tags: { source: 'demo' },
  });
  let monitor: { model: string; sourceEventId: string; registeredModel: RegisteredModelView } | undefined;
  for (let i = 0; i < 50 && !monitor; i++) {
    monitor = await call<typeof monitor>('monitoring', 'GET', `/monitors/${name}`).catch(() => undefined);
    if (!monitor) await new Promise((r) => setTimeout(r, 100));
  }
  if (!json) {
    console.log(`\ndemo: registered model '${model.name}' (revision ${model.revision})`);
    if (monitor) {
      console.log(`demo: monitoring reacted to event ${monitor.sourceEventId} and created the monitor of '${monitor.model}'`);
      console.log(`demo: monitoring read '${monitor.registeredModel.name}' back from the registry over the transport: "${monitor.registeredModel.description}"`);
    } else console.log('demo: monitor not created within 5 s');
  }
  const ingestion = await demoIngestion(json);
  if (!json) for (const line of ingestion.lines) console.log(`demo: ${line}`);
  const features = await demoFeatures(json);
  if (!json) for (const line of features.lines) console.log(`demo: ${line}`);
  const training = await demoTraining(json);
  if (!json) for (const line of training.lines) console.log(`demo: ${line}`);
  const registry = await demoRegistry(training.experiment, training.json.runId, training.blessed);
  if (json) printJson({ demo: { model, monitor, ingestion: ingestion.json, features: features.json, training: training.json, registry: registry.json } });
  else for (const line of registry.lines) console.log(`demo: ${line}`);
  if (!monitor) throw new Error('demo failed: monitoring did not react to the new model');
}
