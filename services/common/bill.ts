/**
 * The bill of a cart or an order, in integer cents: subtotal, discount, shipping fee, tax and total, shared by the
 * cart, checkout and orders. One rounding rule: every amount that is a share of another (a line's discount, a
 * line's tax, the shipping's tax) is rounded half-up on its own, then the totals are exact sums of those.
 * - discount: a percent voucher takes its percent of every eligible line; a fixed voucher takes its value (at most
 *   the eligible lines' sum), split over the eligible lines in proportion (largest remainder, so it sums exactly);
 * - shipping: the flat fee, free when the discounted subtotal reaches `free_over`, free with a free_shipping voucher;
 * - tax: the rate of the shipping country (the default rate otherwise) on each line's discounted amount and on
 *   the shipping fee.
 * Pure code: the settings and the voucher come in as plain values.
 */
import { fromCents, toCents } from "./money";

/** A bill line: its price, quantity, and whether the voucher applies to it (its scope). */
export interface BillLine {
	price_cents: number;
	quantity: number;
	/** Whether the voucher's scope covers this line (default true). */
	eligible?: boolean;
}

export type VoucherType = "percent" | "fixed" | "free_shipping";

/** The voucher as the bill needs it: percent values are percents (12.5), fixed values are cents. */
export interface BillVoucher {
	code: string;
	type: VoucherType;
	value: number;
}

/** Shipping and tax as the settings service gives them: amounts in decimal units, rates in percent. */
export interface BillSettings {
	shipping: { flat_fee: number; free_over: number | null };
	tax: { default_rate: number; rates: Record<string, number> };
}

export interface BillInput {
	lines: BillLine[];
	voucher?: BillVoucher | null;
	settings: BillSettings;
	/** The shipping address's country (any case); null or unknown gives the default rate. */
	country?: string | null;
}

/** The bill in cents. */
export interface Bill {
	subtotal_cents: number;
	discount_cents: number;
	shipping_fee_cents: number;
	tax_cents: number;
	total_cents: number;
	/** The tax rate applied, in percent. */
	tax_rate: number;
	voucher: { code: string; discount_cents: number; free_shipping: boolean } | null;
}

/** The bill as the API shows it (decimal units). */
export interface PublicBill {
	subtotal: number;
	discount: number;
	shipping_fee: number;
	tax: number;
	total: number;
	tax_rate: number;
	voucher?: { code: string; discount: number; free_shipping?: true };
}

/** No shipping fee and no tax: what a shop without those settings charges. */
export const NO_FEES: BillSettings = { shipping: { flat_fee: 0, free_over: null }, tax: { default_rate: 0, rates: {} } };

/** A percent with at most two decimals as hundredths of a percent (8.25 → 825), so shares are integer arithmetic. */
export function basisPoints(percent: number): number {
	if (!Number.isFinite(percent) || percent < 0) throw new RangeError(`not a rate: ${percent}`);
	return Math.round(percent * 100);
}

/** `amount * bp / 10000`, rounded half-up (amount and bp non-negative integers). */
export function shareHalfUp(amount: number, bp: number): number {
	return Math.floor((2 * amount * bp + 10_000) / 20_000);
}

/** The country's tax rate in percent: a rate keyed by its code or name (any case), or the default. */
export function taxRateFor(country: string | null | undefined, tax: BillSettings["tax"]): number {
	const key = country?.trim().toUpperCase();
	if (key) for (const [name, rate] of Object.entries(tax.rates)) if (name.trim().toUpperCase() === key) return rate;
	return tax.default_rate;
}

/**
 * Splits `amount` over `weights` in proportion, each share floored, the remainder to the largest fractions (ties to
 * the larger weight, so that the order of equal lines does not matter).
 */
