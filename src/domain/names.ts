/** Matching key for column names: `User ID`, `user_id`, `userId` and `user-id` all become `userid`. */
export function normalizeKey(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_.-]+/g, '');
}
