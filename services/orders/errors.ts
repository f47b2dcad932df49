/**
 * Errors of the orders service: MoleculerClientError subclasses with an HTTP code and a SCREAMING_SNAKE type.
 */
import { Errors } from "moleculer";
import type { OrderStatus } from "./state-machine";

/** 409: the order has shipped (or ended) and can no longer be cancelled. */
export class OrderNotCancellableError extends Errors.MoleculerClientError {
	constructor(orderId: string, status: OrderStatus) {
		super(`order '${orderId}' is ${status} and can no longer be cancelled`, 409, "ORDER_NOT_CANCELLABLE", { order_id: orderId, status });
	}
}

/** 409: only an order that shipped (or was delivered) and was paid is refunded by an admin; others are cancelled. */
export class OrderNotRefundableError extends Errors.MoleculerClientError {
	constructor(orderId: string, status: OrderStatus) {
		super(`order '${orderId}' is ${status}: only a paid order that shipped is refunded (cancel it before it ships)`, 409, "ORDER_NOT_REFUNDABLE", { order_id: orderId, status });
	}
}
