/**
 * The order as stored (integer cents, saga log inside) and as the API shows it (decimal money). Pure code.
 */
import { computeBill, NO_FEES, toPublicBill, type Bill, type PublicBill } from "../common/bill";
import { HOUSE_SHOP_ID } from "../shops/client";
import { billOf, publicLines, shopIdsOf, type ShipmentRef } from "./shops";
import { initialState, type FailureReason, type HistoryEntry, type OrderStatus } from "./state-machine";
import type { SagaState, SagaStatus, StepError, StepStatus } from "../../mixins/saga/engine";
import type { StreamEvent } from "./stream";

export interface OrderItemDoc {
	product_id: string;
	name: string;
	price_cents: number;
	quantity: number;
	/** The shop that sells, ships and is paid for the line (absent in orders placed before shops: the house shop). */
	shop_id?: string | null;
	/** The line's share of the order's discount (absent: split in proportion, services/orders/shops.ts). */
	discount_cents?: number;
}

/** The voucher an order redeems, and the discount it gave. */
export interface OrderVoucher {
	code: string;
	discount_cents: number;
}

export interface OrderSagaData {
	order_id: string;
	user_id: string;
	items: OrderItemDoc[];
	/** The bill's total: what the payment step charges. */
	total_cents: number;
	bill: Bill;
	voucher: OrderVoucher | null;
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
	/** Absent in orders placed before bills (their total is their subtotal). */
	bill?: Bill;
	currency: string;
	payment_id: string | null;
	shipment_id: string | null;
	/** One shipment per shop, as shipping reports them (absent before the shipping step). */
	shipments?: ShipmentRef[];
	/** The shops of its lines, for the shops' order lists. */
	shop_ids?: string[];
	/** When an admin refunded the delivered order (its payment given back in full). */
	refunded_at?: string | null;
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
	/** The order's own event stream: every change, appended in the write that makes it (services/orders/stream.ts). Absent in orders stored before it, until their next write. */
	stream?: StreamEvent[];
	created_at: string;
	updated_at: string;
}

/** An order shows its whole bill (subtotal, discount, shipping_fee, tax, total, voucher) beside its lines. */
export interface PublicOrder extends PublicBill {
	id: string;
	user_id: string;
	status: OrderStatus;
	failure_reason: FailureReason | null;
	/** `amount`: the line's total after its share of the discount (what its shop's ledger counts). */
	items: Array<{ product_id: string; name: string; price: number; quantity: number; shop_id: string; amount: number }>;
	currency: string;
	payment_id: string | null;
	shipment_id: string | null;
	shipments: ShipmentRef[];
	refunded_at: string | null;
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
		items: publicLines(doc),
		...toPublicBill(billOf(doc)),
		currency: doc.currency,
		payment_id: doc.payment_id,
		shipment_id: doc.shipment_id,
		shipments: doc.shipments ?? [],
		refunded_at: doc.refunded_at ?? null,
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

/** Why a bill sent with an order does not fit its lines (the field at fault), or null. */
export function billProblem(items: OrderItemDoc[], bill: Bill): { field: string; message: string } | null {
	const subtotal = items.reduce((s, i) => s + i.price_cents * i.quantity, 0);
	if (bill.subtotal_cents !== subtotal) return { field: "bill.subtotal_cents", message: `must be the sum of the lines (${subtotal})` };
	if (bill.discount_cents > subtotal) return { field: "bill.discount_cents", message: "must not be more than the subtotal" };
	if (bill.total_cents !== subtotal - bill.discount_cents + bill.shipping_fee_cents + bill.tax_cents)
		return { field: "bill.total_cents", message: "must be subtotal - discount + shipping_fee + tax" };
	if (!bill.voucher && bill.discount_cents > 0) return { field: "bill.discount_cents", message: "a discount needs a voucher" };
	const shares = items.filter(i => i.discount_cents !== undefined);
	if (shares.length > 0) {
		if (shares.length !== items.length) return { field: "items.discount_cents", message: "must be given for every line or none" };
		const bad = items.findIndex(i => (i.discount_cents ?? 0) > i.price_cents * i.quantity);
		if (bad >= 0) return { field: `items[${bad}].discount_cents`, message: "must not be more than the line's total" };
		if (shares.reduce((s, i) => s + (i.discount_cents ?? 0), 0) !== bill.discount_cents)
			return { field: "items.discount_cents", message: `must sum to bill.discount_cents (${bill.discount_cents})` };
	}
	return null;
}

/** What a create request becomes: the saga's input, from which the stored order is built. */
export function sagaDataFor(
	orderId: string,
	p: {
		user_id: string;
		items: Array<Omit<OrderItemDoc, "shop_id"> & { shop_id?: string | null }>;
		currency: string;
		shipping_address: unknown;
		payment: { token: string; method_id?: string | null };
		/** The bill checkout computed (services/common/bill.ts); without one, the lines' sum with no fees. */
		bill?: Bill;
	},
): OrderSagaData {
	const items: OrderItemDoc[] = p.items.map(i => ({
		product_id: i.product_id,
		name: i.name,
		price_cents: i.price_cents,
		quantity: i.quantity,
		shop_id: i.shop_id ?? HOUSE_SHOP_ID,
		...(i.discount_cents !== undefined ? { discount_cents: i.discount_cents } : {}),
	}));
	const bill: Bill = p.bill ?? computeBill({ lines: items, settings: NO_FEES });
	const voucher = bill.voucher ? { code: bill.voucher.code, discount_cents: bill.voucher.discount_cents } : null;
	return {
		order_id: orderId,
		user_id: p.user_id,
		items,
		total_cents: bill.total_cents,
		bill,
		voucher,
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
		bill: d.bill,
		currency: d.currency,
		payment_id: null,
		shipment_id: null,
		shipments: [],
		shop_ids: shopIdsOf(d.items),
		refunded_at: null,
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
