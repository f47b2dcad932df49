/**
 * Durable domain events for a service: `this.publish(ctx, name, payload)` to emit,
 * `handlers` to consume. Every payload gets `event_id` and `occurred_at`.
 *
 * - Publishing goes through an outbox of the service (`<service>.events_outbox`): the event is stored, then
 *   relayed to the bus and marked sent; whatever a crash left unsent is relayed when the service starts again.
 * - The bus is an in-process queue (embedded) or NATS JetStream (NATS_URL), with the same semantics.
 * - Consumers are grouped by service, so one replica handles each event; with `fanout: "node"` every node of
 *   the service gets every event published while it runs (read models such as search).
 * - Delivery is at least once; a consumer runs once per `event_id` (claims kept in `<service>.events_processed`,
 *   or a map of the process with a memory store, for EVENTS_DEDUPE_WINDOW_MS; sent outbox rows are kept
 *   EVENTS_OUTBOX_RETENTION_MS; see mixins/events/retention.ts).
 *   A handler that throws is retried with back-off (100, 200, 400, 800 ms by default) without holding up other
 *   events or consumers; after the last attempt the event goes to `<service>.events_dead_letters`, which the
 *   `deadLetters` and `redriveDeadLetter` actions (and the gateway's admin routes) list and redrive.
 * - Handlers run through the broker's event middlewares, so behaviors (`message-bus`), tracing and
 *   metrics apply to them, and an injected failure takes the same retry and dead-letter path as any error.
 */
import type { Context, Service, ServiceSchema, ServiceSettingSchema } from "moleculer";
import { configOf } from "../config/env";
import type { DomainEvent, EventName } from "../services/common/events";
import { createMessage, type EventMessage, type RetryPolicy } from "./events/policy";
import { EventsRuntime, STAGED_EVENTS_FIELD, type EventStats, type Invoker, type RedriveResult } from "./events/runtime";
import type { DeadLetter } from "./events/store";

export { STAGED_EVENTS_FIELD };
export type { DeadLetter, EventMessage, EventStats, RedriveResult };

/** A consumer of one event: gets the payload and the Moleculer context it arrived with. */
export type DomainEventHandler<TThis = Service> = (this: TThis, event: DomainEvent, ctx: Context) => Promise<void> | void;

export interface EventsMixinOptions<TThis = Service> {
	handlers?: Partial<Record<EventName, DomainEventHandler<TThis>>>;
	/** "service" (default): one replica per event; "node": every node of the service. */
	fanout?: "service" | "node";
	/** Retry policy of this service's consumers (default 5 attempts, 100 ms doubling). */
	retry?: Partial<RetryPolicy>;
	/** DbMixin collections of this service whose documents may carry staged events (see `stageEvent`). */
	stagedIn?: string[];
	/** How often the relay looks for unsent events (default 1000 ms). */
	relayIntervalMs?: number;
}

/** A staged event: embed it in the document's `pending_events` array in the same write as the change it reports. */
export type StagedEvent<T extends object = Record<string, unknown>> = EventMessage<T>;

export interface EventsMethods {
	/**
	 * Publishes a domain event to every consuming service. Guarantee: once this resolves the event is in the
	 * outbox and will be delivered at least once, even across a crash; a crash between the caller's own write and
	 * this call loses the event (use `stageEvent` when that matters).
	 */
	publish<T extends object>(ctx: Context | null, event: EventName, payload: T): Promise<DomainEvent<T>>;
	/**
	 * Builds an event without storing it, to be embedded in `pending_events` of the document whose change it
	 * reports, in the same atomic write. Guarantee: the event is published if and only if that write is stored —
	 * by `publishStaged` right after it, or by the relay's sweep of `stagedIn` collections after a crash.
	 */
	stageEvent<T extends object>(ctx: Context | null, event: EventName, payload: T): StagedEvent<T>;
	/** Publishes the staged events of a document of `collection` and removes them from it. */
	publishStaged(collection: string, docId: string, events: StagedEvent[]): Promise<void>;
}

interface EventsState {
	$events: EventsRuntime;
}

type EventsThis = Service & EventsState & EventsMethods & { collection?(name: string): unknown };

interface EventContextFields {
	eventName: string;
	eventType: string;
	eventGroups: string[];
	caller: string | null;
}

function metaOf(ctx: Context | null): EventMessage["meta"] {
	if (!ctx) return {};
	return { behavior: (ctx.meta as { behavior?: unknown }).behavior, requestID: ctx.requestID ?? null };
}

