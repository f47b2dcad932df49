/**
 * The durable event machinery of one service instance: the outbox relay and staged publishing here, the consumer
 * side (claims, retries, dead letters, redrive) in consumer/. The EventsMixin creates one per service; this file
 * knows nothing of any domain.
 */
import type { Context, Logger, Service, ServiceBroker } from "moleculer";
import type { Config } from "../../config/env";
import type { DeliveryResult, Delivery, EventBus, SubscriptionHandle } from "./buses/bus";
import { acquireBus } from "./buses/connections";
import { DEFAULT_RETRY, consumerGroup, errorText, type EventMessage, type RetryPolicy } from "./policy";
import { EventStore, type DeadLetter } from "./store";
import type { IndexSpec } from "../db.mixin";
import { EventsRetention } from "./retention";
import type { RedriveResult } from "./consumer/redrive";
import { EventConsumer } from "./consumer/deliveries";

export type { RedriveResult };

/** Runs a consumer's handler for an event through the broker's event middlewares. */
export type Invoker = (message: EventMessage, meta: Record<string, unknown>) => Promise<void>;

export interface RuntimeOptions {
	fanout: "service" | "node";
	retry: Partial<RetryPolicy>;
	/** Collections (of the service's DbMixin) whose documents may hold staged events in `pending_events`. */
	stagedIn: string[];
	relayIntervalMs: number;
}

export interface EventStats {
	service: string;
	node_id: string;
	bus: "memory" | "jetstream" | "none";
	consumers: number;
	dead_letters: number;
	pending_outbox: number;
}

/** Name of the document field where a service embeds staged events (see `stageEvent`). */
export const STAGED_EVENTS_FIELD = "pending_events";

const STAGED_GRACE_MS = 5_000;
/** Documents per sweep query, and how long one sweep of one collection may go on working through a backlog. */
const SWEEP_BATCH = 100;
const SWEEP_BUDGET_MS = 100;
const OBSERVER_GROUP = "$events.observers";
const GAUGES: Array<[string, string]> = [
	["shopflow.events.dead_letters", "Events a consumer gave up on, waiting in the dead-letter store"],
	["shopflow.events.outbox_pending", "Events not yet handed to the bus: outbox rows plus documents holding staged events"],
];

type StagedCollection = {
	find(q: object, o: object): Promise<Array<{ id: string; pending_events?: EventMessage[] }>>;
	count(q: object): Promise<number>;
	updateWhere(q: object, u: object): Promise<number>;
	ensureIndex(spec: IndexSpec): Promise<void>;
};

/** The indexed path of staged event ids in a document. */
const STAGED_ID_PATH = `${STAGED_EVENTS_FIELD}.event_id`;

export class EventsRuntime {
	readonly group: string;
	readonly retry: RetryPolicy;
	readonly store: EventStore;
	/** Removes sent outbox rows and processed ids once they are older than the configured retention. */
	readonly retention: EventsRetention;
	/** The consumer side: claims, retries, dead letters, redrive. */
	private readonly consumer: EventConsumer;
	/** Test hook: stores events in the outbox without relaying them, as a crash right after the write would. */
	relayPaused = false;
	/** Staged collections whose sparse index on staged event ids exists. */
	private readonly indexed = new Set<string>();
	private bus: EventBus | null = null;
	private release: (() => Promise<void>) | null = null;
	private subs: SubscriptionHandle[] = [];
	private timer: NodeJS.Timeout | null = null;
	private relaying: Promise<void> | null = null;
	/** Background writes waiting for the in-process bus's consumers (see onceConsumed). */
	private readonly settling = new Set<Promise<void>>();
	private stopping = false;
	/** When this runtime started: staged events older than that belong to an earlier run. */
	private startedAt = 0;
	private ticks = 0;
	private readonly logger: Logger;
	private readonly broker: ServiceBroker;

