import { categories, DomainError, streams, subjects, type EventData } from '@mlp/contracts';
import type { ProcessManager } from '@mlp/eventstore';
import type { MlpClient } from '@mlp/messaging';
import type { Logger } from '@mlp/service-kit';
import { activeRollout } from './policy-reactions.process-manager';

export const POLICY_ACTIONS_PM = 'monitoring.policy-actions';

/**
 * Carries out what the policy decided, over the transport (NATS or TCP):
 * RollbackRequested → serving rolls back the rollout in progress, or (none
 * in progress) the registry moves `production` back to its previous version
 * and serving follows the alias; the outcome and its cause are recorded as
 * RollbackExecuted. CanaryPromotionRequested → serving promotes the rollout.
 */
export function policyActionsProcessManager(client: MlpClient, logger?: Logger): ProcessManager {
  return {
    name: POLICY_ACTIONS_PM,
    filter: { category: categories.monitor },
    canHandle: (e) => e.type === 'RollbackRequested' || e.type === 'CanaryPromotionRequested',
    async handle(event, ctx) {
      const rpcMeta = { correlationId: event.correlationId, causationId: event.id, actor: `process-manager:${POLICY_ACTIONS_PM}` };
      if (event.type === 'CanaryPromotionRequested') {
        const d = event.data as EventData<'CanaryPromotionRequested'>;
        const rollout = await activeRollout(ctx.store, d.model);
        if (rollout?.deploymentId !== d.deploymentId) return; // already promoted or rolled back
        await client
          .send(subjects.cmd.serving.promoteDeployment, { model: d.model, reason: `monitoring policy: ${d.predictions} predictions within the canary rules` }, rpcMeta)
          .catch((err: unknown) => logger?.warn({ err, model: d.model }, 'canary promotion refused'));
        return;
      }
      const d = event.data as EventData<'RollbackRequested'>;
      const stream = streams.monitor(d.model);
      const done = (await ctx.store.readStream(stream)).some((e) => e.type === 'RollbackExecuted' && (e.data as { cause: { eventId: string } }).cause.eventId === event.id);
      if (done) return;
      const reason = `monitoring policy: ${d.reason}`.slice(0, 2000);
      const rollout = await activeRollout(ctx.store, d.model);
      let registry = { ok: true, detail: 'production alias left on the stable version' };
      let serving: { ok: boolean; detail: string } | null = null;
      if (rollout) {
        serving = await attempt(() => client.send(subjects.cmd.serving.rollbackDeployment, { model: d.model, reason }, rpcMeta), `rollout ${rollout.deploymentId} rolled back to v${rollout.stableVersion}`);
      } else {
        registry = await attempt(() => client.send(subjects.cmd.registry.rollbackAlias, { name: d.model, alias: 'production', reason }, rpcMeta), 'production moved back to its previous version; serving follows the alias');
      }
      await ctx.append(stream, [{ type: 'RollbackExecuted', data: { model: d.model, registry, serving, cause: { eventId: event.id, type: event.type } } }]);
    },
  };
}

/** A command's outcome for the record: domain refusals (nothing to roll back) are outcomes, infrastructure failures are retried by the runner. */
async function attempt(send: () => Promise<unknown>, success: string): Promise<{ ok: boolean; detail: string }> {
  try {
    await send();
    return { ok: true, detail: success };
  } catch (err) {
    if (err instanceof DomainError && err.name !== 'InfrastructureError') return { ok: false, detail: `${err.code}: ${err.message}`.slice(0, 2000) };
    throw err;
  }
}
