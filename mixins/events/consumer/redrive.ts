/**
 * Redrive: one more delivery of a dead letter to the consumer that gave up on it, and nobody else.
 */
import { ConflictError, NotFoundError } from "../../../services/common/errors";
import { errorText, processedKey, type EventMessage } from "../policy";
import type { EventStore } from "../store";
import type { EnvelopeKeys } from "../envelope";

export interface RedriveResult {
	id: string;
	event_id: string;
	consumer: string;
	/** "redriven": the consumer handled it (now or before); "dead": it failed again and stays a dead letter. */
	status: "redriven" | "dead";
	error: string | null;
}

type Invoke = (message: EventMessage, meta: Record<string, unknown>) => Promise<void>;

/** Runs the consumer's handler for a dead letter under the usual claim; marks the letter redriven on success. */
export async function redriveDeadLetter(
	store: EventStore,
	invokers: Map<string, Invoke>,
	service: string,
	id: string,
	metaFor: (attempt: number) => Record<string, unknown>,
	keys: EnvelopeKeys,
): Promise<RedriveResult> {
	const dl = await store.deadLetters.findById(id);
	if (!dl) throw new NotFoundError("dead letter", id);
	const result = (status: RedriveResult["status"], error: string | null): RedriveResult => ({ id, event_id: dl.event_id, consumer: dl.consumer, status, error });
	if (dl.status === "redriven") return result("redriven", null);
	const invoke = invokers.get(dl.event_name);
	if (!invoke) throw new ConflictError(`${service} no longer consumes ${dl.event_name}`, "NO_CONSUMER");
	const stored: EventMessage = {
		event_id: dl.event_id,
		name: dl.event_name,
		source: dl.source,
		event: dl.event as EventMessage["event"],
		meta: dl.meta,
		created_at: dl.failed_at,
		version: dl.version,
		trace_id: dl.trace_id,
		signature: dl.signature,
	};
	// A letter kept by a version before envelopes (no reason, no version) is sealed now: it failed in a handler, after
	// it came from this shop's own outbox. A letter this version refused is never sealed here, whatever it lacks.
	const message = dl.version === undefined && dl.reason === undefined ? keys.sealLegacy(stored) : stored;
	// The same checks as a delivery: a forged or invalid event stays dead whoever redrives it (a key added since
	// by a rotation lets a letter refused for its key through).
	const rejection = keys.check(message);
	if (rejection) {
		const error = `${rejection.reason}: ${rejection.detail}`;
		await store.deadLetters.updateWhere({ id }, { $set: { error, reason: rejection.reason, failed_at: new Date().toISOString() }, $inc: { attempts: 1 } });
		return result("dead", error);
	}
	const key = processedKey(dl.consumer, dl.event_id);
	const claim = await store.claim(key);
	if (claim === "busy") throw new ConflictError(`event ${dl.event_id} is being processed right now`, "EVENT_BUSY");
	if (claim === "claimed") {
		try {
			await invoke(message, metaFor(dl.attempts + 1));
		} catch (err) {
			await store.release(key).catch(() => undefined);
			const error = errorText(err);
			await store.deadLetters.updateWhere({ id }, { $set: { error, failed_at: new Date().toISOString() }, $inc: { attempts: 1 } });
			return result("dead", error);
		}
		await store.markDone(key);
	}
	await store.deadLetters.updateWhere({ id }, { $set: { status: "redriven", redriven_at: new Date().toISOString() } });
	return result("redriven", null);
}
