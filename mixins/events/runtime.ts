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
import { EventsRetention } from "./retention";
import type { RedriveResult } from "./consumer/redrive";
import { EventConsumer } from "./consumer/deliveries";
import { EventRelay, STAGED_EVENTS_FIELD, type StagedCollection } from "./relay/relay";
import { EnvelopeKeys, type Rejection } from "./envelope";
import { METRICS } from "../../services/common/metrics";

export type { RedriveResult };
export { STAGED_EVENTS_FIELD };

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
	/** Deliveries this instance refused since it started, by reason (dead-lettered, never applied). */
	rejected: Record<Rejection["reason"], number>;
}

const STAGED_GRACE_MS = 5_000;

export class EventsRuntime {
	readonly group: string;
	readonly retry: RetryPolicy;
	readonly store: EventStore;
	/** Removes sent outbox rows and processed ids once they are older than the configured retention. */
	readonly retention: EventsRetention;
	/** The publishing side: outbox, staged events, relay and sweep. */
	private readonly relay: EventRelay;
	/** The consumer side: claims, retries, dead letters, redrive. */
	private readonly consumer: EventConsumer;
	private release: (() => Promise<void>) | null = null;
	private subs: SubscriptionHandle[] = [];
	private timer: NodeJS.Timeout | null = null;
	private relaying: Promise<void> | null = null;
	private stopping = false;
	private ticks = 0;
	private readonly logger: Logger;
	private readonly broker: ServiceBroker;
	/** Signs and checks envelopes with this node's keys (EVENTS_SIGNING_KEY, EVENTS_VERIFY_KEYS). */
	readonly keys: EnvelopeKeys;
	private readonly rejected: EventStats["rejected"] = { SCHEMA_INVALID: 0, SIGNATURE_INVALID: 0 };

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
		this.keys = new EnvelopeKeys(config.eventsSigningKeys ?? []);
		this.store = new EventStore(this.broker, this.logger, config, service.name);
		this.retention = new EventsRetention(this.store, config.retention, this.logger);
		this.relay = new EventRelay(service, this.store, { stagedIn: opts.stagedIn, stopping: () => this.stopping, keys: this.keys });
		this.consumer = new EventConsumer(this.store, invokers, {
			service: service.name,
			nodeId: this.broker.nodeID,
			group: this.group,
			retry: this.retry,
			logger: this.logger,
			stopping: () => this.stopping,
			keys: this.keys,
			onRejected: (m, r) => this.countRejected(m, r),
		});
	}

	/**
	 * Completes a new message's envelope (version, signature); throws for an undeclared type or data that does not
	 * match its schema (services/common/event-schemas.ts).
	 */
	seal<E extends object>(message: EventMessage<E>): EventMessage<E> {
		return this.keys.seal(message);
	}

	/** Counts a refused delivery: `shopflow_events_rejected_total{service,event,reason}` and eventStats. */
	private countRejected(message: EventMessage, rejection: Rejection): void {
		this.rejected[rejection.reason]++;
		const m = this.broker.metrics;
		try {
			if (!m.isEnabled()) return;
			if (!m.getMetric(METRICS.EVENTS_REJECTED))
				m.register({ name: METRICS.EVENTS_REJECTED, type: "counter", description: "Events a consumer refused (schema or signature) and dead-lettered unapplied", labelNames: ["service", "event", "reason"] });
			m.increment(METRICS.EVENTS_REJECTED, { service: this.service.name, event: String(message.name), reason: rejection.reason });
		} catch (err) {
			this.logger.debug(`events rejected metric: ${errorText(err)}`);
		}
	}

	/** The bus this instance publishes to while it runs (tests use it to inject duplicate deliveries). */
	get activeBus(): EventBus | null {
		return this.relay.bus;
	}

	/** Test hook: stores events in the outbox without relaying them, as a crash right after the write would. */
	get relayPaused(): boolean {
		return this.relay.relayPaused;
	}

	set relayPaused(paused: boolean) {
		this.relay.relayPaused = paused;
	}

	/** Opens the store and the bus, re-sends what a previous run left unsent, then starts consuming. */
	async start(): Promise<void> {
		this.relay.startedAt = Date.now();
		await this.store.open();
		const { bus, release } = await acquireBus(this.broker, this.config);
		this.relay.bus = bus;
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
		await this.relay.settle(2_000);
		this.relay.bus = null;
		await this.store.close();
	}

	/** Stores the message in the outbox, then hands it to the bus (relay/relay.ts). */
	publish(message: EventMessage): Promise<void> {
		return this.relay.publish(message);
	}

	/** Publishes the staged events of a document, then removes them from it (relay/relay.ts). */
	publishStaged(coll: StagedCollection, docId: string, messages: EventMessage[]): Promise<boolean> {
		return this.relay.publishStaged(coll, docId, messages);
	}

	/** Relays pending outbox rows (all of them, or those older than a moment when `olderThanMs` is given). */
	relayPending(olderThanMs?: number): Promise<number> {
		return this.relay.relayPending(olderThanMs);
	}

	/** Publishes staged events left in their documents after the grace period (relay/relay.ts). */
	sweepStaged(graceMs: number): Promise<void> {
		return this.relay.sweepStaged(graceMs);
	}

	/** Periodic work: relay what publish could not, pick up abandoned staged events (pruning has its own timer). */
	private async tick(): Promise<void> {
		if (this.relaying || this.stopping || this.relayPaused) return;
		this.relaying = (async () => {
			try {
				await this.relayPending(this.opts.relayIntervalMs);
				await this.sweepStaged(this.ticks === 0 ? 0 : STAGED_GRACE_MS);
				this.ticks++;
			} catch (err) {
				this.logger.warn(`event relay: ${errorText(err)}`);
			}
		})();
		await this.relaying;
		this.relaying = null;
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
			bus: this.relay.bus?.kind ?? "none",
			consumers: this.subs.length,
			...(await this.pendingCounts()),
			rejected: { ...this.rejected },
		};
	}

	/** Dead letters, and events not handed to the bus yet: outbox rows plus documents holding staged events. */
	private async pendingCounts(): Promise<{ dead_letters: number; pending_outbox: number }> {
		const c = await this.store.counts();
		return { dead_letters: c.dead_letters, pending_outbox: c.pending_outbox + (await this.relay.stagedBacklog()) };
	}
}
