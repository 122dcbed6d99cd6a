import type { Clock } from '../domain/types.ts';
import { FeatureError } from '../engine/features.ts';
import { interactionIndex } from '../engine/interaction-index.ts';
import { defaultFeatures, PredictError, SPEND_TARGET } from '../engine/predict.ts';
import { RecommendError } from '../engine/recommend.ts';
import { SegmentError } from '../engine/segments.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { AudienceTooLargeError, engineAudience } from './audience.ts';
import { predictionModelFor } from './prediction.ts';
import { recommendationModelFor } from './recommendation.ts';
import { audiencePredictionsFor, audienceStatsFor, sqlForecastFor } from './results.ts';
import { computeSegmentation, defaultRequest, storedDefaultHeader } from './segmentation.ts';

/**
 * After the audience changes (start-up, an import, an erasure, a new segmentation), the first person to ask pays
 * for building the interaction index and fitting the models: seconds on a large audience, while everyone asking
 * after them waits in line. The warm-up does that work while nobody is asking, one step at a time, each step
 * going through the same work queue as commands so it never runs beside one, and only when the queue is empty
 * so a person's command never waits behind more than the one step already running.
 *
 * It writes nothing a command would not: the prediction and recommendation models go to the model cache as a
 * command would put them there, and the default segmentation is only remembered in memory, because storing a
 * segment run is a user's act that digests compare week over week.
 */

/** The queue the warm-up steps go through (the Slack app's work queue). */
export interface WarmUpQueue {
  run<T>(kind: string, fn: () => Promise<T>): Promise<T>;
  readonly pending: number;
  /** Milliseconds since the last request or job. */
  idleMs(): number;
}

/** What the warm-up needs. */
export interface WarmUpDeps {
  store: Store;
  clock: Clock;
  currency: string;
  queue: WarmUpQueue;
  logger: Logger;
  /** How often to look for a changed audience while idle (default 1 s). */
  checkEveryMs?: number;
  /**
   * After the first warm-up, a change is warmed up only once nobody has asked anything for this long (default
   * 3 s): a step cannot be interrupted (a recommendation model takes seconds on a large audience), so starting
   * one in a pause between commands would make the next person wait for it.
   */
  quietMs?: number;
}

/** The running warm-up. */
export interface WarmUp {
  /** True once everything for the current audience is computed (for /healthz and benchmarks). */
  readonly ready: boolean;
  /** Resolves once ready, or false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean>;
  stop(): void;
}

interface Step {
  name: string;
  run: () => void | Promise<void>;
}

/** The steps for the store's current audience, cheapest and most asked-for first. */
export function warmUpSteps(store: Store, settings: { now: number; currency: string }): Step[] {
  const { now, currency } = settings;
  const tolerate = (fn: () => Promise<void>) => async () => {
    // Thin or odd data makes a model refuse; the command will give the person that reason in words.
    try {
      await fn();
    } catch (error) {
      if (
        error instanceof PredictError ||
        error instanceof FeatureError ||
        error instanceof SegmentError ||
        error instanceof RecommendError ||
        // A database too large to read into the app: what it answers itself is warmed by the other steps.
        error instanceof AudienceTooLargeError
      )
        return;
      throw error;
    }
  };
  return [
    {
      name: 'interaction index',
      run: tolerate(async () => {
        const { interactions, profiles } = await engineAudience(store);
        interactionIndex(interactions, profiles);
      }),
    },
    { name: 'stats', run: async () => void (await audienceStatsFor(store, null, now)) },
    {
      name: 'segments',
      run: tolerate(
        async () =>
          void (await computeSegmentation(
            store,
            defaultRequest(await store.segmentRuns.headers()),
            now,
            currency,
          )),
      ),
    },
    {
      name: 'prediction',
      run: tolerate(async () => {
        const features = defaultFeatures(await store.audience.attributeKinds());
        const request = { target: SPEND_TARGET, features, userChoseFeatures: false, currency };
        const { model, key } = await predictionModelFor(store, request, now);
        // Summed by the database when it computes the features, else scored by the engine on a snapshot.
        const summed = await sqlForecastFor(store, model, key, { kind: 'all' });
        if (!summed) await audiencePredictionsFor(store, model, key);
      }),
    },
    {
      name: 'recommendations',
      run: tolerate(async () => {
        if ((await store.audience.counts()).products > 0) await recommendationModelFor(store, now);
      }),
    },
  ];
}

/** Resolves true when one of `waiters` is called, or false after `timeoutMs`. */
function waitFor(waiters: Array<() => void>, timeoutMs: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    waiters.push(() => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Everything the steps depend on: the audience, the default segment run (recommendations back off to it) and
 * the day (stats and segments are as of now).
 */
async function audienceState(store: Store, clock: Clock): Promise<{ key: string; empty: boolean }> {
  const [version, counts, run] = await Promise.all([
    store.audience.version(),
    store.audience.counts(),
    storedDefaultHeader(store),
  ]);
  const day = Math.floor(clock().getTime() / 86_400_000);
  const key = JSON.stringify([version, counts.profiles, counts.interactions, run?.id ?? null, day]);
  return { key, empty: counts.profiles === 0 };
}

/** Starts watching for a changed audience and warming it up whenever the queue is idle. */
export function startWarmUp(deps: WarmUpDeps): WarmUp {
  const { store, clock, queue, logger } = deps;
  let warmedFor: string | null = null;
  let warmedOnce = false;
  const quietMs = deps.quietMs ?? 3000;
  let running = false;
  let stopped = false;
  const waiters: Array<() => void> = [];

  // Read at every check; `ready` answers from the last one.
  let currentKey: string | null = null;
  let empty = false;
  const stateKey = async () => {
    const state = await audienceState(store, clock);
    empty = state.empty;
    currentKey = state.key;
    return currentKey;
  };
  const isReady = () => empty || (currentKey !== null && warmedFor === currentKey);

  async function warm(): Promise<void> {
    if (running || stopped) return;
    running = true;
    try {
      await stateKey();
      if (isReady() || queue.pending > 0 || (warmedOnce && queue.idleMs() < quietMs)) return;
      await warmSteps();
    } finally {
      running = false;
    }
  }

  async function warmSteps(): Promise<void> {
    const key = currentKey;
    const started = performance.now();
    try {
      for (const step of warmUpSteps(store, { now: clock().getTime(), currency: deps.currency })) {
        // A command came in: let it go first; the next check picks up from the start (done steps are cached).
        if (stopped || queue.pending > 0 || (await stateKey()) !== key) return;
        await queue.run('warm-up', async () => await step.run());
      }
      warmedFor = key;
      logger.debug('models warmed up', { ms: Math.round(performance.now() - started) });
    } catch (error) {
      // Never retried for this state: a step that fails once would fail again on the same data.
      warmedFor = key;
      logger.warn('warming up the models failed; commands will compute them when asked', { error });
    } finally {
      if (warmedFor === key) {
        warmedOnce = true;
        for (const done of waiters.splice(0)) done();
      }
    }
  }

  const timer = setInterval(() => void warm(), deps.checkEveryMs ?? 1000);
  timer.unref();
  void warm();

  return {
    get ready() {
      return isReady();
    },
    async whenReady(timeoutMs) {
      await stateKey();
      return isReady() || waitFor(waiters, timeoutMs);
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
