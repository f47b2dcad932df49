/**
 * The order's own event stream (docs/history.md): every change of an order is an event
 * `{seq, type, at, actor, data}` appended to `stream` in the same conditional write as the change, and the order's
 * fields (its projection: everything but the saga log, the revision, the outbox and the stream) are the fold of
 * its events. `changeEvents` derives a write's events from the order before and after it and refuses a change that
 * its events do not explain; `evolve`/`rebuild` fold them back; `streamDifferences` compares. Pure code.
 */
import type { OrderDoc } from "./model";
import type { ShipmentRef } from "./shops";
import type { HistoryEntry, OrderStatus } from "./state-machine";

export interface StreamEvent {
	/** 1, 2, 3… in the order's stream. */
	seq: number;
	type: string;
	at: string;
	/** `user:<id>`, `admin:<id>`, or `system:<service>` for a system step (`system:orders` for the saga, `system:shipping`). */
	actor: string;
	data: Record<string, unknown>;
}

/** An order's fields that its stream reproduces. */
export type OrderProjection = Record<string, unknown>;

/**
 * The fields of an order that are not the projection: the id (the stream's name), the saga engine's working log
 * (steps, attempts, leases; the fields it decides are projected), the write revision, the outbox of order.* events
 * to publish, and the stream itself.
 */
export const NOT_PROJECTED: ReadonlySet<string> = new Set(["id", "saga", "rev", "pending_events", "stream"]);

/** Statuses whose arrival is an event named after them (PENDING is the `created` event). */
const TRANSITION_TYPES: ReadonlySet<string> = new Set(["paid", "stock_reserved", "shipped", "delivered", "compensating", "failed", "cancelled"]);

/** A change of an order that none of its events explains: refused, so that no change is stored without its event. */
export class UnexplainedChangeError extends Error {
	constructor(
		readonly orderId: string,
		readonly fields: string[],
	) {
		super(`order ${orderId}: a change of ${fields.join(", ")} is explained by no event of its stream`);
		this.name = "UnexplainedChangeError";
	}
}

/** The projected fields of an order (a deep copy; fields holding undefined are left out). */
export function projectionOf(doc: object): OrderProjection {
	const out: OrderProjection = {};
	for (const [k, v] of Object.entries(doc)) if (!NOT_PROJECTED.has(k) && v !== undefined) out[k] = structuredClone(v);
	return out;
}

