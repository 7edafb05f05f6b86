/** One trial of a run's search, as handed to a worker. */
export interface TrialMessage {
  runId: string;
  trial: number;
  params: Record<string, unknown>;
}

export interface TrialDelivery {
  message: TrialMessage;
  /** 1 on first delivery; more when a worker died holding it or failed on an infrastructure error. */
  attempt: number;
  /** Deliveries the queue makes before it gives the trial up: on the last one a worker records the failure instead of throwing. */
  maxAttempts: number;
  /** Tells the queue the worker is alive (long trials). */
  heartbeat(): void;
}

export type TrialHandler = (delivery: TrialDelivery) => Promise<void>;

/**
 * Where a search's trials wait for a worker. Each trial is handled by exactly
 * one worker at a time; a trial whose worker dies before `handler` resolves
 * is delivered again. Enqueuing the same (runId, trial) twice is a no-op.
 */
export interface TrialQueue {
  enqueue(message: TrialMessage): Promise<void>;
  /** Starts `concurrency` workers on this instance. */
  work(handler: TrialHandler, concurrency: number): Promise<void>;
  close(): Promise<void>;
}

export const TRIAL_QUEUE = Symbol('TRIAL_QUEUE');
export const trialMessageId = (m: Pick<TrialMessage, 'runId' | 'trial'>): string => `${m.runId}:trial:${m.trial}`;
