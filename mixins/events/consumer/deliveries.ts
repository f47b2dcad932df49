/**
 * The consumer side of one service instance's durable events: each delivery's envelope is checked (schema, and
 * signature for signed types: an invalid one is dead-lettered at once with its reason, counted, never applied), then
 * claimed (so a duplicate is dropped), run through the broker's event middlewares, retried with back-off on failure
 * and dead-lettered at the end; a dead letter can be redriven to this consumer only.
 */
import type { Context, Logger } from "moleculer";
import type { Delivery, DeliveryResult } from "../buses/bus";
import { deadLetterId, decideAfterFailure, errorText, processedKey, type EventMessage, type EventMeta, type RetryPolicy } from "../policy";
import type { DeadLetter, EventStore } from "../store";
import type { EnvelopeKeys, Rejection } from "../envelope";
import { redriveDeadLetter, type RedriveResult } from "./redrive";

/** Runs a consumer's handler for an event through the broker's event middlewares. */
type Invoke = (message: EventMessage, meta: Record<string, unknown>) => Promise<void>;

export interface ConsumerOptions {
	service: string;
	nodeId: string;
	/** The consumer group (service-wide, or this node's for node fan-out). */
	group: string;
	retry: RetryPolicy;
	logger: Logger;
	/** Whether the instance is stopping (deliveries are then put back for later). */
	stopping(): boolean;
	/** Checks envelopes (schema and signature). */
	keys: EnvelopeKeys;
	/** Counts an event refused by its envelope check (the metric). */
	onRejected(message: EventMessage, rejection: Rejection): void;
}

export class EventConsumer {
	constructor(
		private readonly store: EventStore,
		private readonly invokers: Map<string, Invoke>,
		private readonly opts: ConsumerOptions,
	) {}

	/** One delivery to this consumer: de-duplicated by claim, retried with back-off, dead-lettered at the end. */
	async deliver(d: Delivery): Promise<DeliveryResult> {
		if (this.opts.stopping()) return { kind: "retry", delayMs: 500 };
		const invoke = this.invokers.get(d.message.name);
		if (!invoke) return { kind: "ack" };
		// Before the claim: a forged event with a real event's id takes nothing from the real one.
		const rejection = this.opts.keys.check(d.message);
		if (rejection) {
			this.opts.onRejected(d.message, rejection);
			await this.deadLetter(d.message, `${rejection.reason}: ${rejection.detail}`, d.attempt, rejection.reason);
			return { kind: "term" };
		}
		const key = processedKey(this.opts.group, d.message.event_id);
		const claim = await this.store.claim(key);
		if (claim === "done") return { kind: "ack" };
		if (claim === "busy") return { kind: "retry", delayMs: this.opts.retry.baseDelayMs };
		try {
			await invoke(d.message, this.deliveryMeta(d.message.meta, d.attempt));
		} catch (err) {
			await this.store.release(key).catch(() => undefined);
			const next = decideAfterFailure(d.attempt, this.opts.retry);
			if (next.kind === "retry") {
				this.opts.logger.debug(`${this.opts.group}: ${d.message.name} ${d.message.event_id} failed (attempt ${d.attempt}), retry in ${next.delayMs} ms`);
				return { kind: "retry", delayMs: next.delayMs };
			}
			await this.deadLetter(d.message, errorText(err), d.attempt, "HANDLER_FAILED");
			return { kind: "term" };
		}
		await this.store.markDone(key);
		return { kind: "ack" };
	}

	private deliveryMeta(meta: EventMeta, attempt: number): Record<string, unknown> {
		return { behavior: meta.behavior, $event: { attempt, group: this.opts.group } };
	}

	private async deadLetter(message: EventMessage, error: string, attempts: number, reason: NonNullable<DeadLetter["reason"]>): Promise<void> {
		// A duplicate delivery that failed as well adds nothing to the dead letter already kept (for the same reason:
		// a forged copy of an event does not hide the real one's failure).
		if (await this.store.deadLetters.findOne({ consumer: this.opts.group, event_id: message.event_id, status: "dead", reason })) return;
		this.opts.logger.warn(`${this.opts.group}: ${message.name} ${message.event_id} dead-lettered (${reason}) after ${attempts} attempts: ${error}`);
		await this.store.deadLetters.insert({
			id: deadLetterId(this.opts.service),
			service: this.opts.service,
			consumer: this.opts.group,
			node_id: this.opts.nodeId,
			event_id: message.event_id,
			event_name: message.name,
			source: message.source,
			event: message.event,
			meta: message.meta,
			error,
			reason,
			version: message.version,
			trace_id: message.trace_id ?? null,
			signature: message.signature ?? null,
			attempts,
			status: "dead",
			failed_at: new Date().toISOString(),
			redriven_at: null,
		});
	}

	/** Delivers a dead letter to its consumer once more, with the redriving request's behavior rules. */
	async redrive(id: string, ctx: Context): Promise<RedriveResult> {
		const behavior = (ctx.meta as { behavior?: unknown }).behavior;
		return redriveDeadLetter(this.store, this.invokers, this.opts.service, id, attempt => this.deliveryMeta({ behavior }, attempt), this.opts.keys);
	}

	/** This service's dead letters, newest first. */
	async listDeadLetters(status: "dead" | "redriven" | "all", limit: number, offset: number): Promise<{ rows: DeadLetter[]; total: number }> {
		const query = status === "all" ? {} : { status };
		const [rows, total] = await Promise.all([
			this.store.deadLetters.find(query, { sort: ["-failed_at"], limit, offset }),
			this.store.deadLetters.count(query),
		]);
		return { rows, total };
	}
}