export function splitProportionally(amount: number, weights: number[]): number[] {
	const total = weights.reduce((a, b) => a + b, 0);
	if (total === 0) return weights.map(() => 0);
	const exact = weights.map(w => (amount * w) / total);
	const shares = exact.map(Math.floor);
	let left = amount - shares.reduce((a, b) => a + b, 0);
	const order = exact.map((e, i) => ({ i, frac: e - Math.floor(e) })).sort((a, b) => b.frac - a.frac || weights[b.i] - weights[a.i] || a.i - b.i);
	for (const { i } of order) {
		if (left <= 0) break;
		shares[i] += 1;
		left -= 1;
	}
	return shares;
}

/** Each line's discount in cents under the voucher. */
function lineDiscounts(lines: BillLine[], totals: number[], voucher: BillVoucher | null | undefined): number[] {
	if (!voucher || voucher.type === "free_shipping") return lines.map(() => 0);
	const eligible = totals.map((t, i) => (lines[i].eligible === false ? 0 : t));
	if (voucher.type === "percent") {
		const bp = Math.min(10_000, basisPoints(voucher.value));
		return eligible.map(t => shareHalfUp(t, bp));
	}
	const base = eligible.reduce((a, b) => a + b, 0);
	return splitProportionally(Math.min(Math.max(0, Math.round(voucher.value)), base), eligible);
}

/** The bill of lines under a voucher, shipping and tax settings and a destination country. */
export function computeBill(input: BillInput): Bill {
	const { lines, voucher, settings } = input;
	const totals = lines.map(l => l.price_cents * l.quantity);
	const discounts = lineDiscounts(lines, totals, voucher);
	const subtotal = totals.reduce((a, b) => a + b, 0);
	const discount = discounts.reduce((a, b) => a + b, 0);
	const goods = subtotal - discount;
	const flat_fee_cents = toCents(settings.shipping.flat_fee);
	const free_over_cents = settings.shipping.free_over === null ? null : toCents(settings.shipping.free_over);
	const freeShipping = voucher?.type === "free_shipping";
	const shipping = lines.length === 0 || freeShipping || (free_over_cents !== null && goods >= free_over_cents) ? 0 : flat_fee_cents;
	const rate = taxRateFor(input.country, settings.tax);
	const bp = basisPoints(rate);
	const tax = totals.reduce((sum, t, i) => sum + shareHalfUp(t - discounts[i], bp), 0) + shareHalfUp(shipping, bp);
	// A free_shipping voucher's discount is the fee it waived (shown, not subtracted twice: shipping is already 0).
	const voucherDiscount = freeShipping && lines.length > 0 && !(free_over_cents !== null && goods >= free_over_cents) ? flat_fee_cents : discount;
	return {
		subtotal_cents: subtotal,
		discount_cents: discount,
		shipping_fee_cents: shipping,
		tax_cents: tax,
		total_cents: goods + shipping + tax,
		tax_rate: rate,
		voucher: voucher ? { code: voucher.code, discount_cents: voucherDiscount, free_shipping: freeShipping } : null,
	};
}

/** The bill in decimal units, as carts, orders and checkout answers show it. */
export function toPublicBill(bill: Bill): PublicBill {
	const units = fromCents;
	const out: PublicBill = {
		subtotal: units(bill.subtotal_cents),
		discount: units(bill.discount_cents),
		shipping_fee: units(bill.shipping_fee_cents),
		tax: units(bill.tax_cents),
		total: units(bill.total_cents),
		tax_rate: bill.tax_rate,
	};
	if (bill.voucher) out.voucher = { code: bill.voucher.code, discount: units(bill.voucher.discount_cents), ...(bill.voucher.free_shipping ? { free_shipping: true as const } : {}) };
	return out;
}

/** Each line's discount in cents, as computeBill splits it (the lines' discounts sum to the bill's discount_cents). */
export function lineDiscountsOf(input: Pick<BillInput, "lines" | "voucher">): number[] {
	return lineDiscounts(input.lines, input.lines.map(l => l.price_cents * l.quantity), input.voucher);
}
