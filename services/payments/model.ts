/**
 * The payment document, its public view, and the decisions about a charge that is already on record. Pure code.
 */
import { fromCents } from "../common/money";

/** PENDING and REFUNDING are short-lived claims while the gateway is being called. */
export type PaymentStatus = "PENDING" | "CAPTURED" | "DECLINED" | "FAILED" | "REFUNDING" | "REFUNDED";

export interface HistoryEntry {
	status: PaymentStatus;
	at: string;
	reason: string | null;
}

export interface RefundInfo {
	refund_id: string;
	idempotency_key: string;
	amount_cents: number;
	reason: string;
	at: string;
}

export interface PaymentDoc {
	id: string;
	idempotency_key: string;
	order_id: string;
	user_id: string;
	amount_cents: number;
	currency: string;
	status: PaymentStatus;
	gateway_charge_id: string | null;
	failure_reason: string | null;
	refund: RefundInfo | null;
	/** When the current claim (PENDING or REFUNDING) was taken, ms since the epoch. */
	claimed_at: number;
	attempts: number;
	history: HistoryEntry[];
	created_at: string;
	updated_at: string;
}

export interface ChargeInput {
	order_id: string;
	user_id: string;
	amount_cents: number;
	currency: string;
	idempotency_key: string;
}

export interface ChargeResult {
	payment_id: string;
	order_id: string;
	status: PaymentStatus;
	amount_cents: number;
	currency: string;
}

export interface RefundResult {
	refund_id: string | null;
	payment_id: string;
	status: "REFUNDED" | "NOT_CAPTURED";
	amount_cents: number;
}

export interface PaymentView {
	id: string;
	order_id: string;
	user_id: string;
	status: PaymentStatus;
	amount: number;
	amount_cents: number;
	currency: string;
	refunded_amount: number;
	refunded_cents: number;
	failure_reason: string | null;
	history: HistoryEntry[];
	created_at: string;
	updated_at: string;
}

/** A fresh payment, claimed (PENDING) by the caller that inserts it. */
export function newPayment(id: string, input: ChargeInput, now: Date): Omit<PaymentDoc, "id"> & { id: string } {
	const at = now.toISOString();
	return {
		id,
		idempotency_key: input.idempotency_key,
		order_id: input.order_id,
		user_id: input.user_id,
		amount_cents: input.amount_cents,
		currency: input.currency,
		status: "PENDING",
		gateway_charge_id: null,
		failure_reason: null,
		refund: null,
		claimed_at: now.getTime(),
		attempts: 1,
		history: [{ status: "PENDING", at, reason: null }],
		created_at: at,
		updated_at: at,
	};
}

/** Whether a stored payment was made for the same charge (same key reused for another order or amount is refused). */
export function sameCharge(doc: PaymentDoc, input: ChargeInput): string | null {
	if (doc.order_id !== input.order_id) return "order_id";
	if (doc.amount_cents !== input.amount_cents) return "amount_cents";
	if (doc.currency !== input.currency) return "currency";
	return null;
}

export type ExistingChargeDecision = "settled" | "declined" | "retry" | "wait";

/**
 * What a second charge with the same key does: answer the stored outcome, retry a technical failure or a
 * claim whose holder died, or wait for the claim holder to finish.
 */
export function decideExistingCharge(doc: PaymentDoc, nowMs: number, staleMs: number): ExistingChargeDecision {
	switch (doc.status) {
		case "CAPTURED":
		case "REFUNDING":
		case "REFUNDED":
			return "settled";
		case "DECLINED":
			return "declined";
		case "FAILED":
			return "retry";
		case "PENDING":
			return nowMs - doc.claimed_at > staleMs ? "retry" : "wait";
	}
}

/** Whether the customer's money is held by this payment. */
export function isCharged(status: PaymentStatus): boolean {
	return status === "CAPTURED" || status === "REFUNDING";
}

/** Captured minus refunded over an order's payments, in cents. */
export function netChargedCents(rows: Array<Pick<PaymentDoc, "status" | "amount_cents">>): number {
	return rows.reduce((sum, p) => sum + (isCharged(p.status) ? p.amount_cents : 0), 0);
}

export function toChargeResult(doc: PaymentDoc): ChargeResult {
	return { payment_id: doc.id, order_id: doc.order_id, status: doc.status, amount_cents: doc.amount_cents, currency: doc.currency };
}

export function toRefundResult(doc: PaymentDoc): RefundResult {
	if (doc.status === "REFUNDED" && doc.refund)
		return { refund_id: doc.refund.refund_id, payment_id: doc.id, status: "REFUNDED", amount_cents: doc.refund.amount_cents };
	return { refund_id: null, payment_id: doc.id, status: "NOT_CAPTURED", amount_cents: 0 };
}

/** The payment as clients see it: decimal money, no claim bookkeeping. */
export function toPaymentView(doc: PaymentDoc): PaymentView {
	const refunded = doc.refund?.amount_cents ?? 0;
	return {
		id: doc.id,
		order_id: doc.order_id,
		user_id: doc.user_id,
		status: doc.status,
		amount: fromCents(doc.amount_cents),
		amount_cents: doc.amount_cents,
		currency: doc.currency,
		refunded_amount: fromCents(refunded),
		refunded_cents: refunded,
		failure_reason: doc.failure_reason,
		history: doc.history,
		created_at: doc.created_at,
		updated_at: doc.updated_at,
	};
}
