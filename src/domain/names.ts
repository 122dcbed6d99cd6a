/** Matching key for column names: `User ID`, `user_id`, `userId` and `user-id` all become `userid`. */
export function normalizeKey(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_.-]+/g, '');
}

/**
 * `record[key]` for a name a person typed (an option, an attribute, a field): only the record's own entries,
 * so `constructor` or `__proto__` are unknown names rather than members every object inherits.
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
