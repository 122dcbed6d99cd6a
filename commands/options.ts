import { closest, distance } from 'fastest-levenshtein';
import { UsageError } from '../src/domain/errors.ts';
import type { ParsedArgs } from '../src/domain/reply.ts';

/** What a subcommand takes besides its name: option names, and how many positional words at the most. */
export interface OptionSpec {
  /** Option names as typed before `=`, lower case, e.g. `['k', 'where']`. */
  options: readonly string[];
  /** Positional words it takes at the most (default none); the rest are refused. */
  positional?: number;
}

/**
 * The one check of a subcommand's words: options it does not take and positional words beyond what it takes
 * are refused with a UsageError naming them, what it does take, and the closest option for a typo.
 */
export function checkOptions(args: ParsedArgs, name: string, spec: OptionSpec): void {
  const allowed = new Set(spec.options);
  const unknown = Object.keys(args.options).filter((key) => !allowed.has(key));
  const wrong = [...unknown.map((key) => `${key}=`), ...args.positional.slice(spec.positional ?? 0)];
  if (wrong.length === 0) return;
  const takes =
    spec.options.length === 0
      ? 'takes no key=value options'
      : `takes only ${listing(spec.options.map((o) => `${o}=`))}`;
  const extra = wrong.join(' ');
  throw new UsageError(
    `${name} does not take ${extra}: ${name} ${takes}; remove ${extra}${hint(unknown, spec)}`,
  );
}

/** `a=`, `a= and b=`, `a=, b= and c=`. */
function listing(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

// One misspelt option gets its likely meaning; several unknown options are more likely the wrong command.
function hint(unknown: readonly string[], spec: OptionSpec): string {
  const [only] = unknown;
  if (only === undefined || unknown.length > 1) return '';
  const guess = nearestName(only, spec.options);
  return guess === undefined ? '' : ` (did you mean ${guess}=?)`;
}

/** The name among `names` that `word` is most likely a typo of (`segmnts` -> `segments`), if one is close. */
export function nearestName(word: string, names: readonly string[]): string | undefined {
  if (names.length === 0) return undefined;
  const guess = closest(word.toLowerCase(), [...names]);
  return distance(guess, word.toLowerCase()) <= Math.max(2, guess.length / 2) ? guess : undefined;
}

/** A `segment=` value as a segment number (1 or more), or undefined when not given. */
export function segmentOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`segment=${value} is not a segment number; use segment=1, segment=2, …`);
  }
  return Number(value);
}

/** Refuses `user=` together with `segment=`: a forecast or a recommendation is for one or the other. */
export function oneScope(options: ParsedArgs['options']): void {
  if (options.user !== undefined && options.segment !== undefined) {
    throw new UsageError('give either user= or segment=, not both');
  }
}
