import { closeOnSignals } from '@mlp/service-kit';
import { startDistributed, type DistributedPlatform } from '../distributed';
import { startEmbedded, type EmbeddedPlatform } from '../embedded';
import { printJson, printTable } from '../output';
import { runDemo } from './demo';

export interface UpOptions {
  json: boolean;
  demo: boolean;
  /** Each service as its own process on NATS, JetStream and S3 (../distributed.ts). */
  distributed?: boolean;
}

/**
 * `mlp up`: the platform until Ctrl-C, embedded (all six services in this
 * process) or distributed (six processes); with the demo, every stage of the
 * pipeline runs once first (./demo.ts), by the same code in both modes.
 */
export async function up(options: UpOptions): Promise<EmbeddedPlatform | DistributedPlatform> {
  const started = Date.now();
  const platform = options.distributed ? await startDistributed() : await startEmbedded();
  const readyMs = Date.now() - started;
  const monitoring = platform.services.find((s) => s.service === 'monitoring');
  const dashboard = monitoring ? `${monitoring.url}/` : undefined;
  if ('adminKey' in platform) {
    // The demo (and every command of this process) sends it as x-api-key: auth is on in distributed mode.
    process.env.MLP_ADMIN_KEY = platform.adminKey;
    const rows = platform.services.map((s) => ({ service: s.service, url: s.url, docs: `${s.url}/docs`, pid: s.pid }));
    if (options.json) {
      const { services: _s, close: _c, adminKey, generatedKey, ...rest } = platform;
      printJson({ readyMs, mode: 'distributed', ...rest, ...(generatedKey ? { adminKey } : {}), services: rows, dashboard });
    } else {
      console.log(`mlp: six services ready in ${readyMs} ms, each its own process (data in ${platform.home}, logs in ${platform.logs})`);
      for (const line of platform.infrastructure) console.log(`  ${line}`);
      if (platform.generatedKey) {
        console.log(`  auth is on: bootstrap admin key (shown once; this command uses it): ${platform.adminKey}`);
        console.log('  from another terminal: export MLP_ADMIN_KEY=<that key> (or create keys with `mlp keys create`)');
      } else console.log('  auth is on: the bootstrap admin key is MLP_ADMIN_KEY');
      printTable(rows, ['service', 'url', 'docs', 'pid'], { right: ['pid'] });
    }
  } else {
    const rows = platform.services.map((s) => ({ service: s.service, url: s.url, docs: `${s.url}/docs` }));
    if (options.json) printJson({ readyMs, home: platform.home, eventStore: platform.eventStoreUrl, services: rows, dashboard });
    else {
      console.log(`mlp: six services ready in ${readyMs} ms (data in ${platform.home}, events at ${platform.eventStoreUrl})`);
      printTable(rows, ['service', 'url', 'docs']);
    }
  }
  closeOnSignals(() => platform.close());
  if (options.demo) {
    await runDemo(platform.home, options.json).catch(async (err: unknown) => {
      await platform.close();
      throw err;
    });
  }
  if (!options.json) {
    if (dashboard) console.log(`dashboard: ${dashboard}`);
    console.log('Ctrl-C stops the platform.');
  }
  return platform;
}
