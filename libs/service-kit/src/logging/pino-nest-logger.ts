import { types } from 'node:util';
import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

const looksLikeStack = (value: unknown): value is string => typeof value === 'string' && /\n\s+at /.test(value);

/** Routes Nest's own logs (`Logger`, framework messages) through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  // Nest calls (message, ...extras, context) and error(message, stack?, context?).
  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const rest = params.filter((p) => p !== undefined);
    const bindings: Record<string, unknown> = {};
    const last = rest[rest.length - 1];
    if (typeof last === 'string' && !looksLikeStack(last)) bindings.context = rest.pop();
    const stackIndex = rest.findIndex(looksLikeStack);
    if (stackIndex >= 0) bindings.stack = rest.splice(stackIndex, 1)[0];
    if (rest.length > 0) bindings.params = rest;

    if (message instanceof Error || types.isNativeError(message)) {
      bindings.err = message;
      this.logger[level](bindings, (message as Error).message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level]({ ...bindings, data: message });
    } else {
      this.logger[level](bindings, String(message));
    }
  }
}
