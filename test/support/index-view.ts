import type { InteractionIndex } from '../../src/engine/interaction-index.ts';

/** Everything an interaction view holds, as plain values, to compare two views with toEqual. */
export function plainView(index: InteractionIndex) {
  return {
    length: index.length,
    userIds: index.userIds,
    userKeys: { ...index.userKeys },
    start: Array.from(index.start),
    firstEvent: Array.from(index.firstEvent),
    itemIds: index.itemIds,
    itemKeys: { ...index.itemKeys },
    f64: Array.from({ length: index.length }, (_, r) => index.f64[2 * r]),
    i32: Array.from(index.i32),
    values: Array.from(index.values),
    timeSorted: index.timeSorted,
    purchases: {
      user: Array.from(index.purchases.user),
      ts: Array.from(index.purchases.ts),
      value: Array.from(index.purchases.value),
      item: Array.from(index.purchases.item),
    },
    minTs: index.minTs,
    maxTs: index.maxTs,
  };
}
