/** A small leveled logger that writes one line per event to stderr and never prints secrets. */
export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

// Slack tokens, signing secrets passed as key=value, and base64 keys of 32 bytes look like this.
const SECRET_PATTERNS = [/xox[abposr]-[\w-]+/g, /xapp-[\w-]+/g, /\b(secret|token|key|password)=\S+/gi];

/** Replaces anything that looks like a Slack token or a secret assignment with [redacted]. */
export function redact(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match) =>
      match.includes('=') ? `${match.split('=')[0]}=[redacted]` : '[redacted]',
    );
  }
  return out;
}

/** Creates a logger that drops events below `level`; `write` defaults to stderr. */
export function createLogger(
  level: keyof typeof LEVELS = 'info',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const min = LEVELS[level];
  const emit = (lvl: keyof typeof LEVELS, message: string, context?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    const extra = context ? ` ${safeJson(context)}` : '';
    write(redact(`${lvl.toUpperCase()} ${message}${extra}`));
  };
  return {
    debug: (m, c) => emit('debug', m, c),
    info: (m, c) => emit('info', m, c),
    warn: (m, c) => emit('warn', m, c),
    error: (m, c) => emit('error', m, c),
  };
}

function safeJson(context: Record<string, unknown>): string {
  try {
    return JSON.stringify(context, (_key, value) =>
      value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value,
    );
  } catch {
    return '[unserialisable context]';
  }
}
