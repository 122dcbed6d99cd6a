/** A small leveled logger that writes one line per event to stderr and never prints secrets. */
export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

// Slack tokens, secret assignments, base64 keys of 32 bytes, e-mail addresses and @handles look like this.
const SECRET_PATTERNS = [/xox[abposre]-[\w-]+/g, /xapp-[\w-]+/g, /\b(secret|token|key|password)=\S+/gi];
const KEY_PATTERN = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=/g;
const EMAIL_PATTERN = /[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
// `@jane` typed in a command (user=@jane, forget @jane), but not Slack's own mentions such as <@U012AB3CD>.
const HANDLE_PATTERN = /(?<![<\w/])@[\w.]{1,64}(?![\w.]*\/)/g;

/**
 * Replaces anything that looks like a Slack token, a secret assignment or a 32-byte base64 key with
 * [redacted], and personal identifiers typed into commands (e-mail addresses, @handles) with [person];
 * `secrets` are exact values (the configured tokens and keys) redacted wherever they appear.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    // Short values would blank out ordinary words; real secrets are long.
    if (secret.length >= 8) out = out.split(secret).join('[redacted]');
  }
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match) =>
      match.includes('=') ? `${match.split('=')[0]}=[redacted]` : '[redacted]',
    );
  }
  return out
    .replace(KEY_PATTERN, '[redacted]')
    .replace(EMAIL_PATTERN, '[person]')
    .replace(HANDLE_PATTERN, '@[person]');
}

/** What a logger must never print: the exact secret values of the configuration (see configSecrets()). */
export interface LoggerOptions {
  secrets?: readonly string[];
}

/** Creates a logger that drops events below `level`; `write` defaults to stderr. */
export function createLogger(
  level: keyof typeof LEVELS = 'info',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  options: LoggerOptions = {},
): Logger {
  const min = LEVELS[level];
  // JSON escapes some characters (a `/` stays, but `"` and `\` do not), so look for both spellings.
  const secrets = [...new Set((options.secrets ?? []).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))];
  const emit = (lvl: keyof typeof LEVELS, message: string, context?: Record<string, unknown>) => {
    if (LEVELS[lvl] < min) return;
    const extra = context ? ` ${safeJson(context)}` : '';
    write(redact(`${lvl.toUpperCase()} ${message}${extra}`, secrets));
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