	constructor(
		private readonly service: Service,
		private readonly config: Config,
		private readonly invokers: Map<string, Invoker>,
		private readonly opts: RuntimeOptions,
	) {
		this.broker = service.broker;
		this.logger = service.logger;
		this.group = consumerGroup(service.name, opts.fanout, this.broker.nodeID);
		this.retry = { ...DEFAULT_RETRY, ...opts.retry };
		this.store = new EventStore(this.broker, this.logger, config, service.name);
		this.retention = new EventsRetention(this.store, config.retention, this.logger);
		this.consumer = new EventConsumer(this.store, invokers, {
			service: service.name,
			nodeId: this.broker.nodeID,
			group: this.group,
			retry: this.retry,
			logger: this.logger,
			stopping: () => this.stopping,
		});
	}

	/** The bus this instance publishes to while it runs (tests use it to inject duplicate deliveries). */
	get activeBus(): EventBus | null {
		return this.bus;
	}

	/** Opens the store and the bus, re-sends what a previous run left unsent, then starts consuming. */
	async start(): Promise<void> {
		this.startedAt = Date.now();
		await this.store.open();
		const { bus, release } = await acquireBus(this.broker, this.config);
		this.bus = bus;
		this.release = release;
		await this.relayPending();
		for (const eventName of this.invokers.keys()) {
			const sub = { group: this.group, eventName, mode: this.opts.fanout === "node" ? ("node" as const) : ("durable" as const) };
			this.subs.push(await bus.subscribe(sub, d => this.deliver(d)));
		}
		this.timer = setInterval(() => void this.tick(), this.opts.relayIntervalMs);
		this.timer.unref();
		this.retention.start();
		// Staged events a previous run left behind are published as soon as the service's collections are open.
		setTimeout(() => void this.tick(), 50).unref();
	}

	/** Stops consuming (waiting for running handlers) and closes the bus and the store. */
	async stop(): Promise<void> {
		this.stopping = true;
		if (this.timer) clearInterval(this.timer);
		await this.retention.stop();
		await Promise.allSettled(this.subs.map(s => s.close()));
		this.subs = [];
		await this.relaying?.catch(() => undefined);
		await this.release?.();
		// What the consumers took by now is written; the rest stays for the next start (bounded: another service's
		// consumers may already be gone while this process's bus is still open for the others).
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([Promise.allSettled([...this.settling]), new Promise(r => (timer = setTimeout(r, 2_000)))]);
		clearTimeout(timer);
		this.bus = null;
		await this.store.close();
	}

	/** Stores the message in the outbox, then hands it to the bus; a failed hand-over is retried by the relay. */
	async publish(message: EventMessage, ctx: Context | null = null): Promise<void> {
		await this.store.addToOutbox(message);
		await this.observe(message, ctx);
		if (!this.relayPaused) await this.relayOne(message);
	}

	/**
	 * Shows the stored event to broker middlewares that watch `emit` (business metrics, traces) without delivering
	 * it through Moleculer: the group named here has no endpoints, so nothing is sent anywhere.
	 */
	private async observe(message: EventMessage, ctx: Context | null): Promise<void> {
		try {
			const opts = { groups: [OBSERVER_GROUP] };
			if (ctx) await ctx.emit(message.name, message.event, opts);
			else await this.broker.emit(message.name, message.event, opts);
		} catch (err) {
			this.logger.debug(`event observers failed: ${errorText(err)}`);
		}
	}

	/**
	 * Publishes the staged events of a document, then removes them from it. The document is their durable record
	 * (they were stored in the same write as the change they report), so they need no outbox row: one the bus
	 * did not take stays staged and the sweep publishes it again (consumers drop duplicates by event id). This
	 * saves two writes per event on the checkout path.
	 */
	async publishStaged(coll: StagedCollection, docId: string, messages: EventMessage[]): Promise<boolean> {
		if (messages.length === 0) return true;
		for (const m of messages) await this.observe(m, null);
		if (this.relayPaused || !this.bus) return false;
		const sent: string[] = [];
		for (const m of messages) {
			try {
				await this.bus.publish(m);
				sent.push(m.event_id);
			} catch (err) {
				this.logger.warn(`event ${m.name} ${m.event_id} not relayed yet (stays staged): ${errorText(err)}`);
				break;
			}
		}
		const pull = (ids: string[]) => coll.updateWhere({ id: docId }, { $pull: { [STAGED_EVENTS_FIELD]: { event_id: { $in: ids } } } });
		if (sent.length > 0) await this.onceConsumed(sent, pull);
		return sent.length === messages.length;
	}

