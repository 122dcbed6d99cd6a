/**
 * The fold of a person in a seeded k-fold cross-validation, from their id alone: the first 32 bits of
 * md5("<seed>:<id>") modulo k. A rule of the id (not of the row's position) is what lets a database put each
 * person in the same fold in SQL (src/store/postgres/prediction-rows.ts) as the engine does in memory, so both
 * backends report the same cross-validated figures. md5 is used as a standard, well-mixed hash that PostgreSQL
 * and Node both have built in, not for security.
 */
import { hash } from 'node:crypto';

/** The fold (0 … folds-1) of person `id` under `seed`. */
export function foldOfId(id: string, seed: number, folds: number): number {
  return Number.parseInt(hash('md5', `${seed}:${id}`, 'hex').slice(0, 8), 16) % folds;
}
