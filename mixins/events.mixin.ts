/**
 * Domain events for a service: `this.publish(ctx, name, payload)` to emit, and `handlers` to consume.
 * Every payload gets `event_id` and `occurred_at`; consumers are idempotent on `event_id`.
 *
 * Consumers are grouped by service, so one replica of each consuming service handles each event; with
 * `fanout: "node"` every node of the service gets every event (read models such as search).
 */
import { randomUUID } from "node:crypto";
import type { Context, Service, ServiceSchema } from "moleculer";
import type { DomainEvent, EventName } from "../services/common/events";

/** A consumer of one event: gets the payload and the Moleculer context it arrived with. */
export type DomainEventHandler<TThis = Service> = (this: TThis, event: DomainEvent, ctx: Context) => Promise<void> | void;

export interface EventsMixinOptions<TThis = Service> {
	handlers?: Partial<Record<EventName, DomainEventHandler<TThis>>>;
	/** "service" (default): one replica per event; "node": every node of the service. */
	fanout?: "service" | "node";
}

export interface EventsMethods {
	/** Publishes a domain event to every consuming service. */
	publish<T extends object>(ctx: Context | null, event: EventName, payload: T): Promise<DomainEvent<T>>;
}

interface EventsState {
	$seenEvents: Set<string>;
}

const SEEN_LIMIT = 50_000;

/** A mixin giving the service `this.publish` and idempotent consumers for the events it handles. */
export function EventsMixin<TThis = Service>(opts: EventsMixinOptions<TThis> = {}): Partial<ServiceSchema> {
	const events: Record<string, { group?: string; handler(this: Service & EventsState, ctx: Context<DomainEvent>): Promise<void> }> = {};
	for (const [name, handler] of Object.entries(opts.handlers ?? {}) as Array<[string, DomainEventHandler<TThis>]>) {
		events[name] = {
			async handler(this: Service & EventsState, ctx: Context<DomainEvent>): Promise<void> {
				const event = ctx.params;
				const key = `${name}:${event.event_id}`;
				if (event.event_id && this.$seenEvents.has(key)) return;
				await handler.call(this as unknown as TThis, event, ctx);
				if (event.event_id) {
					this.$seenEvents.add(key);
					if (this.$seenEvents.size > SEEN_LIMIT) this.$seenEvents.delete(this.$seenEvents.values().next().value as string);
				}
			},
		};
	}
	const schema: Partial<ServiceSchema> & { merged?(this: Service, schema: ServiceSchema): void } = {
		events,
		methods: {
			async publish<T extends object>(this: Service, ctx: Context | null, event: EventName, payload: T): Promise<DomainEvent<T>> {
				const full = { ...payload, event_id: randomUUID(), occurred_at: new Date().toISOString() } as DomainEvent<T>;
				if (ctx) await ctx.emit(event, full);
				else await this.broker.emit(event, full);
				return full;
			},
		},
		/** With fanout "node", each node consumes in a group of its own, so every node gets every event. */
		merged(this: Service, merged: ServiceSchema): void {
			if (opts.fanout !== "node") return;
			for (const name of Object.keys(events)) {
				const def = merged.events?.[name] as { group?: string } | undefined;
				if (def && typeof def === "object") def.group = `${merged.name}.${this.broker.nodeID}`;
			}
		},
		created(this: Service) {
			(this as Service & EventsState).$seenEvents = new Set();
		},
	};
	return schema;
}
