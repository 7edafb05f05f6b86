import { Cron } from 'croner';

/**
 * The firing a restart missed: the latest scheduled time after `since` (the
 * last recorded firing, else when the policy was applied) and at or before
 * `now`, or undefined. Only the latest is returned: a service down for three
 * weeks catches up once, not three times.
 */
export function missedFiring(cron: string, timezone: string | undefined, since: string, now: Date): string | undefined {
  const job = new Cron(cron, { paused: true, timezone: timezone ?? 'UTC' });
  try {
    const [last] = job.previousRuns(1, new Date(now.getTime() + 1));
    return last && last.getTime() > Date.parse(since) ? last.toISOString() : undefined;
  } finally {
    job.stop();
  }
}

/** The next scheduled time strictly after `after`. */
export function nextFiring(cron: string, timezone: string | undefined, after: Date): string | undefined {
  const job = new Cron(cron, { paused: true, timezone: timezone ?? 'UTC' });
  try {
    return job.nextRun(after)?.toISOString();
  } finally {
    job.stop();
  }
}
