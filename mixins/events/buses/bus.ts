/**
 * The bus that carries domain events between services: an in-process queue in embedded mode, NATS JetStream
 * when NATS_URL is set. Both give the same semantics: each consumer group gets each event at least once,
 * a delivery is acknowledged, retried after a delay or terminated, and a group that is down keeps its events
 * (node groups excepted: they only get events published while they listen).
 */
import type { EventMessage } from "../policy";

export interface Subscription {
	group: string;
	eventName: string;
	/** "durable": shared by the replicas of a service, kept while they are down; "node": this node only, new events only. */
	mode: "durable" | "node";
}

export interface Delivery {
	message: EventMessage;
	/** 1 for the first delivery to this group. */
	attempt: number;
}

export type DeliveryResult = { kind: "ack" } | { kind: "retry"; delayMs: number } | { kind: "term" };

export type DeliveryHandler = (delivery: Delivery) => Promise<DeliveryResult>;

export interface SubscriptionHandle {
	/** Stops taking new deliveries and waits for the running ones. */
	close(): Promise<void>;
}

export interface EventBus {
	readonly kind: "memory" | "jetstream";
	/** Hands a message to the bus; resolves once the bus holds it. `dedupe: false` skips the bus's own de-duplication. */
	publish(message: EventMessage, opts?: { dedupe?: boolean }): Promise<void>;
	subscribe(sub: Subscription, handler: DeliveryHandler): Promise<SubscriptionHandle>;
	close(): Promise<void>;
	/**
	 * For a bus that keeps nothing across a crash (the in-process one): resolves true once every durable group
	 * subscribed when the event was published has taken it for good (acknowledged or dead-lettered), false when
	 * the bus closed first. Until then the event's outbox row or staged copy must stay, so a restart sends it again.
	 */
	whenConsumed?(eventId: string): Promise<boolean>;
	/** Whether an event handed to this bus is still on its way to some group (the sweep leaves it alone). */
	inFlight?(eventId: string): boolean;
}

/** Runs a handler for a delivery, turning a thrown error into a retry (the handler should not throw). */
export async function runDelivery(handler: DeliveryHandler, delivery: Delivery, fallbackDelayMs: number): Promise<DeliveryResult> {
	try {
		return await handler(delivery);
	} catch {
		return { kind: "retry", delayMs: fallbackDelayMs };
	}
}
