import { InvalidArgumentError } from 'commander';

/** A commander parser for counts, days and seeds. */
export function parseWholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number.');
  return n;
}
