/**
 * The distributed bus: NATS JetStream. One stream per namespace (`EVENTS_<namespace>`, subjects
 * `<namespace>.events.>`); per consuming group and event one pull consumer with explicit acks: durable for a
 * service's replicas (they share it, so one replica handles each event), ephemeral for a node group (new events
 * only, removed by the server when the node is gone). Retries are naks with a delay; the outbox relay's
 * `event_id` is the message id, so the server drops a re-sent duplicate within two minutes.
 */
import {
	AckPolicy,
	DeliverPolicy,
	JSONCodec,
	RetentionPolicy,
	StorageType,
	connect,
	nanos,
	type ConnectionOptions,
	type ConsumerConfig,
	type ConsumerMessages,
	type JetStreamClient,
	type JetStreamManager,
	type JsMsg,
	type NatsConnection,
} from "nats";
import type { Logger } from "moleculer";
import { runDelivery, type DeliveryHandler, type EventBus, type Subscription, type SubscriptionHandle } from "./bus";
import { consumerName, eventSubject, streamName, busToken, type EventMessage } from "../policy";
import { fromWire, toWire } from "../envelope";

const codec = JSONCodec<unknown>();
const TEST_STREAM_MARK = "shopflow-test-events";
const DAY_MS = 24 * 3600 * 1000;
let testStreamsSwept = false;

export interface JetStreamBusOptions {
	url: string;
	/** The node's NATS options (servers, credentials, TLS: config/boot/nats-options.ts); just `url` when absent. */
	connectOptions?: ConnectionOptions;
	namespace: string;
	/** Test streams keep events for an hour and are deleted by a later test run once idle for an hour. */
	isTest: boolean;
	logger: Logger;
}

function isNotFound(err: unknown): boolean {
	const e = err as { code?: string | number; api_error?: { err_code?: number }; message?: string };
	return e?.code === "404" || e?.api_error?.err_code === 10014 || e?.api_error?.err_code === 10059 || /not found/i.test(e?.message ?? "");
}

/** Deletes the event streams of earlier test runs that have been idle for an hour. */
async function sweepTestStreams(jsm: JetStreamManager, logger: Logger): Promise<void> {
	if (testStreamsSwept) return;
	testStreamsSwept = true;
	const cutoff = Date.now() - 3600_000;
	for await (const si of jsm.streams.list()) {
		if (si.config.description !== TEST_STREAM_MARK) continue;
		const last = Date.parse(si.state.last_ts);
		const created = Date.parse(si.created);
		if (Math.max(Number.isNaN(last) ? 0 : last, created) < cutoff)
			await jsm.streams.delete(si.config.name).catch(err => logger.debug(`could not delete ${si.config.name}`, err));
	}
}

export class JetStreamBus implements EventBus {
	readonly kind = "jetstream" as const;
	private readonly subs = new Set<SubscriptionHandle>();

	private constructor(
		private readonly nc: NatsConnection,
		private readonly jsm: JetStreamManager,
		private readonly js: JetStreamClient,
		private readonly opts: JetStreamBusOptions,
	) {}

	/** Connects and makes sure the namespace's stream exists. */
	static async open(opts: JetStreamBusOptions): Promise<JetStreamBus> {
		const nc = await connect({ ...(opts.connectOptions ?? { servers: opts.url }), name: `shopflow-events-${opts.namespace}`, maxReconnectAttempts: -1 });
		try {
			const jsm = await nc.jetstreamManager();
			const bus = new JetStreamBus(nc, jsm, nc.jetstream(), opts);
			await bus.ensureStream();
			if (opts.isTest) void sweepTestStreams(jsm, opts.logger).catch(() => undefined);
			return bus;
		} catch (err) {
			await nc.close();
			throw err;
		}
	}

	private get stream(): string {
		return streamName(this.opts.namespace);
	}

