/**
 * Caches across replicas: two PgStore instances on one workspace stand for two app replicas. The data version
 * lives in the database, so an import through one is seen by the other's next snapshot, and the query cache of
 * src/queries/ (keyed by the snapshot) computes again there, and only then.
 */
import { afterAll, expect, it } from 'vitest';
import { engineAudience } from '../../../src/queries/audience.ts';
import { cachedResult } from '../../../src/queries/cache.ts';
import { generateSample } from '../../../src/sample/generate.ts';
import { openPgStore, type PgStore } from '../../../src/store/postgres/pg-store.ts';
import { describePostgres, usePostgresSchema } from '../../support/postgres.ts';

const NOW = new Date(Date.UTC(2026, 2, 2, 9));

describePostgres('caches across replicas', () => {
  const db = usePostgresSchema('replica_cache');
  const opened: PgStore[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
  });
  const open = async () => {
    const store = await openPgStore({
      url: db.url,
      schema: db.schema,
      teamId: 'T0CACHE',
      onNotice: () => undefined,
    });
    opened.push(store);
    return store;
  };

  it("sees another replica's import on its next read, and recomputes only then", async () => {
    const first = await open();
    const second = await open();
    const sample = generateSample({ profiles: 120, seed: 5, end: NOW });
    await first.change((tx) => tx.replaceAudience(sample), { now: NOW });

    let computed = 0;
    const profileCount = async (store: PgStore) => {
      const audience = await engineAudience(store);
      return cachedResult(store, audience, 'count', () => {
        computed++;
        return audience.profiles.length;
      });
    };
    expect(await profileCount(second)).toBe(120);
    expect(await profileCount(second)).toBe(120);
    expect(computed).toBe(1);
    // The same version gives the same snapshot: nothing is read again but the version.
    expect(await second.audience.snapshot()).toBe(await second.audience.snapshot());

    // The other replica imports a profile.
    const before = await second.audience.version();
    await first.change(
      (tx) =>
        tx.upsertProfiles(
          [
            {
              id: 'new-person',
              platform: 'instagram',
              country: 'DE',
              created_at: NOW.getTime(),
              last_active_at: NOW.getTime(),
              followers: 3,
              interests: [],
              attrs: {},
            },
          ],
          {},
        ),
      { now: NOW },
    );
    expect(await second.audience.version()).toBe(before + 1);
    expect(await profileCount(second)).toBe(121);
    expect(computed).toBe(2);
    expect((await second.audience.snapshot()).profiles.some((p) => p.id === 'new-person')).toBe(true);
  });
});
