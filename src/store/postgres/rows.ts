/**
 * Between SQL rows and the data model: the SELECT lists that turn `timestamptz` into epoch ms (exactly: the
 * database keeps microseconds), and the mappers from rows to domain objects. Every list is written once here
 * so reads inside and outside a change agree.
 */
import type {
  AuditEntry,
  CachedModel,
  DeliveryRecord,
  DigestSchedule,
  Interaction,
  InteractionType,
  Product,
  Profile,
  SegmentRun,
  SegmentRunRequest,
} from '../../domain/types.ts';

/** SQL for a timestamptz column as epoch ms (a JavaScript number), null stays null. */
export function ms(column: string): string {
  return `(extract(epoch FROM ${column}) * 1000)::float8`;
}

/**
 * An epoch-ms value as timestamptz text (a parameter or a COPY cell), to the microsecond: a fractional ms
 * survives the round trip, and so do years past 9999 (written without ISO's `+`).
 */
export function ts(value: number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (!Number.isFinite(value)) return value > 0 ? 'infinity' : '-infinity';
  let whole = Math.floor(value);
  let micros = Math.round((value - whole) * 1000);
  if (micros === 1000) {
    whole += 1;
    micros = 0;
  }
  const iso = new Date(whole).toISOString().replace(/^\+/, '');
  return micros === 0 ? iso : iso.replace('Z', `${String(micros).padStart(3, '0')}Z`);
}

/** Profile columns, in the order `toProfile` reads them. */
export const PROFILE_COLUMNS = `id, platform, country, ${ms('created_at')} AS created_at,
  ${ms('last_active_at')} AS last_active_at, followers, interests, attrs`;

/** A profile row as a Profile. */
export function toProfile(r: Record<string, unknown>): Profile {
  return {
    id: r.id as string,
    platform: r.platform as string | null,
    country: r.country as string | null,
    created_at: r.created_at as number | null,
    last_active_at: r.last_active_at as number | null,
    followers: r.followers as number | null,
    interests: r.interests as string[],
    attrs: r.attrs as Profile['attrs'],
  };
}

/** Product columns. */
export const PRODUCT_COLUMNS = 'id, name, category, price, in_stock';

/** A product row as a Product. */
export function toProduct(r: Record<string, unknown>): Product {
  return {
    id: r.id as string,
    name: r.name as string,
    category: r.category as string,
    price: r.price as number,
    in_stock: r.in_stock as boolean,
  };
}

/** Interaction columns. */
export const INTERACTION_COLUMNS = `user_id, item_id, type, value, ${ms('at')} AS timestamp`;

/** An interaction row as an Interaction. */
export function toInteraction(r: Record<string, unknown>): Interaction {
  return {
    user_id: r.user_id as string,
    item_id: r.item_id as string | null,
    type: r.type as InteractionType,
    value: r.value as number | null,
    timestamp: r.timestamp as number,
  };
}

/** Segment run columns without the members (`r` is the run's alias). */
export const RUN_HEADER_COLUMNS = `r.id, ${ms('r.created_at')} AS created_at, r.data_version, r.k, r.features,
  r.scaling, r.names, r.sizes, r.centroids, r.request, r.is_default`;

/** Segment run columns, with the assignments gathered in stored order. */
export const RUN_COLUMNS = `${RUN_HEADER_COLUMNS},
  coalesce((SELECT array_agg(a.user_id ORDER BY a.ord) FROM segment_assignments a
             WHERE a.team_id = r.team_id AND a.run_id = r.id), '{}') AS user_ids,
  coalesce((SELECT array_agg(a.label ORDER BY a.ord) FROM segment_assignments a
             WHERE a.team_id = r.team_id AND a.run_id = r.id), '{}') AS labels`;

/** A segment run row as a SegmentRun. */
export function toSegmentRun(r: Record<string, unknown>): SegmentRun {
  return {
    id: r.id as string,
    created_at: r.created_at as number,
    data_version: r.data_version as number,
    k: r.k as number,
    features: r.features as string[],
    scaling: r.scaling as string,
    names: r.names as string[],
    sizes: r.sizes as number[],
    centroids: r.centroids as number[][],
    user_ids: (r.user_ids as string[] | undefined) ?? [],
    labels: (r.labels as number[] | undefined) ?? [],
    // Absent, not undefined, on runs stored without them (as the file keeps them).
    ...(r.request === null || r.request === undefined ? {} : { request: r.request as SegmentRunRequest }),
    ...(r.is_default === null || r.is_default === undefined ? {} : { default: r.is_default as boolean }),
  };
}

/** Model columns. */
export const MODEL_COLUMNS = `key, kind, data_version, ${ms('created_at')} AS created_at, model`;

/** A model row as a CachedModel. */
export function toModel(r: Record<string, unknown>): CachedModel {
  return {
    kind: r.kind as string,
    key: r.key as string,
    data_version: r.data_version as number,
    created_at: r.created_at as number,
    model: r.model,
  };
}

/** Schedule columns. */
export const SCHEDULE_COLUMNS = `id, channel_id, owner_id, cadence, weekdays, local_time, time_zone, paused,
  last_error, ${ms('created_at')} AS created_at, options`;

/** A schedule row as a DigestSchedule. */
export function toSchedule(r: Record<string, unknown>): DigestSchedule {
  return {
    id: r.id as string,
    channel_id: r.channel_id as string,
    owner_id: r.owner_id as string,
    cadence: r.cadence as DigestSchedule['cadence'],
    weekdays: r.weekdays as number[],
    local_time: r.local_time as string,
    time_zone: r.time_zone as string,
    paused: r.paused as boolean,
    last_error: r.last_error as string | null,
    created_at: r.created_at as number,
    options: r.options as Record<string, unknown>,
  };
}

/** Delivery columns. */
export const DELIVERY_COLUMNS = `key, schedule_id, status, ${ms('at')} AS at, detail`;

/** A delivery row as a DeliveryRecord. */
export function toDelivery(r: Record<string, unknown>): DeliveryRecord {
  return {
    key: r.key as string,
    schedule_id: r.schedule_id as string,
    status: r.status as DeliveryRecord['status'],
    at: r.at as number,
    detail: r.detail as string | null,
  };
}

/** Audit columns. */
export const AUDIT_COLUMNS = `${ms('at')} AS at, actor, action, detail`;

/** An audit row as an AuditEntry. */
export function toAudit(r: Record<string, unknown>): AuditEntry {
  return {
    at: r.at as number,
    actor: r.actor as string,
    action: r.action as string,
    detail: r.detail as string,
  };
}
