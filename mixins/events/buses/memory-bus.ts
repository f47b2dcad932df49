/**
 * The embedded bus: an in-process queue per namespace, shared by every broker of this process. A durable group
 * that subscribes late gets the events published before (up to LOG_LIMIT), as a JetStream durable consumer does.
 */
import { runDelivery, type Delivery, type DeliveryHandler, type EventBus, type Subscription, type SubscriptionHandle } from "./bus";
import type { EventMessage } from "../policy";

/**
 * How many recent events a late durable subscriber can catch up on. The log holds at least this many and at
 * most twice as many (trimmed in one go, not one `shift` of a long array per publish).
 */
const LOG_LIMIT = 2_000;

/**
 * Deliveries a group runs at once, as JetStream's `max_ack_pending` bounds a consumer: after a restart the relay
 * hands over thousands of staged events in one go, and running them all at once would only make each slower.
 */
export const MAX_IN_FLIGHT_PER_GROUP = 64;

interface Group {
	sub: Subscription;
	handlers: DeliveryHandler[];
	next: number;
	queue: Delivery[];
	/** Deliveries of this group running now (at most MAX_IN_FLIGHT_PER_GROUP). */
	running: number;
}

/** Groups that still have to take an event for good, and who waits for that. */
interface Tracker {
	/** `<group>|<event name>` of the durable groups that have not taken it yet. */
	pending: Set<string>;
	promise: Promise<boolean>;
	resolve(ok: boolean): void;
}

class MemoryBusCore {
	refs = 0;
	closed = false;
	private readonly trackers = new Map<string, Tracker>();
	/** The groups of each event name, `[key, group]`, so a publish does not scan every group. */
	private readonly byEvent = new Map<string, Array<[string, Group]>>();
	private readonly log: EventMessage[] = [];
	private readonly groups = new Map<string, Group>();
	private readonly timers = new Set<NodeJS.Timeout>();
	readonly inflight = new Set<Promise<void>>();

	publish(message: EventMessage): void {
		this.log.push(message);
		if (this.log.length >= 2 * LOG_LIMIT) this.log.splice(0, this.log.length - LOG_LIMIT);
		const targets = this.byEvent.get(message.name) ?? [];
		const durable = targets.filter(([, g]) => g.sub.mode === "durable").map(([key]) => key);
		if (durable.length > 0) {
			let t = this.trackers.get(message.event_id);
			if (!t) {
				let resolve: (ok: boolean) => void = () => undefined;
				const promise = new Promise<boolean>(r => (resolve = r));
				t = { pending: new Set(), promise, resolve };
				this.trackers.set(message.event_id, t);
			}
			// Published again while still on its way (a relay's repeat): the tracker waits for the groups once each.
			for (const key of durable) t.pending.add(key);
		}
		for (const [, g] of targets) this.enqueue(g, { message, attempt: 1 });
	}

	/** Resolves once every durable group has taken the event for good (true), or the bus closed (false). */
	whenConsumed(eventId: string): Promise<boolean> {
		return this.trackers.get(eventId)?.promise ?? Promise.resolve(true);
	}

	inFlight(eventId: string): boolean {
		return this.trackers.has(eventId);
	}

	/** One durable group took the event for good. */
	private settle(eventId: string, groupKey: string): void {
		const t = this.trackers.get(eventId);
		if (!t || !t.pending.delete(groupKey) || t.pending.size > 0) return;
		this.trackers.delete(eventId);
		t.resolve(true);
	}

	subscribe(sub: Subscription, handler: DeliveryHandler): SubscriptionHandle {
		const key = `${sub.group}|${sub.eventName}`;
		let group = this.groups.get(key);
		if (!group) {
			group = { sub, handlers: [], next: 0, queue: [], running: 0 };
			this.groups.set(key, group);
			this.byEvent.set(sub.eventName, [...(this.byEvent.get(sub.eventName) ?? []), [key, group]]);
			if (sub.mode === "durable")
				for (const message of this.log) if (message.name === sub.eventName) group.queue.push({ message, attempt: 1 });
		}
		const g = group;
		g.handlers.push(handler);
		this.drain(g);
		return {
			close: async () => {
				g.handlers = g.handlers.filter(h => h !== handler);
				if (g.handlers.length === 0 && g.sub.mode === "node") {
					this.groups.delete(key);
					this.byEvent.set(g.sub.eventName, (this.byEvent.get(g.sub.eventName) ?? []).filter(([k]) => k !== key));
				}
			},
		};
	}

	private enqueue(g: Group, d: Delivery): void {
		g.queue.push(d);
		this.drain(g);
	}

	/**
	 * Hands queued deliveries to the group's subscribers in turn, up to MAX_IN_FLIGHT_PER_GROUP at once; each runs
	 * on its own, so none blocks another, and each one that ends lets the next queued one start.
	 */
	private drain(g: Group): void {
		while (g.queue.length > 0 && g.handlers.length > 0 && g.running < MAX_IN_FLIGHT_PER_GROUP && !this.closed) {
			const d = g.queue.shift() as Delivery;
			const handler = g.handlers[g.next++ % g.handlers.length];
			g.running++;
			const p = this.run(g, handler, d);
			this.inflight.add(p);
			void p.finally(() => {
				this.inflight.delete(p);
				g.running--;
				this.drain(g);
			});
		}
	}

	private async run(g: Group, handler: DeliveryHandler, d: Delivery): Promise<void> {
		await new Promise<void>(resolve => setImmediate(resolve));
		const res = await runDelivery(handler, d, 100);
		if (res.kind !== "retry" && g.sub.mode === "durable") this.settle(d.message.event_id, `${g.sub.group}|${g.sub.eventName}`);
		if (res.kind !== "retry" || this.closed) return;
		const t = setTimeout(() => {
			this.timers.delete(t);
			if (this.groups.get(`${g.sub.group}|${g.sub.eventName}`) === g) this.enqueue(g, { message: d.message, attempt: d.attempt + 1 });
		}, res.delayMs);
		t.unref();
		this.timers.add(t);
	}

	shutdown(): void {
		this.closed = true;
		for (const t of this.trackers.values()) t.resolve(false);
		this.trackers.clear();
		for (const t of this.timers) clearTimeout(t);
		this.timers.clear();
		this.groups.clear();
		this.byEvent.clear();
	}
}

const cores = new Map<string, MemoryBusCore>();

/** A handle on the process-wide bus of a namespace; the bus goes away when its last handle closes. */
export function openMemoryBus(namespace: string): EventBus {
	let core = cores.get(namespace);
	if (!core) {
		core = new MemoryBusCore();
		cores.set(namespace, core);
	}
	const c = core;
	c.refs++;
	let closed = false;
	return {
		kind: "memory",
		async publish(message: EventMessage): Promise<void> {
			c.publish(message);
		},
		async subscribe(sub: Subscription, handler: DeliveryHandler): Promise<SubscriptionHandle> {
			return c.subscribe(sub, handler);
		},
		whenConsumed: (eventId: string) => c.whenConsumed(eventId),
		inFlight: (eventId: string) => c.inFlight(eventId),
		async close(): Promise<void> {
			if (closed) return;
			closed = true;
			if (--c.refs > 0) return;
			c.shutdown();
			if (cores.get(namespace) === c) cores.delete(namespace);
			await Promise.allSettled([...c.inflight]);
		},
	};
}
