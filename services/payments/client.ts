/**
 * What other services may know of payments: the largest amount one charge accepts, and the check that refuses
 * a bill beyond it (422 ORDER_TOTAL_TOO_HIGH) before anything runs, so such an order never reaches the gateway
 * as a card decline. Pure code apart from the error class.
 */
import { Errors } from "moleculer";
import { fromCents } from "../common/money";

/** The largest amount `payments.charge` accepts, in cents (10,000,000.00 in the currency's units). */
export const MAX_CHARGE_CENTS = 1_000_000_000;

/** 422: a cart or order whose total is more than one payment can charge; nothing was stored or charged. */
export class OrderTotalTooHighError extends Errors.MoleculerClientError {
	constructor(field: string, totalCents: number, currency: string) {
		const limit = fromCents(MAX_CHARGE_CENTS);
		// A total beyond safe integers is not a number of cents any more: it is shown as "more than" the largest one.
		const total = Number.isSafeInteger(totalCents) ? fromCents(totalCents) : null;
		super(
			`${field}: the total ${total === null ? "is too large" : `${total} ${currency}`} exceeds the ${limit} ${currency} one payment can charge`,
			422,
			"ORDER_TOTAL_TOO_HIGH",
			{ field, total, limit, currency },
		);
	}
}

/** The sum of price times quantity over lines, or Infinity when any step leaves the safe integers. */
export function billTotalCents(lines: Array<{ price_cents: number; quantity: number }>): number {
	let total = 0;
	for (const line of lines) {
		const amount = line.price_cents * line.quantity;
		total += amount;
		if (!Number.isSafeInteger(amount) || !Number.isSafeInteger(total)) return Number.POSITIVE_INFINITY;
	}
	return total;
}

/** Whether one payment can charge this many cents: a safe integer no larger than the limit. */
export function isChargeable(totalCents: number): boolean {
	return Number.isSafeInteger(totalCents) && totalCents <= MAX_CHARGE_CENTS;
}

/** Throws 422 ORDER_TOTAL_TOO_HIGH naming `field` when the total is more than one payment can charge. */
export function assertChargeable(field: string, totalCents: number, currency: string): void {
	if (!isChargeable(totalCents)) throw new OrderTotalTooHighError(field, totalCents, currency);
}
