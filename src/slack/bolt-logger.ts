import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../logger.ts';

const ORDER = [LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR];

/**
 * Routes Bolt's and the Web API client's own log lines through our logger, so they get the same format
 * and the same secret redaction as everything else. Our LOG_LEVEL decides: the Web API client calls
 * setLevel/setName on every client it creates, which would otherwise change the level for all of them.
 */
export function boltLogger(logger: Logger, level: LogLevel): BoltLogger {
  const emit = (at: LogLevel, write: (message: string, context?: Record<string, unknown>) => void) => {
    return (...msg: unknown[]) => {
      if (ORDER.indexOf(at) < ORDER.indexOf(level)) return;
      const error = msg.find((m): m is Error => m instanceof Error);
      const text = msg
        .filter((m) => !(m instanceof Error))
        .map((m) => (typeof m === 'string' ? m : safe(m)))
        .join(' ');
      write(`[slack] ${text || (error?.message ?? '')}`.trim(), error ? { error } : undefined);
    };
  };
  return {
    debug: emit(LogLevel.DEBUG, (m, c) => logger.debug(m, c)),
    info: emit(LogLevel.INFO, (m, c) => logger.info(m, c)),
    warn: emit(LogLevel.WARN, (m, c) => logger.warn(m, c)),
    error: emit(LogLevel.ERROR, (m, c) => logger.error(m, c)),
    setLevel: () => undefined,
    getLevel: () => level,
    setName: () => undefined,
  };
}

function safe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