/** The value as a string that does not depend on key order (undefined members left out), for comparisons. */
export function canonical(value: unknown): string {
	if (value === undefined) return "undefined";
	if (value === null || typeof value !== "object") return JSON.stringify(value);
	if (Array.isArray(value)) return `[${value.map(v => (v === undefined ? "null" : canonical(v))).join(",")}]`;
	const keys = Object.keys(value as object)
		.filter(k => (value as Record<string, unknown>)[k] !== undefined)
		.sort();
	return `{${keys.map(k => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
}

/** The fields whose values differ between two projections. */
export function differingFields(a: OrderProjection, b: OrderProjection): string[] {
	const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
	return keys.filter(k => canonical(a[k]) !== canonical(b[k]));
}

/** The first event of a new order's stream: `created`, with the order's projection as it was placed. */
export function createdEvent(doc: OrderDoc, actor: string): StreamEvent {
	return { seq: 1, type: "created", at: doc.created_at, actor, data: projectionOf(doc) };
}

type Draft = Omit<StreamEvent, "seq">;

/** One event per shipment that appeared or changed status, in the order's order of shipments. */
function shipmentEvents(before: OrderDoc, after: OrderDoc, actor: string, at: string): Draft[] {
	const out: Draft[] = [];
	for (const s of after.shipments ?? []) {
		const prev = before.shipments?.find(p => p.id === s.id);
		if (prev && prev.status === s.status && prev.shop_id === s.shop_id) continue;
		out.push({ type: `shipment_${s.status.toLowerCase()}`, at, actor, data: { shipment_id: s.id, shop_id: s.shop_id, status: s.status } });
	}
	return out;
}

/** The ids the saga recorded in this write (payment, shipment). */
function recordedIds(before: OrderDoc, after: OrderDoc): Record<string, unknown> {
	const ids: Record<string, unknown> = {};
	if (after.payment_id !== before.payment_id) ids.payment_id = after.payment_id;
	if (after.shipment_id !== before.shipment_id) ids.shipment_id = after.shipment_id;
	return ids;
}

/**
 * The events a write of an order appends to its stream, numbered after the ones it has: `legacy` (a snapshot of
 * an order stored before streams, on its first write since), `cancel_requested`, `shipment_<status>` per parcel,
 * one event per new status (`paid`, `stock_reserved`, `shipped`, `delivered`, `compensating`, `failed`,
 * `cancelled`; the first carries the ids the saga recorded with it), `payment_recorded` / `shipment_recorded` when
 * an id came without a status, `refunded`. Throws UnexplainedChangeError when folding them over the order before
 * does not give the order after.
 */
export function changeEvents(before: OrderDoc, after: OrderDoc, actor: string, at: string, opts: { strict: boolean } = { strict: true }): StreamEvent[] {
	const drafts: Draft[] = [];
	if (!before.stream) drafts.push({ type: "legacy", at, actor: SAGA_ACTOR, data: projectionOf(before) });
	if (after.cancel_requested && !before.cancel_requested) drafts.push({ type: "cancel_requested", at, actor, data: {} });
	drafts.push(...shipmentEvents(before, after, actor, at));
	const ids = recordedIds(before, after);
	const entries: HistoryEntry[] = after.history.slice(before.history.length);
	entries.forEach((e, k) => {
		const data: Record<string, unknown> = { status: e.status, reason: e.reason };
		if (e.status === "FAILED") data.failure_reason = after.failure_reason;
		drafts.push({ type: e.status.toLowerCase(), at: e.at, actor, data: k === 0 ? { ...data, ...ids } : data });
	});
	if (entries.length === 0) {
		if ("payment_id" in ids) drafts.push({ type: "payment_recorded", at, actor, data: { payment_id: ids.payment_id } });
		if ("shipment_id" in ids) drafts.push({ type: "shipment_recorded", at, actor, data: { shipment_id: ids.shipment_id } });
	}
	if (after.refunded_at && after.refunded_at !== before.refunded_at) drafts.push({ type: "refunded", at: after.refunded_at, actor, data: {} });

	const first = before.stream?.length ?? 0;
	const events = drafts.map((d, k) => ({ seq: first + k + 1, ...d }));
	const folded = events.reduce(evolve, projectionOf(before));
	const target = projectionOf(after);
	const unexplained = differingFields(folded, target);
	if (unexplained.length === 0) return events;
	if (opts.strict) throw new UnexplainedChangeError(after.id, unexplained);
	// Outside tests a bug of this kind must not stop an order's saga: the change is kept with an `amended` event
	// carrying the fields as they are now (the stream still rebuilds the order), and the caller logs it loudly.
	const fields = Object.fromEntries(unexplained.filter(f => f in target).map(f => [f, target[f]]));
	const removed = unexplained.filter(f => !(f in target));
	return [...events, { seq: first + events.length + 1, type: "amended", at, actor, data: { fields, removed } }];
}

/** The order's projection after one more event of its stream. */
export function evolve(state: OrderProjection, event: StreamEvent): OrderProjection {
	const d = event.data;
	if (event.type === "created" || event.type === "legacy") return structuredClone(d);
	if (event.type === "cancel_requested") return { ...state, cancel_requested: true };
	if (event.type === "amended") {
		const next: OrderProjection = { ...state, ...structuredClone(d.fields as OrderProjection) };
		for (const f of d.removed as string[]) delete next[f];
		return next;
	}
	if (event.type.startsWith("shipment_") && typeof d.shipment_id === "string" && event.type !== "shipment_recorded") {
		const shipments = [...((state.shipments as ShipmentRef[] | undefined) ?? [])];
		const k = shipments.findIndex(s => s.id === d.shipment_id);
		const ref = { id: d.shipment_id, shop_id: String(d.shop_id), status: String(d.status) };
		if (k < 0) shipments.push(ref);
		else shipments[k] = ref;
		return { ...state, shipments };
	}
	if (event.type === "payment_recorded") return { ...state, payment_id: d.payment_id };
	if (event.type === "shipment_recorded") return { ...state, shipment_id: d.shipment_id };
	if (event.type === "refunded") return { ...state, refunded_at: event.at, updated_at: event.at };
	if (TRANSITION_TYPES.has(event.type)) {
		const status = d.status as OrderStatus;
		const history = [...((state.history as HistoryEntry[] | undefined) ?? []), { status, at: event.at, reason: (d.reason as string | null) ?? null }];
		const next: OrderProjection = { ...state, status, failure_reason: d.failure_reason ?? null, history, updated_at: event.at };
		if ("payment_id" in d) next.payment_id = d.payment_id;
		if ("shipment_id" in d) next.shipment_id = d.shipment_id;
		return next;
	}
	throw new Error(`order stream: unknown event type ${event.type}`);
}

/** The projection an order's stream folds to. */
export function rebuild(events: readonly StreamEvent[]): OrderProjection {
	return events.reduce(evolve, {});
}

export interface StreamDifference {
	order_id: string;
	field: string;
	stored: unknown;
	rebuilt: unknown;
}

/**
 * How an order differs from the fold of its stream, field by field (`stream.seq` when its events are not numbered
 * 1..n); null for an order stored before streams that has not been written since (no stream to rebuild from).
 */
export function streamDifferences(doc: OrderDoc): StreamDifference[] | null {
	if (!doc.stream || doc.stream.length === 0) return null;
	const out: StreamDifference[] = [];
	const gap = doc.stream.findIndex((e, k) => e.seq !== k + 1);
	if (gap >= 0) out.push({ order_id: doc.id, field: "stream.seq", stored: doc.stream[gap].seq, rebuilt: gap + 1 });
	let rebuilt: OrderProjection;
	try {
		rebuilt = rebuild(doc.stream);
	} catch (err) {
		return [...out, { order_id: doc.id, field: "stream", stored: doc.stream.length, rebuilt: (err as Error).message }];
	}
	const stored = projectionOf(doc);
	for (const field of differingFields(stored, rebuilt)) out.push({ order_id: doc.id, field, stored: stored[field] ?? null, rebuilt: rebuilt[field] ?? null });
	return out;
}

/** The actor of the saga's own steps, and of shipping's reports. */
export const SAGA_ACTOR = "system:orders";
export const SHIPPING_ACTOR = "system:shipping";

/** Who made a change: `user:<id>`, `admin:<id>` for an admin, or `fallback` when no user is known. */
export function actorOf(user: { id: string; role?: string } | null | undefined, fallback: string): string {
	if (!user) return fallback;
	return user.role === "admin" ? `admin:${user.id}` : `user:${user.id}`;
}
