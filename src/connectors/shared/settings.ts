/** Reading a connection's non-secret settings (strings) into the numbers a connector needs. */
import type { ConnectorContext } from '../connector.ts';
import { ConnectorError } from '../errors.ts';

/** A whole-number setting above 0, or `fallback` when unset; anything else is `config` (the owner fixes it). */
export function positiveSetting(ctx: ConnectorContext, name: string, fallback: number): number {
  const raw = ctx.settings[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConnectorError('config', `The setting ${name} must be a whole number above 0, not "${raw}".`);
  }
  return value;
}