	/**
	 * Runs `write` (pull the staged copies, mark the outbox row sent) for the events the bus holds for good: at once
	 * for JetStream; for the in-process bus, in the background once every durable group has taken them, so that
	 * a crash before that leaves them to be sent again at the restart.
	 */
	private async onceConsumed(ids: string[], write: (ids: string[]) => Promise<unknown>): Promise<void> {
		const bus = this.bus;
		if (!bus?.whenConsumed) {
			await write(ids);
			return;
		}
		const p = Promise.all(ids.map(id => bus.whenConsumed!(id)))
			.then(async oks => {
				const done = ids.filter((_, i) => oks[i]);
				if (done.length > 0) await write(done);
			})
			.catch(err => this.logger.warn(`events ${ids.join(",")} consumed but not marked: ${errorText(err)} (sent again later)`))
			.finally(() => this.settling.delete(p));
		this.settling.add(p);
	}

	/** Whether the bus still carries this event to some consumer (the relay and the sweep leave it alone). */
	private inFlight(eventId: string): boolean {
		return this.bus?.inFlight?.(eventId) ?? false;
	}

	private async relayOne(message: EventMessage): Promise<boolean> {
		if (!this.bus) return false;
		if (this.inFlight(message.event_id)) return true;
		try {
			await this.bus.publish(message);
			await this.onceConsumed([message.event_id], () => this.store.markSent(message.event_id));
			return true;
		} catch (err) {
			this.logger.warn(`event ${message.name} ${message.event_id} not relayed yet: ${errorText(err)}`);
			return false;
		}
	}

	/** Relays pending outbox rows (all of them, or those older than a moment when `olderThanMs` is given). */
	async relayPending(olderThanMs?: number): Promise<number> {
		let sent = 0;
		const before = olderThanMs === undefined ? undefined : new Date(Date.now() - olderThanMs).toISOString();
		for (;;) {
			const rows = await this.store.pending(100, before);
			let progress = 0;
			for (const row of rows) if (await this.relayOne(row)) progress++;
			sent += progress;
			if (rows.length < 100 || progress === 0) return sent;
		}
	}

	/** Periodic work: relay what publish could not, pick up abandoned staged events (pruning has its own timer). */
	private async tick(): Promise<void> {
		if (this.relaying || this.stopping || this.relayPaused) return;
		this.relaying = (async () => {
			try {
				await this.relayPending(this.opts.relayIntervalMs);
				await this.sweepStaged(this.ticks === 0 ? 0 : STAGED_GRACE_MS);
				if (this.ticks % 10 === 0) await this.updateGauges();
				this.ticks++;
			} catch (err) {
				this.logger.warn(`event relay: ${errorText(err)}`);
			}
		})();
		await this.relaying;
		this.relaying = null;
	}

	/** Prometheus gauges per service and node: dead letters waiting and outbox rows not yet relayed. */
	private async updateGauges(): Promise<void> {
		const metrics = this.broker.metrics;
		if (!metrics?.isEnabled()) return;
		for (const [name, description] of GAUGES)
			if (!metrics.getMetric(name)) metrics.register({ name, type: "gauge", labelNames: ["service"], description });
		const c = await this.pendingCounts();
		metrics.set(GAUGES[0][0], c.dead_letters, { service: this.service.name });
		metrics.set(GAUGES[1][0], c.pending_outbox, { service: this.service.name });
	}

