/**
 * The checkout saga, one step per entry with its compensation beside it:
 * payment (charge → refund), inventory (reserve → release), shipping (create → cancel).
 * Pure: the calls go through the `call` function the saga mixin gives it.
 */
import type { FailureKind, SagaDefinition, StepContext } from "../../mixins/saga/engine";
import type { OrderSagaData } from "./model";
import type { FailureReason, OrderStatus } from "./state-machine";

/** What a step means for the order: its status once done, and its failure reason by kind of failure. */
export interface StepMeaning {
	success: OrderStatus;
	failure: Record<FailureKind, FailureReason>;
}

/**
 * The meaning of each step of the order saga, declared beside the steps: inventory fails
 * OUT_OF_STOCK only when stock was short, INVENTORY_UNAVAILABLE when it could not answer.
 */
export const STEP_MEANING: Readonly<Record<string, StepMeaning>> = {
	payment: { success: "PAID", failure: { business: "PAYMENT_ERROR", technical: "PAYMENT_ERROR" } },
	inventory: { success: "STOCK_RESERVED", failure: { business: "OUT_OF_STOCK", technical: "INVENTORY_UNAVAILABLE" } },
	shipping: { success: "SHIPPED", failure: { business: "SHIPPING_ERROR", technical: "SHIPPING_ERROR" } },
};

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

/** The order saga's steps, calling other services through `call`. */
export function orderSaga(call: ActionCaller): SagaDefinition<OrderSagaData> {
	return {
		name: ORDER_SAGA,
		steps: [
			{
				name: "payment",
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
				action: c =>
					call("shipping.create", {
						order_id: c.data.order_id,
						user_id: c.data.user_id,
						address: c.data.shipping_address,
						items: c.data.items.map(i => ({ product_id: i.product_id, name: i.name, quantity: i.quantity })),
						idempotency_key: c.idempotencyKey,
					}),
				compensation: c => call("shipping.cancel", { order_id: c.data.order_id }),
			},
		],
	};
}