/** A mixin giving the service `this.publish`, durable idempotent consumers for `handlers`, and dead-letter actions. */
export function EventsMixin<TThis = Service>(opts: EventsMixinOptions<TThis> = {}): Partial<ServiceSchema> {
	const handlers = Object.entries(opts.handlers ?? {}) as Array<[string, DomainEventHandler<TThis>]>;
	const schema: Partial<ServiceSchema<ServiceSettingSchema, EventsMethods, EventsState>> = {
		actions: {
			/** This service's dead letters (public: the gateway aggregates them for admins). */
			deadLetters: {
				visibility: "public",
				params: {
					status: { type: "enum", values: ["dead", "redriven", "all"], optional: true },
					limit: { type: "number", integer: true, min: 1, max: 500, optional: true, convert: true },
					offset: { type: "number", integer: true, min: 0, optional: true, convert: true },
				},
				async handler(this: EventsThis, ctx: Context<{ status?: "dead" | "redriven" | "all"; limit?: number; offset?: number }>): Promise<{ rows: DeadLetter[]; total: number }> {
					return this.$events.listDeadLetters(ctx.params.status ?? "dead", ctx.params.limit ?? 100, ctx.params.offset ?? 0);
				},
			},

			/** Delivers one dead letter to its consumer again; answers whether it went through this time. */
			redriveDeadLetter: {
				visibility: "public",
				params: { id: { type: "string", min: 1, max: 100 } },
				async handler(this: EventsThis, ctx: Context<{ id: string }>): Promise<RedriveResult> {
					return this.$events.redrive(ctx.params.id, ctx);
				},
			},

			/** Counts for dashboards and metrics: dead letters and unsent outbox rows. */
			eventStats: {
				visibility: "public",
				async handler(this: EventsThis): Promise<EventStats> {
					return this.$events.stats();
				},
			},
		},

		methods: {
			async publish<T extends object>(this: EventsThis, ctx: Context | null, event: EventName, payload: T): Promise<DomainEvent<T>> {
				const message = this.$events.seal(createMessage(this.name, event, payload, metaOf(ctx)));
				await this.$events.publish(message as unknown as EventMessage);
				return message.event as DomainEvent<T>;
			},
			stageEvent<T extends object>(this: EventsThis, ctx: Context | null, event: EventName, payload: T): StagedEvent<T> {
				return this.$events.seal(createMessage(this.name, event, payload, metaOf(ctx)));
			},
			async publishStaged(this: EventsThis, collection: string, docId: string, events: StagedEvent[]): Promise<void> {
				if (!this.collection) throw new Error(`${this.name}: publishStaged needs the service's DbMixin`);
				await this.$events.publishStaged(this.collection(collection) as Parameters<EventsRuntime["publishStaged"]>[0], docId, events);
			},
		},

		created(this: EventsThis) {
			const invokers = new Map<string, Invoker>();
			const runtime = new EventsRuntime(this, configOf(this), invokers, {
				fanout: opts.fanout ?? "service",
				retry: opts.retry ?? {},
				stagedIn: opts.stagedIn ?? [],
				relayIntervalMs: opts.relayIntervalMs ?? 1000,
			});
			for (const [name, handler] of handlers) {
				// The same shape Moleculer gives a schema event, so that every `localEvent` middleware wraps it.
				const def = {
					name,
					group: runtime.group,
					service: this,
					handler: async (ctx: Context<DomainEvent>): Promise<void> => {
						await handler.call(this as unknown as TThis, ctx.params, ctx);
					},
				};
				const wrapped = this.broker.middlewares.wrapHandler("localEvent", def.handler, def as never) as (ctx: Context) => Promise<void>;
				const endpoint = { id: this.broker.nodeID, event: def, broker: this.broker, service: null, node: null, local: true, state: true };
				invokers.set(name, async (message, meta) => {
					const ctx = this.broker.ContextFactory.create(this.broker, endpoint as never, message.event, {
						meta,
						requestID: message.meta.requestID ?? undefined,
					}) as Context & EventContextFields;
					ctx.eventName = name;
					ctx.eventType = "emit";
					ctx.eventGroups = [runtime.group];
					ctx.caller = message.source;
					await wrapped(ctx);
				});
			}
			this.$events = runtime;
		},

		async started(this: EventsThis) {
			await this.$events.start();
		},

		async stopped(this: EventsThis) {
			await this.$events.stop();
		},
	};
	return schema as Partial<ServiceSchema>;
}
