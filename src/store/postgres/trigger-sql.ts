/**
 * SQL text shared by the migrations that keep rollups with statement triggers: the trigger function around a body
 * of statements over the transition tables.
 */

/**
 * A statement trigger's function running `body` (statements separated by `;`) with the search_path it was
 * created under, so the rollups it writes are the migrated schema's whatever the caller's path; `replace` for a
 * migration that redefines one.
 */
export const triggerFunction = (name: string, body: string, replace = false): string => `
CREATE ${replace ? 'OR REPLACE ' : ''}FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN ${body}; RETURN NULL; END $$;`;
