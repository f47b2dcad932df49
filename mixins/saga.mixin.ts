/**
 * Runs sagas of the pure engine (mixins/saga/engine.ts) inside a Moleculer service:
 * - step actions are Moleculer calls, so the broker's retry policy and circuit breaker handle technical
 *   failures (business failures are never retried);
 * - the saga state is stored after every step through the service's store (a collection, or the order itself);
 * - each running saga is owned through a lease in the key-value store (Redis when REDIS_URL, so every node sees
 *   it), renewed while it runs; on start and periodically, sagas that are not finished and whose lease expired
 *   (or that have none) are resumed or compensated by this node.
 */
import { randomUUID } from "node:crypto";
import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { configOf } from "../config/env";
import { createKeyValueStore, type KeyValueStore } from "./kv/store";
import { callTracked } from "./saga/calls";
import { SAGA_NODE_WAIT_MS } from "../config/resilience";
import {
	SagaEngine,
	createSagaState,
	isTerminalSaga,
	type BackoffOptions,
	type SagaDefinition,
	type SagaState,
} from "./saga/engine";

/** Calls one action for a saga step. */
export type SagaCaller = (action: string, params: Record<string, unknown>) => Promise<unknown>;

/** Where saga states live; `this` is the service. */
export interface SagaStore<D> {
	save(this: Service, state: SagaState<D>): Promise<void>;
	load(this: Service, id: string): Promise<SagaState<D> | null>;
	/** Sagas still RUNNING or COMPENSATING. */
	listUnfinished(this: Service, limit: number): Promise<Array<SagaState<D>>>;
}

export interface SagaMixinOptions<D> {
	/**
	 * The saga's steps calling through `call`. With `data` (a new saga's input), the steps that saga runs: a step
	 * that its data does not need may be left out of it; without, every step (resumed sagas find theirs by name).
	 */
	definition(call: SagaCaller, data?: D): SagaDefinition<D>;
	store: SagaStore<D>;
	/** A reason to undo the saga instead of going on (e.g. the customer cancelled), checked before each step. */
	shouldAbort?(this: Service, state: SagaState<D>): Promise<string | null>;
	/** Services the steps call; recovery waits until they are reachable before resuming anything. */
	dependencies?: string[];
	leaseTtlMs?: number;
	sweepIntervalMs?: number;
	backoff?: Partial<BackoffOptions>;
	/** Upper bound of one step or compensation attempt (Moleculer's own timeout and retries run inside it). */
	attemptTimeoutMs?: number;
	/** After this many failed attempts of one compensation, `stalled` resolves (the run goes on in the background). */
	stallAfterAttempts?: number;
}

/** A saga that this node runs. */
export interface SagaRun<D> {
	/** Resolves with the final state (or the last one when the node stops first). */
	done: Promise<SagaState<D>>;
	/** Resolves when a compensation keeps failing, so that a waiting caller can answer without waiting forever. */
	stalled: Promise<SagaState<D>>;
}

export interface SagaMethods<D> {
	/** A new saga state whose lease this node already holds; store it, then `runSaga` it. */
	prepareSaga(id: string, data: D): Promise<SagaState<D>>;
	/** Runs a prepared or resumed saga; calls carry `ctx` (tracing, meta) when given. */
	runSaga(ctx: Context | null, state: SagaState<D>): SagaRun<D>;
	/** Gives up the lease of a prepared saga that was not stored. */
	releaseSaga(id: string): Promise<void>;
	/** Resumes or compensates unfinished sagas whose owner is gone; returns how many this node took. */
	recoverSagas(): Promise<number>;
	/** The owner of a saga's lease, or null. */
	sagaOwner(id: string): Promise<string | null>;
}

interface LocalRun<D> {
	lost: boolean;
	detached: boolean;
	stall(state: SagaState<D>): void;
}

interface SagaVars<D> {
	$sagaKv: KeyValueStore;
	$sagaEngine: SagaEngine<D>;
	$sagaRuns: Map<string, LocalRun<D>>;
	/** Sagas prepared here (lease taken) and not yet running: being stored by their creator. */
	$sagaPrepared: Set<string>;
	$sagaPending: Set<Promise<unknown>>;
	$sagaOwnerId: string;
	$sagaTimers: NodeJS.Timeout[];
	$sagaSweeping: boolean;
}

type SagaThis<D> = Service & SagaVars<D> & SagaMethods<D>;

