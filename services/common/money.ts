/**
 * Money arithmetic in integer cents. The API speaks decimal units (999.99 USD); services keep cents. Pure code.
 */
export const DEFAULT_CURRENCY = "USD";

/** Decimal units to integer cents, rounding half away from zero (999.99 -> 99999). */
export function toCents(amount: number): number {
	if (!Number.isFinite(amount)) throw new RangeError(`not a finite amount: ${amount}`);
	return Math.sign(amount) * Math.round(Math.abs(amount) * 100 + Number.EPSILON * 100);
}

/** Integer cents to decimal units (99999 -> 999.99). */
export function fromCents(cents: number): number {
	if (!Number.isInteger(cents)) throw new RangeError(`cents must be an integer: ${cents}`);
	return cents / 100;
}

/** Whether a decimal amount has at most two decimals (so it converts to cents exactly). */
export function hasAtMostTwoDecimals(amount: number): boolean {
	return Number.isFinite(amount) && Math.abs(toCents(amount) - amount * 100) < 1e-6;
}

/** The sum of price times quantity over lines, in cents. */
export function lineTotal(priceCents: number, quantity: number): number {
	return priceCents * quantity;
}

/** The sum of several amounts in cents. */
export function sumCents(amounts: number[]): number {
	return amounts.reduce((a, b) => a + b, 0);
}
