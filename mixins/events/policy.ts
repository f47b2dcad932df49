/**
 * Pure rules of the durable event layer: envelopes, retry back-off, names on the bus. No moleculer, no I/O.
 */
import { uuid } from "../../services/common/ids";

/** What travels with an event besides its payload: the behavior rules and request id of the publisher. */
export interface EventMeta {
	behavior?: unknown;
	requestID?: string | null;
}

/** One domain event as stored in the outbox and carried by the bus. */
export interface EventMessage<E extends object = Record<string, unknown>> {
	event_id: string;
	/** Event name, e.g. "order.created". */
	name: string;
	/** The publishing service. */
	source: string;
	/** The payload as consumers see it, with `event_id` and `occurred_at`. */
	event: E & { event_id: string; occurred_at: string };
	meta: EventMeta;
	created_at: string;
	/** The envelope's version of the type (envelope.ts); absent in rows stored before envelopes had one. */
	version?: number;
	/** The trace (request id) the event was published in, null outside any. */
	trace_id?: string | null;
	/** HMAC-SHA256 of the envelope for signed types (`hs256:<key id>:<mac>`), null for the others. */
	signature?: string | null;
}

export interface RetryPolicy {
	/** Deliveries before the event goes to the dead-letter store (the first one included). */
	attempts: number;
	/** Delay before the second delivery; doubled for each further one. */
	baseDelayMs: number;
	maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 10_000 };

/** A consumer's claim older than this is taken over (set beside the dedupe window it bounds, in config/env.ts). */
export { CLAIM_STALE_MS } from "../../config/env";

/** What to do after the consumer failed on delivery `attempt` (1-based). */
export type FailureDecision = { kind: "retry"; delayMs: number } | { kind: "dead-letter" };

/** A new message for an event: stamps `event_id` and `occurred_at` on the payload (envelope.ts seals it: version, signature). */
export function createMessage<T extends object>(
	source: string,
	name: string,
	payload: T,
	meta: EventMeta = {},
	now: Date = new Date(),
	eventId: string = uuid(),
): EventMessage<T> {
	const occurred_at = now.toISOString();
	const event = { ...payload, event_id: eventId, occurred_at };
	return { event_id: eventId, name, source, event, meta, created_at: occurred_at, trace_id: meta.requestID ?? null };
}

/** Exponential back-off: 100, 200, 400, 800 ms... capped; dead-lettered once `attempts` deliveries failed. */
export function decideAfterFailure(attempt: number, policy: RetryPolicy = DEFAULT_RETRY): FailureDecision {
	if (attempt >= policy.attempts) return { kind: "dead-letter" };
	const delayMs = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
	return { kind: "retry", delayMs };
}

/** The consumer group of a service: shared by its replicas, or one per node for fanout "node". */
export function consumerGroup(service: string, fanout: "service" | "node", nodeID: string): string {
	return fanout === "node" ? `${service}.${nodeID}` : service;
}

/** The key under which a consumer remembers that it processed an event. */
export function processedKey(group: string, eventId: string): string {
	return `${group}|${eventId}`;
}

/** A token safe for NATS subjects and stream/consumer names (letters, digits, `_` and `-`). */
export function busToken(raw: string): string {
	return raw.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** Subject of an event on the bus: `<namespace>.events.<event name>`. */
export function eventSubject(namespace: string, eventName: string): string {
	return `${busToken(namespace)}.events.${eventName}`;
}

/** The JetStream stream of a namespace. */
export function streamName(namespace: string): string {
	return `EVENTS_${busToken(namespace)}`;
}

/** The JetStream consumer of a group for one event. */
export function consumerName(group: string, eventName: string): string {
	return `${busToken(group)}__${busToken(eventName)}`;
}

/** The error text kept in a dead letter (no stack: it may reach an admin screen). */
export function errorText(err: unknown): string {
	if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 2000);
	return String(err).slice(0, 2000);
}

/** A dead-letter id that names the service owning it, so the gateway knows whom to ask. */
export function deadLetterId(service: string, id: string = uuid()): string {
	return `dl_${busToken(service)}_${id.replace(/-/g, "").slice(0, 16)}`;
}

/** The service a dead-letter id belongs to, or null when it is not one of ours. */
export function serviceOfDeadLetter(id: string): string | null {
	const m = /^dl_([A-Za-z0-9_-]+)_[0-9a-f]{16}$/.exec(id);
	return m ? m[1] : null;
}
