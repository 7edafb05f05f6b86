import pino, { type DestinationStream, type Logger } from 'pino';
import { currentContext } from '@mlp/messaging';
import type { LogLevel } from '../config/service-config';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  level?: LogLevel;
  /** Where JSON lines go; stdout by default. */
  destination?: DestinationStream;
}

/** A pino JSON logger tagging every line with `service` and the active `correlationId`. */
export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const context = currentContext();
        return context ? { correlationId: context.correlationId } : {};
      },
    },
    destination,
  );
}
