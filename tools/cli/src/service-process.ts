import { join } from 'node:path';
import { serviceNames, type ServiceName } from '@mlp/contracts';

/*
 * The entry point of one service process of `mlp up --distributed`:
 * `service-process.ts <service>`. The CLI spawns it with an IPC channel; when
 * the CLI is gone (even after a kill -9) the channel closes and the service
 * stops as on SIGTERM, so no service outlives the command that started it.
 */
const service = process.argv[2] as ServiceName;
if (!serviceNames.includes(service)) {
  console.error(`service-process: unknown service ${JSON.stringify(service)}; known: ${serviceNames.join(', ')}`);
  process.exit(2);
}
process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
require(join(__dirname, '..', '..', '..', 'services', service, 'src', 'main.ts'));
