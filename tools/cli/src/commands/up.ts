import { closeOnSignals } from '@mlp/service-kit';
import { startEmbedded, type EmbeddedPlatform } from '../embedded';
import { printJson, printTable } from '../output';
import { runDemo } from './demo';

export interface UpOptions {
  json: boolean;
  demo: boolean;
}

/** `mlp up`: the embedded platform until Ctrl-C; with the demo, every stage of the pipeline runs once first (./demo.ts). */
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
  if (options.demo) await runDemo(platform.home, options.json);
  const monitoring = platform.services.find((s) => s.service === 'monitoring');
  if (!options.json) {
    if (monitoring) console.log(`dashboard: ${monitoring.url}/`);
    console.log('Ctrl-C stops the platform.');
  }
  closeOnSignals(() => platform.close());
  return platform;
}
