/**
 * SQL text shared by the migrations that keep rollups with statement triggers: the trigger function around a body
 * of statements over the transition tables, and the AFTER statement trigger that runs it.
 */

/**
 * A statement trigger's function running `body` (statements separated by `;`) with the search_path it was
 * created under, so the rollups it writes are the migrated schema's whatever the caller's path; `replace` for a
 * migration that redefines one.
 */
export const triggerFunction = (name: string, body: string, replace = false): string => `
CREATE ${replace ? 'OR REPLACE ' : ''}FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN ${body}; RETURN NULL; END $$;`;

/** The transition tables a statement trigger sees, by event: `added` rows, `removed` rows, or both for an update. */
const TRANSITION = {
  INSERT: 'NEW TABLE AS added',
  DELETE: 'OLD TABLE AS removed',
  UPDATE: 'NEW TABLE AS added OLD TABLE AS removed',
} as const;

/**
 * A statement trigger `name` after each `event` on `table`, running the trigger function `func` (by default of
 * the same name) over the transition tables `added` / `removed`.
 */
export const statementTrigger = (
  name: string,
  event: keyof typeof TRANSITION,
  table: string,
  func: string = name,
): string => `
CREATE TRIGGER ${name} AFTER ${event} ON ${table} REFERENCING ${TRANSITION[event]}
  FOR EACH STATEMENT EXECUTE FUNCTION ${func}();`;
