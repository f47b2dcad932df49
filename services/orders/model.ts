/**
 * The order as stored (integer cents, saga log inside) and as the API shows it (decimal money). Pure code.
 */
import { fromCents, sumCents } from "../common/money";
import { initialState, type FailureReason, type HistoryEntry, type OrderStatus } from "./state-machine";
import type { SagaState, SagaStatus, StepError, StepStatus } from "../../mixins/saga/engine";

export interface OrderItemDoc {
	product_id: string;
	name: string;
	price_cents: number;
	quantity: number;
}

export interface OrderSagaData {
	order_id: string;
	user_id: string;
	items: OrderItemDoc[];
	total_cents: number;
	currency: string;
	shipping_address: unknown;
	payment_token: string;
	payment_method_id: string | null;
}

export interface OrderDoc {
	id: string;
	user_id: string;
	status: OrderStatus;
	failure_reason: FailureReason | null;
	items: OrderItemDoc[];
	total_cents: number;
	currency: string;
	payment_id: string | null;
	shipment_id: string | null;
	shipping_address: unknown;
	history: HistoryEntry[];
	/** Unique; the order id when the caller gave none. */
	idempotency_key: string;
	cancel_requested: boolean;
	saga: SagaState<OrderSagaData>;
	/** Optimistic-concurrency revision: every write is conditional on it. */
	rev: number;
	/** order.* events written with the change they report, until the events layer has them (EventsMixin stageEvent). */
	pending_events?: unknown[];
	created_at: string;
	updated_at: string;
}

export interface PublicOrder {
	id: string;
	user_id: string;
	status: OrderStatus;
	failure_reason: FailureReason | null;
	items: Array<{ product_id: string; name: string; price: number; quantity: number }>;
	total: number;
	currency: string;
	payment_id: string | null;
	shipment_id: string | null;
	shipping_address: unknown;
	history: HistoryEntry[];
	created_at: string;
	updated_at: string;
}

export interface SagaSummary {
	id: string;
	status: SagaStatus;
	failed_step: string | null;
	steps: Array<{ name: string; status: StepStatus; duration: number; error?: Omit<StepError, "data" | "reached"> }>;
}

/**
 * How an order that did not go through ends, or is ending (also while COMPENSATING, before the order has its
 * failure_reason): the reason its failing step declares (null for a cancel) and the HTTP status a checkout
 * answers with. Internal to orders.create's answer; the REST order shape does not carry it.
 */
export interface SagaOutcome {
	failure_reason: FailureReason | null;
	http_status: number;
}

export interface OrderResult {
	order: PublicOrder;
	saga: SagaSummary;
	/** Null while the saga goes forward or once it completed. */
	outcome: SagaOutcome | null;
}

/** The order in the API's shape. */
export function toPublicOrder(doc: OrderDoc): PublicOrder {
	return {
		id: doc.id,
		user_id: doc.user_id,
		status: doc.status,
		failure_reason: doc.failure_reason,
		items: doc.items.map(i => ({ product_id: i.product_id, name: i.name, price: fromCents(i.price_cents), quantity: i.quantity })),
		total: fromCents(doc.total_cents),
		currency: doc.currency,
		payment_id: doc.payment_id,
		shipment_id: doc.shipment_id,
		shipping_address: doc.shipping_address,
		history: doc.history,
		created_at: doc.created_at,
		updated_at: doc.updated_at,
	};
}

/** The saga as checkout and clients see it: each step's status, duration and error. */
export function toSagaSummary(saga: SagaState<OrderSagaData>): SagaSummary {
	return {
		id: saga.id,
		status: saga.status,
		failed_step: saga.failed_step,
		steps: saga.steps.map(s => {
			const step: SagaSummary["steps"][number] = { name: s.name, status: s.status, duration: s.duration };
			if (s.error) step.error = { code: s.error.code, type: s.error.type, message: s.error.message, retryable: s.error.retryable, kind: s.error.kind };
			return step;
		}),
	};
}

/** The full saga log for admins, with the payment token masked. */
export function toSagaLog(doc: OrderDoc): Record<string, unknown> {
	const { payment_token, ...data } = doc.saga.data;
	return {
		...doc.saga,
		order_id: doc.id,
		order_status: doc.status,
		data: { ...data, payment_token: payment_token ? `${payment_token.slice(0, 4)}…` : null },
	};
}

/** The id of a new order; its saga id shares the suffix. */
export function newOrderIds(random: string): { orderId: string; sagaId: string } {
	const suffix = random.replace(/-/g, "").slice(0, 20);
	return { orderId: `ord_${suffix}`, sagaId: `saga_${suffix}` };
}

/** The order id a saga id belongs to (or the id itself when it already is an order id). */
export function orderIdOf(id: string): string {
	return id.startsWith("saga_") ? `ord_${id.slice(5)}` : id;
}

/** What a create request becomes: the saga's input, from which the stored order is built. */
export function sagaDataFor(
	orderId: string,
	p: { user_id: string; items: OrderItemDoc[]; currency: string; shipping_address: unknown; payment: { token: string; method_id?: string | null } },
): OrderSagaData {
	const items = p.items.map(i => ({ product_id: i.product_id, name: i.name, price_cents: i.price_cents, quantity: i.quantity }));
	return {
		order_id: orderId,
		user_id: p.user_id,
		items,
		total_cents: sumCents(items.map(i => i.price_cents * i.quantity)),
		currency: p.currency,
		shipping_address: p.shipping_address,
		payment_token: p.payment.token,
		payment_method_id: p.payment.method_id ?? null,
	};
}

/** A new PENDING order holding its prepared saga and the events its insert must publish. */
export function newOrderDoc(saga: SagaState<OrderSagaData>, idempotencyKey: string | undefined, pendingEvents: unknown[], now: string): OrderDoc {
	const d = saga.data;
	return {
		id: d.order_id,
		user_id: d.user_id,
		...initialState(now),
		items: d.items,
		total_cents: d.total_cents,
		currency: d.currency,
		payment_id: null,
		shipment_id: null,
		shipping_address: d.shipping_address,
		idempotency_key: idempotencyKey ?? d.order_id,
		cancel_requested: false,
		saga,
		rev: 0,
		pending_events: pendingEvents,
		created_at: now,
		updated_at: now,
	};
}