	/**
	 * Staged events still in their document after the grace period (their publisher stopped between its write and
	 * `publishStaged`, or the bus refused them) are published now. A sparse index on the staged event ids keeps
	 * this query to the documents that hold some, however large the collection grows.
	 */
	async sweepStaged(graceMs: number): Promise<void> {
		const svc = this.openCollections();
		if (!svc) return;
		// Whatever was staged before this process started is nobody's in flight: it goes at once, whatever the grace.
		const cutoff = new Date(Math.max(Date.now() - graceMs, this.startedAt)).toISOString();
		for (const name of this.opts.stagedIn) {
			const coll = svc.collection(name);
			if (!this.indexed.has(name)) {
				await coll.ensureIndex({ fields: [STAGED_ID_PATH], sparse: true });
				this.indexed.add(name);
			}
			// Only documents holding an event older than the grace (events in flight on the in-process bus are younger).
			const query = { [STAGED_ID_PATH]: { $gt: "" }, [`${STAGED_EVENTS_FIELD}.created_at`]: { $lte: cutoff } };
			// A backlog (a restart after a crash under load) is worked through in batches, within a time budget per tick;
			// documents whose events are on their way stay where they are until consumed, so the next batch skips them.
			const until = Date.now() + SWEEP_BUDGET_MS;
			for (let offset = 0; ; ) {
				const rows = await coll.find(query, { limit: SWEEP_BATCH, offset });
				// NeDB returns a document once per staged id it holds (a multikey index): once each is enough.
				const docs = new Map(rows.map(d => [d.id, d]));
				let published = 0;
				for (const doc of docs.values()) {
					const old = (doc[STAGED_EVENTS_FIELD] ?? []).filter(m => m.created_at <= cutoff && !this.inFlight(m.event_id));
					if (old.length === 0) continue;
					// The bus refuses now: try again at the next tick rather than wait on it once per document.
					if (!(await this.publishStaged(coll, doc.id, old))) return;
					published++;
				}
				if (rows.length < SWEEP_BATCH || Date.now() > until || this.stopping) break;
				if (!this.bus?.whenConsumed && published === 0) break;
				// With a bus that pulls staged copies at once (JetStream), the published documents left the query.
				if (!this.bus?.whenConsumed) continue;
				offset += rows.length;
			}
		}
	}

	/**
	 * The service with its collections, or null while they are not open: the relay starts in the events mixin's
	 * `started`, and its first ticks can come before DbMixin has connected a NeDB file or MongoDB.
	 */
	private openCollections(): { collection(name: string): StagedCollection } | null {
		const svc = this.service as Service & { collection?(name: string): StagedCollection; collectionsOpen?(): boolean };
		if (!svc.collection || svc.collectionsOpen?.() === false) return null;
		return svc as { collection(name: string): StagedCollection };
	}

	/** Documents whose staged events are not published yet, over every `stagedIn` collection (read from the sparse index). */
	private async stagedBacklog(): Promise<number> {
		const svc = this.openCollections();
		if (!svc) return 0;
		let n = 0;
		for (const name of this.opts.stagedIn) if (this.indexed.has(name)) n += await svc.collection(name).count({ [STAGED_ID_PATH]: { $gt: "" } });
		return n;
	}

	/** One delivery to this consumer (consumer/deliveries.ts). */
	deliver(d: Delivery): Promise<DeliveryResult> {
		return this.consumer.deliver(d);
	}

	/** Delivers a dead letter to its consumer once more, with the redriving request's behavior rules. */
	redrive(id: string, ctx: Context): Promise<RedriveResult> {
		return this.consumer.redrive(id, ctx);
	}

	/** This service's dead letters, newest first. */
	listDeadLetters(status: "dead" | "redriven" | "all", limit: number, offset: number): Promise<{ rows: DeadLetter[]; total: number }> {
		return this.consumer.listDeadLetters(status, limit, offset);
	}

	async stats(): Promise<EventStats> {
		return {
			service: this.service.name,
			node_id: this.broker.nodeID,
			bus: this.bus?.kind ?? "none",
			consumers: this.subs.length,
			...(await this.pendingCounts()),
		};
	}

	/** Dead letters, and events not handed to the bus yet: outbox rows plus documents holding staged events. */
	private async pendingCounts(): Promise<{ dead_letters: number; pending_outbox: number }> {
		const c = await this.store.counts();
		return { dead_letters: c.dead_letters, pending_outbox: c.pending_outbox + (await this.stagedBacklog()) };
	}
}