const leaseKey = (id: string): string => `saga-lease:${id}`;

/** The saga mixin for one saga definition. */
export function SagaMixin<D>(opts: SagaMixinOptions<D>): Partial<ServiceSchema> {
	const ttl = opts.leaseTtlMs ?? 10_000;
	const sweepEvery = opts.sweepIntervalMs ?? 5_000;
	const stallAfter = opts.stallAfterAttempts ?? 3;

	const methods: SagaMethods<D> & Record<string, unknown> = {
		async prepareSaga(this: SagaThis<D>, id: string, data: D): Promise<SagaState<D>> {
			const state = createSagaState(opts.definition(() => Promise.resolve(), data), id, data);
			if (!(await this.$sagaKv.setIfAbsent(leaseKey(id), this.$sagaOwnerId, ttl)))
				throw new Error(`saga ${id} is already owned by another node`);
			// From here until runSaga or releaseSaga the saga is this node's: the recovery sweep must not start it too.
			this.$sagaPrepared.add(id);
			return state;
		},

		runSaga(this: SagaThis<D>, ctx: Context | null, state: SagaState<D>): SagaRun<D> {
			let stall: (s: SagaState<D>) => void = () => undefined;
			const stalled = new Promise<SagaState<D>>(resolve => (stall = resolve));
			const local: LocalRun<D> = { lost: false, detached: !ctx, stall };
			// Calls carry the request's context (trace, meta, behavior) until a compensation stalls: from then
			// on the saga runs on its own, so that a fault injected into that one request cannot block it forever.
			// Forward steps wait a while for a node that is restarting; compensations do not (the engine retries them
			// until they succeed anyway, and a stalled one must be seen soon enough to answer the caller in time).
			const nodeWait = () => (state.status === "RUNNING" ? SAGA_NODE_WAIT_MS : 0);
			const call: SagaCaller = (action, params) =>
				ctx && !local.detached
					? callTracked(this.broker, action, params, { parentCtx: ctx, meta: ctx.meta as object }, nodeWait())
					: callTracked(this.broker, action, params, {}, nodeWait());
			this.$sagaRuns.set(state.id, local);
			this.$sagaPrepared.delete(state.id);
			const done = this.$sagaEngine
				.run(opts.definition(call), state, {
					shouldAbort: opts.shouldAbort ? s => opts.shouldAbort!.call(this, s) : undefined,
					isStopped: () => local.lost,
				})
				.catch(err => {
					this.logger.error(`saga ${state.id} stopped on an unexpected error`, err);
					return state;
				})
				.finally(async () => {
					this.$sagaRuns.delete(state.id);
					// Finished, or stopped for shutdown: give the lease up (a stopped saga is then resumed elsewhere).
					if (!local.lost) await this.releaseSaga(state.id).catch(() => undefined);
				});
			this.$sagaPending.add(done);
			void done.finally(() => this.$sagaPending.delete(done));
			return { done, stalled };
		},

		async releaseSaga(this: SagaThis<D>, id: string): Promise<void> {
			this.$sagaPrepared.delete(id);
			if ((await this.$sagaKv.get(leaseKey(id))) === this.$sagaOwnerId) await this.$sagaKv.del(leaseKey(id));
		},

		async recoverSagas(this: SagaThis<D>): Promise<number> {
			if (this.$sagaSweeping || this.$sagaEngine.isStopped) return 0;
			this.$sagaSweeping = true;
			let taken = 0;
			try {
				const mine = (id: string) => this.$sagaRuns.has(id) || this.$sagaPrepared.has(id);
				const candidates = (await opts.store.listUnfinished.call(this, 200)).filter(c => !mine(c.id));
				if (candidates.length === 0) return 0;
				if (opts.dependencies?.length) {
					try {
						await this.broker.waitForServices(opts.dependencies, sweepEvery, 100);
					} catch {
						return 0; // the steps could not run anyway; try again on the next sweep
					}
				}
				for (const candidate of candidates) {
					if (mine(candidate.id) || this.$sagaEngine.isStopped) continue;
					const key = leaseKey(candidate.id);
					const holder = await this.$sagaKv.get(key);
					if (holder && holder !== this.$sagaOwnerId) continue;
					if (!holder && !(await this.$sagaKv.setIfAbsent(key, this.$sagaOwnerId, ttl))) continue;
					const fresh = await opts.store.load.call(this, candidate.id);
					if (!fresh || isTerminalSaga(fresh.status)) {
						await this.releaseSaga(candidate.id);
						continue;
					}
					const step = fresh.steps.find(s => s.status !== "DONE" && s.status !== "COMPENSATED")?.name ?? "-";
					this.logger.info(`Taking over saga ${fresh.id} (${fresh.status}, at step ${step}): its owner's lease expired`);
					this.runSaga(null, fresh);
					taken += 1;
				}
			} catch (err) {
				this.logger.warn("saga recovery sweep failed; retrying on the next sweep", err);
			} finally {
				this.$sagaSweeping = false;
			}
			return taken;
		},

		async sagaOwner(this: SagaThis<D>, id: string): Promise<string | null> {
			return this.$sagaKv.get(leaseKey(id));
		},

		/** Extends the lease of every saga this node runs or prepared; a lease taken by another node stops the local run. */
		async renewSagaLeases(this: SagaThis<D>): Promise<void> {
			for (const id of this.$sagaPrepared) await this.$sagaKv.compareAndSet(leaseKey(id), this.$sagaOwnerId, this.$sagaOwnerId, ttl).catch(() => false);
			for (const [id, run] of this.$sagaRuns) {
				try {
					const key = leaseKey(id);
					const ok =
						(await this.$sagaKv.compareAndSet(key, this.$sagaOwnerId, this.$sagaOwnerId, ttl)) ||
						(await this.$sagaKv.setIfAbsent(key, this.$sagaOwnerId, ttl));
					if (!ok) {
						run.lost = true;
						this.logger.warn(`Lease of saga ${id} was taken by another node; stopping the local run`);
					}
				} catch {
					// The store is unreachable: nobody else can take the lease either; try again next time.
				}
			}
		},
	};

	const schema: Partial<ServiceSchema<ServiceSettingSchema, SagaMethods<D>, SagaVars<D>>> = {
		methods: methods as unknown as ServiceSchema["methods"],

		created(this: SagaThis<D>) {
			const cfg = configOf(this);
			this.$sagaKv = createKeyValueStore(cfg.redisUrl, cfg.namespace);
			this.$sagaRuns = new Map();
			this.$sagaPrepared = new Set();
			this.$sagaPending = new Set();
			this.$sagaTimers = [];
			this.$sagaSweeping = false;
			this.$sagaOwnerId = `${this.broker.nodeID}:${randomUUID().slice(0, 8)}`;
			this.$sagaEngine = new SagaEngine<D>({
				backoff: opts.backoff,
				attemptTimeoutMs: opts.attemptTimeoutMs,
				save: async state => {
					await opts.store.save.call(this, structuredClone(state));
					const run = this.$sagaRuns.get(state.id);
					if (run && state.steps.some(s => s.status === "COMPENSATING" && s.compensation_attempts >= stallAfter)) {
						run.detached = true;
						run.stall(structuredClone(state));
					}
				},
				onRetry: (what, err, attempt, state) => {
					const msg = err instanceof Error ? err.message : String(err);
					this.logger.warn(`saga ${state.id}: ${what} failed (attempt ${attempt}): ${msg}; retrying`);
				},
			});
		},

		started(this: SagaThis<D>) {
			const renew = this as unknown as { renewSagaLeases(): Promise<void> };
			this.$sagaTimers.push(setInterval(() => void renew.renewSagaLeases(), Math.max(50, Math.floor(ttl / 3))));
			this.$sagaTimers.push(setInterval(() => void this.recoverSagas(), sweepEvery));
			// The first sweep as soon as this service is up (its store connected): sagas left behind by a node that
			// died are taken once their lease expires.
			void this.broker
				.waitForServices([this.name], 60_000)
				.then(() => this.recoverSagas())
				.catch(() => undefined);
		},

		async stopped(this: SagaThis<D>) {
			for (const t of this.$sagaTimers) clearInterval(t);
			this.$sagaEngine.stop();
			// Runs stop at their next boundary (an in-flight call finishes first, bounded by its timeout).
			let timer: NodeJS.Timeout | undefined;
			const grace = new Promise(r => (timer = setTimeout(r, 5_000)));
			await Promise.race([Promise.allSettled([...this.$sagaPending]), grace]);
			clearTimeout(timer);
			await this.$sagaKv.close();
		},
	};
	return schema as Partial<ServiceSchema>;
}
