import type { DomainEvent } from '@mlp/contracts';
import type { WindowSpec } from './window-spec';

/** What the decision needs of an open drift window: no row data, only its extent so far. */
export type DriftWindowState =
  | { status: 'Closed' }
  | {
      status: 'Open';
      model: string;
      version: number;
      windowId: string;
      spec: WindowSpec;
      rows: number;
      /** Epoch ms of the telemetry times of its first and last row. */
      fromMs: number;
      toMs: number;
    };

/** A policy set or changed a model's window (MonitoringPolicyApplied): what an open window of it should now be. */
export type DriftWindowCommand = { type: 'AdoptWindowSpec'; spec: WindowSpec; policySha256: string };

export type DriftWindowEvent = DomainEvent<'DriftWindowResized'>;

const sameSpec = (a: WindowSpec, b: WindowSpec) => ('size' in a && 'size' in b ? a.size === b.size : 'durationMs' in a && 'durationMs' in b && a.durationMs === b.durationMs);

/** Whether a window with `rows` rows from `fromMs` to `toMs` (telemetry time) is complete under `spec`. */
export function windowComplete(spec: WindowSpec, rows: number, fromMs: number, toMs: number): boolean {
  if (rows === 0) return false;
  return 'size' in spec ? rows >= spec.size : toMs - fromMs >= spec.durationMs;
}

/**
 * An open window meets a new policy: it adopts the new size or duration, and
 * closes at once when it already holds that many rows (or telemetry time).
 * Nothing open, or the same extent: nothing to decide. Pure: time enters only
 * through the window's own telemetry times.
 */
export function decideDriftWindow(command: DriftWindowCommand, state: DriftWindowState): DriftWindowEvent[] {
  switch (command.type) {
    case 'AdoptWindowSpec': {
      if (state.status !== 'Open' || sameSpec(state.spec, command.spec)) return [];
      return [
        {
          type: 'DriftWindowResized',
          data: {
            model: state.model,
            version: state.version,
            windowId: state.windowId,
            from: state.spec,
            to: command.spec,
            rows: state.rows,
            closes: windowComplete(command.spec, state.rows, state.fromMs, state.toMs),
            policySha256: command.policySha256,
          },
        },
      ];
    }
    default: {
      const never: never = command.type;
      throw new Error(`unknown drift window command ${String(never)}`);
    }
  }
}

/** The window after a decided event: the new extent, or closed. */
export function evolveDriftWindow(state: DriftWindowState, event: DriftWindowEvent): DriftWindowState {
  switch (event.type) {
    case 'DriftWindowResized':
      if (state.status !== 'Open') return state;
      return event.data.closes ? { status: 'Closed' } : { ...state, spec: event.data.to };
    default:
      return state;
  }
}
