import { benchEventStore } from './eventstore.bench';
import { benchStartup } from './startup.bench';
import { benchIngest } from './ingest.bench';
import { benchFeaturesOffline } from './features-offline.bench';
import { benchFeaturesOnline } from './features-online.bench';
import { benchTraining } from './training.bench';
import { benchDrift } from './drift.bench';
import { benchServing } from './serving.bench';
import { benchBatchAlone } from './batch.bench';
import { benchMonitoring } from './monitoring.bench';
import { benchDemo } from './demo.bench';

/** `npm run bench [-- <name>...]`: every bench prints figures against a baseline from the same run. */
const benches: Record<string, () => Promise<void>> = {
  eventstore: benchEventStore,
  startup: benchStartup,
  ingest: benchIngest,
  'features-offline': benchFeaturesOffline,
  'features-online': benchFeaturesOnline,
  training: benchTraining,
  drift: benchDrift,
  serving: benchServing,
  batch: benchBatchAlone,
  monitoring: benchMonitoring,
  demo: benchDemo,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !benches[w]);
  if (unknown.length > 0) {
    console.error(`unknown bench ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  for (const name of wanted.length > 0 ? wanted : Object.keys(benches)) await benches[name]();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
