import { categories, streams, type EventData, type RecordedEvent } from '@mlp/contracts';
import { aggregate, type ProcessManager } from '@mlp/eventstore';
import { describeError } from '@mlp/service-kit';
import { conditionKey } from '../policies/monitor-policy';
import { monitorPolicyDecider } from '../policies/monitor-policy.decide';
import { durationMs } from '../policies/policy';
import type { WebhookSender } from './webhook-sender';

export const ALERT_DELIVERY_PM = 'monitoring.alert-delivery';

type Raised = EventData<'AlertRaised'>;
type Transition = 'raised' | 'resolved';

/** The JSON a webhook receives for one alert transition. */
export interface AlertPayload {
  type: 'AlertRaised' | 'AlertResolved';
  alertId: string;
  model: string;
  version?: number;
  condition: string;
  severity: string;
  message: string;
  details: Record<string, unknown>;
  occurredAt: string;
  eventId: string;
  correlationId: string;
}

/**
 * Sends AlertRaised (when the policy's `alert` action asked for it) and the
 * matching AlertResolved to the policy's webhook, and records the outcome
 * (AlertDelivered / AlertDeliveryFailed) in `monitor-<model>`.
 * Deduplicated: a transition already delivered is never sent again (a
 * re-delivered event, a restart between the POST and the checkpoint), and a
 * new alert of a condition whose last alert was sent less than the policy's
 * `alerts.dedupe` ago is recorded but not sent (a flapping condition).
 */
export function alertDeliveryProcessManager(sender: WebhookSender): ProcessManager {
  return {
    name: ALERT_DELIVERY_PM,
    filter: { category: categories.monitor },
    canHandle: (event) => event.type === 'AlertRaised' || event.type === 'AlertResolved',
    async handle(event, ctx) {
      const { model, alertId } = event.data as { model: string; alertId: string };
      const stream = streams.monitor(model);
      const history = await ctx.store.readStream(stream);
      const state = aggregate(monitorPolicyDecider, history.filter((e) => e.position <= event.position || e.position < 0));
      const webhook = state.status === 'Active' ? state.policy.alerts?.webhook : undefined;
      const raisedEvent = history.find((e) => e.type === 'AlertRaised' && (e.data as Raised).alertId === alertId);
      if (!webhook || !raisedEvent) return;
      const raised = raisedEvent.data as Raised;
      if (!raised.notify) return;
      const transition: Transition = event.type === 'AlertRaised' ? 'raised' : 'resolved';
      if (delivered(history, alertId, transition)) return;
      if (transition === 'resolved' && !delivered(history, alertId, 'raised')) return; // its raise was suppressed or failed
      if (transition === 'raised' && state.status === 'Active') {
        const windowMs = durationMs(state.policy.alerts?.dedupe ?? '1h');
        if (recentlySent(history, raised, event, windowMs)) return;
      }
      const payload = toPayload(event, raised);
      const outcome = await sender.post(webhook, payload, `${alertId}:${transition}`).then(
        (result) => ({ type: 'AlertDelivered' as const, data: { alertId, transition, webhook: redact(webhook), attempts: result.attempts, status: result.status } }),
        (err: Error) => {
          const attempts = (err as { details?: { attempts?: number } }).details?.attempts ?? 1;
          return { type: 'AlertDeliveryFailed' as const, data: { alertId, transition, webhook: redact(webhook), attempts, error: describeError(err).slice(0, 2000) } };
        },
      );
      await ctx.append(stream, [outcome]);
    },
  };
}

function delivered(history: RecordedEvent[], alertId: string, transition: Transition): boolean {
  return history.some((e) => e.type === 'AlertDelivered' && (e.data as { alertId: string; transition: string }).alertId === alertId && (e.data as { transition: string }).transition === transition);
}

/** Whether another alert of the same condition was delivered within `windowMs` before this one started. */
function recentlySent(history: RecordedEvent[], raised: Raised, event: RecordedEvent, windowMs: number): boolean {
  const key = conditionKey(raised.condition, raised.details);
  const at = Date.parse(event.occurredAt);
  return history.some((e) => {
    if (e.type !== 'AlertRaised' || e.id === event.id) return false;
    const other = e.data as Raised;
    if (conditionKey(other.condition, other.details) !== key || !delivered(history, other.alertId, 'raised')) return false;
    const t = Date.parse(e.occurredAt);
    return t <= at && at - t < windowMs;
  });
}

function toPayload(event: RecordedEvent, raised: Raised): AlertPayload {
  const message = event.type === 'AlertRaised' ? raised.message : (event.data as { message: string }).message;
  return {
    type: event.type as AlertPayload['type'],
    alertId: raised.alertId,
    model: raised.model,
    ...(raised.version !== undefined ? { version: raised.version } : {}),
    condition: raised.condition,
    severity: event.type === 'AlertRaised' ? raised.severity : 'resolved',
    message,
    details: raised.details,
    occurredAt: event.occurredAt,
    eventId: event.id,
    correlationId: event.correlationId,
  };
}

/** The webhook without credentials or query (tokens often ride there), for events and logs. */
function redact(webhook: string): string {
  const url = new URL(webhook);
  return `${url.protocol}//${url.host}${url.pathname}`;
}
