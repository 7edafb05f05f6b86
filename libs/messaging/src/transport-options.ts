import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { ServiceName } from '@mlp/contracts';
import { natsServers, rpcPort, type MessagingConfig } from './messaging-config';
import { natsAuth } from './nats-auth';

/** Host the embedded TCP transport binds to and dials: never exposed off the machine. */
export const TCP_HOST = '127.0.0.1';

/** NATS queue group of a service: its replicas share the load of every subject it serves. */
export function queueGroup(service: ServiceName): string {
  return `mlp.${service}`;
}

/**
 * How `service` receives commands and queries: NATS with a per-service queue
 * group when MLP_TRANSPORT=nats (with the configured NATS credentials), otherwise (embedded default) TCP on localhost
 * at the service's rpc port.
 */
export function transportOptions(service: ServiceName, config: MessagingConfig): MicroserviceOptions {
  if (config.MLP_TRANSPORT === 'nats') {
    return {
      transport: Transport.NATS,
      options: {
        servers: natsServers(config),
        queue: queueGroup(service),
        name: `mlp-${service}`,
        ...natsAuth(config),
        // Keep reconnecting for as long as the broker is away (nats.js gives up after 10 attempts by default).
        maxReconnectAttempts: -1,
        // Stop taking new messages, give in-flight handlers a moment, then close.
        gracefulShutdown: true,
        gracePeriod: 200,
      },
    };
  }
  return { transport: Transport.TCP, options: { host: TCP_HOST, port: rpcPort(service, config) } };
}