	private async ensureStream(): Promise<void> {
		const config = {
			name: this.stream,
			subjects: [`${busToken(this.opts.namespace)}.events.>`],
			retention: RetentionPolicy.Limits,
			storage: StorageType.File,
			max_age: nanos(this.opts.isTest ? 3600_000 : 7 * DAY_MS),
			duplicate_window: nanos(120_000),
			description: this.opts.isTest ? TEST_STREAM_MARK : `ShopFlow domain events of namespace ${this.opts.namespace}`,
		};
		try {
			await this.jsm.streams.info(this.stream);
		} catch (err) {
			if (!isNotFound(err)) throw err;
			try {
				await this.jsm.streams.add(config);
			} catch (addErr) {
				// Another node created it at the same moment.
				await this.jsm.streams.info(this.stream).catch(() => {
					throw addErr;
				});
			}
		}
	}

	async publish(message: EventMessage, opts: { dedupe?: boolean } = {}): Promise<void> {
		await this.js.publish(eventSubject(this.opts.namespace, message.name), codec.encode(toWire(message)), {
			msgID: opts.dedupe === false ? undefined : message.event_id,
			// While NATS is away, give up soon: the event stays in the outbox and the relay sends it later.
			timeout: 2000,
		});
	}

	/** Creates (or updates) the group's consumer and starts pulling; each message is handled on its own. */
	async subscribe(sub: Subscription, handler: DeliveryHandler): Promise<SubscriptionHandle> {
		const name = consumerName(sub.group, sub.eventName);
		const config: Partial<ConsumerConfig> = {
			ack_policy: AckPolicy.Explicit,
			ack_wait: nanos(30_000),
			max_deliver: -1,
			max_ack_pending: 256,
			filter_subject: eventSubject(this.opts.namespace, sub.eventName),
		};
		if (sub.mode === "durable") {
			config.durable_name = name;
			config.deliver_policy = DeliverPolicy.All;
		} else {
			config.name = name;
			config.deliver_policy = DeliverPolicy.New;
			config.inactive_threshold = nanos(30_000);
		}
		await this.ensureConsumer(name, config);
		const consumer = await this.js.consumers.get(this.stream, name);
		const inflight = new Set<Promise<void>>();
		const messages: ConsumerMessages = await consumer.consume({
			max_messages: 64,
			callback: (m: JsMsg) => {
				const p = this.handle(m, handler);
				inflight.add(p);
				void p.finally(() => inflight.delete(p));
			},
		});
		const handle: SubscriptionHandle = {
			close: async () => {
				this.subs.delete(handle);
				await messages.close().catch(() => undefined);
				await Promise.allSettled([...inflight]);
			},
		};
		this.subs.add(handle);
		return handle;
	}

	private async ensureConsumer(name: string, config: Partial<ConsumerConfig>): Promise<void> {
		try {
			await this.jsm.consumers.info(this.stream, name);
		} catch (err) {
			if (!isNotFound(err)) throw err;
			await this.jsm.consumers.add(this.stream, config);
			return;
		}
		// It exists (another replica, or this node before a restart): bring the tunable settings up to date.
		await this.jsm.consumers
			.update(this.stream, name, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending })
			.catch(err => this.opts.logger.debug(`consumer ${name} not updated: ${String(err)}`));
	}

	private async handle(m: JsMsg, handler: DeliveryHandler): Promise<void> {
		let message: EventMessage;
		try {
			const raw = codec.decode(m.data);
			if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new Error("not an object");
			// An envelope (or an earlier version's message); the consumer checks its schema and signature.
			message = fromWire(raw, m.subject.slice(m.subject.indexOf(".events.") + ".events.".length));
		} catch {
			m.term("not a ShopFlow event");
			return;
		}
		const res = await runDelivery(handler, { message, attempt: m.info.redeliveryCount }, 100);
		if (res.kind === "ack") m.ack();
		else if (res.kind === "term") m.term();
		else m.nak(res.delayMs);
	}

	/** Stops every consumer and closes the connection. */
	async close(): Promise<void> {
		await Promise.allSettled([...this.subs].map(s => s.close()));
		await this.nc.drain().catch(() => this.nc.close());
	}
}
