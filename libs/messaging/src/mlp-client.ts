import { randomUUID } from 'node:crypto';
import type { OnApplicationShutdown } from '@nestjs/common';
import { ClientNats, ClientTCP } from '@nestjs/microservices';
import type { NatsConnection } from 'nats';
import { lastValueFrom, timeout } from 'rxjs';
import {
  InfrastructureError,
  parseOrThrow,
  rpcMetaSchema,
  serviceOfSubject,
  type RpcMeta,
  type RpcRequest,
  type ServiceName,
} from '@mlp/contracts';
import { DEFAULT_RPC_TIMEOUT_MS, natsServers, rpcPort, type MessagingConfig } from './messaging-config';
import { currentContext } from './request-context';
import { natsAuth } from './nats-auth';
import { rpcErrorCodes, toCallerError } from './rpc-errors';
import { TCP_HOST } from './transport-options';

/** Injection token of the MlpClient (also injectable by its class). */
export const MLP_CLIENT = Symbol('MLP_CLIENT');

export interface SendOptions {
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
}

/**
 * Sends commands and queries to other services, over one NATS connection or
 * (embedded mode) one TCP connection per target service. Every message is an
 * `RpcRequest {meta, payload}` carrying the current correlation id; error
 * replies come back as the DomainError the remote handler threw.
 */
export class MlpClient implements OnApplicationShutdown {
  private nats?: ClientNats;
  private readonly tcp = new Map<ServiceName, ClientTCP>();
  private readonly timeoutMs: number;
  private closed = false;

  constructor(
    private readonly config: MessagingConfig,
    /** The calling service; names the NATS connection. */
    private readonly caller?: ServiceName,
  ) {
    this.timeoutMs = config.MLP_RPC_TIMEOUT_MS ?? DEFAULT_RPC_TIMEOUT_MS;
  }

  /** Request/reply (`@MessagePattern`). Rejects with the remote DomainError or an InfrastructureError. */
  async send<R>(subject: string, payload: unknown, meta?: Partial<RpcMeta>, options: SendOptions = {}): Promise<R> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const request = this.request(subject, payload, meta);
    try {
      const reply$ = this.proxyFor(subject).send<R, RpcRequest>(subject, request).pipe(timeout({ first: timeoutMs }));
      return await lastValueFrom(reply$, { defaultValue: undefined as R });
    } catch (err) {
      throw toCallerError(err, subject, timeoutMs);
    }
  }

  /** Fire-and-forget notification (`@EventPattern`); resolves once handed to the transport. */
  async emit(subject: string, payload: unknown, meta?: Partial<RpcMeta>): Promise<void> {
    const request = this.request(subject, payload, meta);
    try {
      await lastValueFrom(this.proxyFor(subject).emit(subject, request).pipe(timeout({ first: this.timeoutMs })), {
        defaultValue: undefined,
      });
    } catch (err) {
      throw toCallerError(err, subject, this.timeoutMs);
    }
  }

  /** Drains the NATS connection (pending replies are delivered) and closes every TCP connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const nats = this.nats;
    this.nats = undefined;
    if (nats) {
      try {
        await nats.unwrap<NatsConnection>().drain();
      } catch {
        // never connected, or already closed
      }
      await nats.close();
    }
    for (const client of this.tcp.values()) client.close();
    this.tcp.clear();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private request(subject: string, payload: unknown, meta: Partial<RpcMeta> = {}): RpcRequest {
    const context = currentContext();
    const fullMeta = parseOrThrow(
      rpcMetaSchema,
      {
        correlationId: meta.correlationId ?? context?.correlationId ?? randomUUID(),
        actor: meta.actor ?? context?.actor,
        causationId: meta.causationId ?? null,
        ...((meta.commandId ?? context?.commandId) ? { commandId: meta.commandId ?? context?.commandId } : {}),
      },
      `rpc meta for ${subject}`,
    );
    return { meta: fullMeta, payload };
  }

  private proxyFor(subject: string): ClientNats | ClientTCP {
    if (this.closed) {
      throw new InfrastructureError(`client is closed; cannot send ${subject}`, { code: rpcErrorCodes.unavailable });
    }
    if (this.config.MLP_TRANSPORT === 'nats') {
      this.nats ??= new ClientNats({
        servers: natsServers(this.config),
        name: this.caller ? `mlp-${this.caller}-client` : 'mlp-client',
        ...natsAuth(this.config),
        maxReconnectAttempts: -1,
      });
      return this.nats;
    }
    const target = serviceOfSubject(subject);
    if (!target) {
      throw new InfrastructureError(`cannot route ${subject} over TCP: not a command or query subject`, {
        code: rpcErrorCodes.unroutable,
      });
    }
    let client = this.tcp.get(target);
    if (!client) {
      client = new ClientTCP({ host: TCP_HOST, port: rpcPort(target, this.config) });
      this.tcp.set(target, client);
    }
    return client;
  }
}
