import { randomUUID } from 'node:crypto';
import type { CommandMetadata } from '@mlp/contracts';
import { currentContext } from '@mlp/messaging';

/**
 * Metadata for a command handled now, inside the current request: its
 * correlation id, actor and causation. The clock is read here, at the edge,
 * so deciders stay pure.
 */
export function commandMetadata(now: Date = new Date()): CommandMetadata {
  const context = currentContext();
  return {
    now: now.toISOString(),
    correlationId: context?.correlationId ?? randomUUID(),
    causationId: context?.causationId ?? null,
    actor: context?.actor ?? 'anonymous',
    ...(context?.commandId ? { commandId: context.commandId } : {}),
  };
}
