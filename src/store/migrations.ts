/**
 * Schema migrations: an ordered list of steps, each taking the data from version `from` to `from + 1`.
 * Steps work on plain JSON-like objects (not the typed model) because they see shapes older than the types.
 * To change the schema: append a step here; SCHEMA_VERSION follows from the list length.
 */

/** One migration step from schema `from` to `from + 1`. */
export interface MigrationStep {
  from: number;
  description: string;
  up: (data: Record<string, unknown>) => Record<string, unknown>;
}

/** The schema version the first release wrote; there is nothing older to migrate from. */
export const FIRST_SCHEMA_VERSION = 1;

/** Every migration, oldest first. */
export const MIGRATIONS: readonly MigrationStep[] = [];

/** The schema version this build reads and writes. */
export const LATEST_SCHEMA_VERSION: number = FIRST_SCHEMA_VERSION + MIGRATIONS.length;

/** Raised when no step leads from a version, or a step throws; the store wraps it with the file name. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Brings `data` (at schema `fromVersion`) up to `target` by running the steps in order; returns what ran. */
export function migrate(
  data: Record<string, unknown>,
  fromVersion: number,
  steps: readonly MigrationStep[] = MIGRATIONS,
  target: number = LATEST_SCHEMA_VERSION,
): { data: Record<string, unknown>; applied: string[] } {
  if (!Number.isSafeInteger(fromVersion))
    throw new MigrationError(`schema version ${String(fromVersion)} is not an integer`);
  if (fromVersion > target) {
    throw new MigrationError(
      `schema version ${fromVersion} is newer than this build understands (${target})`,
    );
  }
  const applied: string[] = [];
  let current = data;
  for (let version = fromVersion; version < target; version++) {
    const step = steps.find((s) => s.from === version);
    if (!step)
      throw new MigrationError(`there is no migration from schema version ${version} to ${version + 1}`);
    try {
      current = step.up(current);
    } catch (error) {
      throw new MigrationError(
        `migration ${version} -> ${version + 1} (${step.description}) failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    current.schemaVersion = version + 1;
    applied.push(`${version} -> ${version + 1}: ${step.description}`);
  }
  return { data: current, applied };
}
