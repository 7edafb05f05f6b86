import { z } from 'zod';

/**
 * What crosses NATS/TCP for every command and query: the payload plus the
 * request metadata, so correlation ids survive hops between services.
 */
export const rpcMetaSchema = z.object({
  correlationId: z.string().min(1),
  actor: z.string().min(1).default('anonymous'),
  causationId: z.string().min(1).nullable().default(null),
  /** The caller's Idempotency-Key, carried to the service that records the command (see CommandMetadata.commandId). */
  commandId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).optional(),
});
export type RpcMeta = z.infer<typeof rpcMetaSchema>;

export interface RpcRequest<P = unknown> {
  meta: RpcMeta;
  payload: P;
}
