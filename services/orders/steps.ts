/**
 * The checkout saga, one step per entry with its compensation beside it: voucher (redeem → release; only in
 * orders with a voucher), payment (charge → refund), inventory (reserve → release), shipping (create → cancel; one
 * shipment per shop of the order's lines, created and cancelled together).
 * Pure: the calls go through the `call` function the saga mixin gives it.
 */
import type { FailureKind, SagaDefinition, SagaStep, StepContext } from "../../mixins/saga/engine";
import type { OrderSagaData } from "./model";
import { shippingLines } from "./shops";
import type { FailureReason, OrderStatus } from "./state-machine";

/** What a failed step means: the order's failure reason and the HTTP status a checkout answers with. */
export interface FailureMeaning {
	reason: FailureReason;
	http: number;
}

/**
 * What a step means for the order: its status once done, its failure by kind of failure (business: a final
 * answer such as a decline; technical: the dependency stayed down after retries), and the order fields its
 * result fills (a field of the same name in the result, or in a refusal's error data).
 */
export interface StepMeaning {
	success: OrderStatus;
	failure: Record<FailureKind, FailureMeaning>;
	records?: ReadonlyArray<"payment_id" | "shipment_id">;
}

/** A step of the order saga: the generic step and, beside its action and compensation, what it means. */
export interface OrderStep extends SagaStep<OrderSagaData> {
	meaning: StepMeaning;
}

export interface OrderSagaDefinition extends SagaDefinition<OrderSagaData> {
	steps: OrderStep[];
}

/** The HTTP status of a checkout whose saga the customer cancelled (nothing failed, the order did not go through). */
export const CANCELLED_HTTP_STATUS = 409;

/** The failure of a step this definition does not declare (a saga stored by another version of it). */
export const UNDECLARED_FAILURE: FailureMeaning = { reason: "PAYMENT_ERROR", http: 409 };

/** Calls a Moleculer action (ctx.call or broker.call, chosen by the saga mixin). */
export type ActionCaller = (action: string, params: Record<string, unknown>) => Promise<unknown>;

interface PaymentRow {
	id: string;
	status: string;
}

/** Refunds whatever the order was charged: the step's payment, or every captured payment on record for it. */
async function refundOrder(call: ActionCaller, c: StepContext<OrderSagaData>): Promise<void> {
	const reason = `order ${c.data.order_id} compensated`;
	const known = (c.results.payment as { payment_id?: string } | undefined)?.payment_id;
	if (known) {
		await call("payments.refund", { payment_id: known, reason, idempotency_key: c.idempotencyKey });
		return;
	}
	// The charge failed or its answer was lost: it may still have gone through, so ask payments what exists.
	const { rows } = (await call("payments.listByOrder", { order_id: c.data.order_id })) as { rows: PaymentRow[] };
	for (const row of rows) {
		if (["REFUNDED", "DECLINED", "FAILED"].includes(row.status)) continue;
		await call("payments.refund", { payment_id: row.id, reason, idempotency_key: `${c.idempotencyKey}:${row.id}` });
	}
}

export const ORDER_SAGA = "order-checkout";

/**
 * The order saga's steps, calling other services through `call`. Inventory fails OUT_OF_STOCK only when stock
 * was short (409), INVENTORY_UNAVAILABLE when it could not answer (503); a payment gateway that stayed down is
 * still a PAYMENT_ERROR, but answered 503 rather than a decline's 402.
 */
export function orderSaga(call: ActionCaller, data?: OrderSagaData): OrderSagaDefinition {
	const steps: OrderStep[] = [
		{
			// Before anything is charged: a voucher used up meanwhile fails the order (409) with nothing to give back.
			name: "voucher",
			meaning: {
				success: "PENDING",
				failure: { business: { reason: "VOUCHER_UNAVAILABLE", http: 409 }, technical: { reason: "VOUCHER_UNAVAILABLE", http: 503 } },
			},
			action: c =>
				c.data.voucher
					? call("vouchers.redeem", { code: c.data.voucher.code, order_id: c.data.order_id, user_id: c.data.user_id, discount_cents: c.data.voucher.discount_cents })
					: Promise.resolve(null),
			// Idempotent, and it leaves a tombstone: a redeem of this order that arrives later uses nothing.
			compensation: c => (c.data.voucher ? call("vouchers.release", { code: c.data.voucher.code, order_id: c.data.order_id }) : Promise.resolve(null)),
		},
		{
			name: "payment",
			meaning: {
				success: "PAID",
				failure: { business: { reason: "PAYMENT_ERROR", http: 402 }, technical: { reason: "PAYMENT_ERROR", http: 503 } },
				records: ["payment_id"],
			},
			action: c =>
				call("payments.charge", {
					order_id: c.data.order_id,
					user_id: c.data.user_id,
					amount_cents: c.data.total_cents,
					currency: c.data.currency,
					token: c.data.payment_token,
					idempotency_key: c.idempotencyKey,
				}),
			compensation: c => refundOrder(call, c),
		},
		{
			name: "inventory",
			meaning: {
				success: "STOCK_RESERVED",
				failure: { business: { reason: "OUT_OF_STOCK", http: 409 }, technical: { reason: "INVENTORY_UNAVAILABLE", http: 503 } },
			},
			action: c =>
				call("inventory.reserve", {
					order_id: c.data.order_id,
					user_id: c.data.user_id,
					items: c.data.items.map(i => ({ product_id: i.product_id, quantity: i.quantity })),
				}),
			compensation: c => call("inventory.release", { order_id: c.data.order_id, reason: "order compensated" }),
		},
		{
			name: "shipping",
			meaning: {
				success: "SHIPPED",
				failure: { business: { reason: "SHIPPING_ERROR", http: 409 }, technical: { reason: "SHIPPING_ERROR", http: 503 } },
				records: ["shipment_id"],
			},
			action: c =>
				call("shipping.create", {
					order_id: c.data.order_id,
					user_id: c.data.user_id,
					address: c.data.shipping_address,
					currency: c.data.currency,
					// One parcel per shop, each line with its amount (what the shop's ledger counts once it is delivered).
					items: shippingLines(c.data),
					idempotency_key: c.idempotencyKey,
				}),
			compensation: c => call("shipping.cancel", { order_id: c.data.order_id }),
		},
	];
	// A new order without a voucher has no voucher step; a resumed saga finds its steps by name in the full list.
	return { name: ORDER_SAGA, steps: data && !data.voucher ? steps.filter(s => s.name !== "voucher") : steps };
}

/** The order saga's steps as declared, for reading their meaning (their calls are never made). */
export const ORDER_STEPS: readonly OrderStep[] = orderSaga(() => Promise.reject(new Error("ORDER_STEPS is a declaration: its calls are never made"))).steps;
