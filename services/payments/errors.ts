/**
 * Errors of the payments service: a decline is a business answer (402, never retried); an unreachable gateway
 * or an open breaker is a transient technical failure (503, retryable).
 */
import { Errors } from "moleculer";

/** 402: the gateway declined the card. */
export class PaymentDeclinedError extends Errors.MoleculerClientError {
	constructor(orderId: string, paymentId: string, reason: string) {
		super(`Payment declined for order '${orderId}': ${reason}`, 402, "PAYMENT_DECLINED", { order_id: orderId, payment_id: paymentId, reason });
	}
}

/** 503: the gateway is down, timed out, or its circuit breaker is open; the caller may retry later. */
export class PaymentGatewayUnavailableError extends Errors.MoleculerRetryableError {
	constructor(message: string, data: Record<string, unknown> = {}) {
		super(message, 503, "PAYMENT_GATEWAY_UNAVAILABLE", data);
	}
}
