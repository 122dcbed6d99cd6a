import { InvalidArgumentError } from 'commander';

/** A commander parser for counts, days and seeds. */
export function parseWholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number.');
  return n;
}

/** A commander parser for a share above 0 and at most 1, written as 0.03 or 3%. */
export function parseShare(value: string): number {
  const text = value.trim();
  const n = text.endsWith('%') ? Number(text.slice(0, -1)) / 100 : Number(text);
  if (!(n > 0 && n <= 1))
    throw new InvalidArgumentError('expected a share above 0 and at most 1, like 0.03 or 3%.');
  return n;
}
