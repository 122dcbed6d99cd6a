/**
 * Who carries which pseudonym (migration 9): `profile_pseudonyms` lists, per workspace, each pseudonym stored in a
 * profile's attributes (a `ps_…` string, alone or in a list: src/privacy/pseudonym.ts) with the profile's id, kept
 * by statement triggers on profiles. `user=@handle` and `forget jane@example.com` look the pseudonym up by primary
 * key (`AudienceReads.pseudonymOwners`) instead of reading every profile.
 */

import type { Queryable } from './claims.ts';
import { triggerFunction as fn, statementTrigger } from './trigger-sql.ts';

/** The pseudonyms of a profile's attributes, in SQL: what privacy/resolve.ts's index reads in the app. */
const PSEUDONYMS_OF = `
CREATE FUNCTION pseudonyms_of(attrs jsonb) RETURNS SETOF text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT DISTINCT v FROM (
    SELECT value #>> '{}' AS v FROM jsonb_each(attrs) WHERE jsonb_typeof(value) = 'string'
    UNION ALL
    SELECT e #>> '{}' FROM jsonb_each(attrs),
           jsonb_array_elements(CASE WHEN jsonb_typeof(value) = 'array' THEN value ELSE '[]' END) AS e
     WHERE jsonb_typeof(e) = 'string') AS x
   WHERE v ~ '^ps_[a-z2-7]{26}$'
$$;`;

const of = (rows: string) => `SELECT r.team_id, ps, r.id FROM ${rows} r, pseudonyms_of(r.attrs) AS ps`;
const insert = (rows: string) => `
  INSERT INTO profile_pseudonyms (team_id, pseudonym, user_id) ${of(rows)} ON CONFLICT DO NOTHING`;
const remove = (pairs: string) => `
  DELETE FROM profile_pseudonyms t USING (${pairs}) AS o (team_id, ps, id)
   WHERE t.team_id = o.team_id AND t.pseudonym = o.ps AND t.user_id = o.id`;

/** The migration: the table, its triggers, and its rows from the profiles there are. */
export const PSEUDONYMS_SQL = `
${PSEUDONYMS_OF}
CREATE TABLE profile_pseudonyms (
  team_id   text NOT NULL,
  pseudonym text NOT NULL,
  user_id   text NOT NULL,
  PRIMARY KEY (team_id, pseudonym, user_id)
);
${fn('pseudonyms_added', insert('added'))}
${fn('pseudonyms_removed', remove(of('removed')))}
${fn('pseudonyms_changed', `${remove(`${of('removed')} EXCEPT ${of('added')}`)}; ${insert('added')}`)}
${statementTrigger('pseudonyms_added', 'INSERT', 'profiles')}
${statementTrigger('pseudonyms_removed', 'DELETE', 'profiles')}
${statementTrigger('pseudonyms_changed', 'UPDATE', 'profiles')}
${insert('profiles')};
`;

// Migration 20: the same pseudonyms, found by two JSON path queries, in a function PostgreSQL inlines into the
// statement (a STRICT SQL function, or one with DISTINCT over a UNION of jsonb_each, ran as a function call per
// profile: 89 s of a 1M-profile import's 258 s at load 9-13; 47 -> 17 µs a profile alone). Repeats are no longer
// removed here: every caller tolerates them (ON CONFLICT DO NOTHING, DELETE … USING, EXCEPT). The new pairs are
// written in key order, so a statement walks the key's pages once instead of one random page per profile.
const PSEUDONYM_PATH = `? (@.type() == "string" && @ like_regex "^ps_[a-z2-7]{26}$")`;
const insertOrdered = (rows: string) => `
  INSERT INTO profile_pseudonyms (team_id, pseudonym, user_id) ${of(rows)} ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING`;

/** Migration 20 (see above). */
export const PSEUDONYMS_INLINE_SQL = `
CREATE OR REPLACE FUNCTION pseudonyms_of(attrs jsonb) RETURNS SETOF text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT v #>> '{}' FROM jsonb_path_query(attrs, 'strict $.* ${PSEUDONYM_PATH}') v
  UNION ALL
  SELECT v #>> '{}' FROM jsonb_path_query(attrs, 'strict $.* ? (@.type() == "array")[*] ${PSEUDONYM_PATH}') v
$$;
CREATE OR REPLACE FUNCTION pseudonyms_added() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN ${insertOrdered('added')}; RETURN NULL; END $$;
CREATE OR REPLACE FUNCTION pseudonyms_changed() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN ${remove(`${of('removed')} EXCEPT ${of('added')}`)}; ${insertOrdered('added')}; RETURN NULL; END $$;
`;

/** Recounts one workspace's pseudonym list from its profiles (after a load that bypassed the triggers). */
export async function rebuildPseudonyms(db: Queryable, team: string): Promise<void> {
  await db.query('DELETE FROM profile_pseudonyms WHERE team_id = $1', [team]);
  await db.query(insert('(SELECT * FROM profiles WHERE team_id = $1)'), [team]);
}

/** The ids of the profiles carrying each of `pseudonyms` (each id once per pseudonym, in stored profile order). */
export async function readPseudonymOwners(
  db: Queryable,
  team: string,
  pseudonyms: readonly string[],
): Promise<Map<string, string[]>> {
  const { rows } = await db.query<{ pseudonym: string; user_id: string }>(
    `SELECT t.pseudonym, t.user_id FROM profile_pseudonyms t
       JOIN profiles p ON p.team_id = t.team_id AND p.id = t.user_id
      WHERE t.team_id = $1 AND t.pseudonym = ANY($2) ORDER BY p.seq`,
    [team, pseudonyms],
  );
  const owners = new Map<string, string[]>();
  for (const r of rows) owners.set(r.pseudonym, [...(owners.get(r.pseudonym) ?? []), r.user_id]);
  return owners;
}
