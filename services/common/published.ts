/**
 * The one path on which a node observes the domain events its services publish. The event relay
 * (mixins/events/relay/relay.ts) announces each event once, when the bus has taken it, as the local event
 * `$events.published` on the broker's local bus (never sent to another node); observers such as the business
 * metrics middleware subscribe with `onPublished`.
 */
import type { ServiceBroker } from "moleculer";

/** The name of the local event. */
export const EVENT_PUBLISHED = "$events.published";

/** A domain event a service of this node published. */
export interface PublishedEvent {
	/** Event name, e.g. "order.created". */
	name: string;
	/** The publishing service. */
	source: string;
	event_id: string;
	/** The payload as consumers see it. */
	payload: Record<string, unknown>;
}

export type PublishedObserver = (event: PublishedEvent) => void;

/** Tells this node's observers that one event was published (called by the relay, once per event). */
export function announcePublished(broker: ServiceBroker, event: PublishedEvent): void {
	broker.localBus.emit(EVENT_PUBLISHED, event);
}

/** Calls `observer` for every event a service of this node publishes; returns the unsubscribe function. */
export function onPublished(broker: ServiceBroker, observer: PublishedObserver): () => void {
	broker.localBus.on(EVENT_PUBLISHED, observer);
	return () => void broker.localBus.off(EVENT_PUBLISHED, observer);
}
