import fc from "fast-check";
import { computeBill, shareHalfUp, splitProportionally, taxRateFor, toPublicBill, type BillInput, type BillSettings, type BillVoucher } from "../../../../services/common/bill";
import { fromCents, toCents } from "../../../../services/common/money";

const SETTINGS: BillSettings = { shipping: { flat_fee: 4.99, free_over: 50 }, tax: { default_rate: 8.25, rates: { DE: 19, FR: 20, GB: 0 } } };

const line = fc.record({ price_cents: fc.integer({ min: 0, max: 2_000_000 }), quantity: fc.integer({ min: 1, max: 100 }), eligible: fc.boolean() });
const voucher: fc.Arbitrary<BillVoucher | null> = fc.oneof(
	fc.constant(null),
	fc.record({ code: fc.constant("P"), type: fc.constant("percent" as const), value: fc.integer({ min: 0, max: 10_000 }).map(v => v / 100) }),
	fc.record({ code: fc.constant("F"), type: fc.constant("fixed" as const), value: fc.integer({ min: 0, max: 10_000_000 }) }),
	fc.record({ code: fc.constant("S"), type: fc.constant("free_shipping" as const), value: fc.constant(0) }),
);
const settings: fc.Arbitrary<BillSettings> = fc.record({
	shipping: fc.record({ flat_fee: fc.integer({ min: 0, max: 10_000 }).map(c => c / 100), free_over: fc.option(fc.integer({ min: 0, max: 1_000_000 }).map(c => c / 100)) }),
	tax: fc.record({ default_rate: fc.integer({ min: 0, max: 3000 }).map(v => v / 100), rates: fc.dictionary(fc.constantFrom("DE", "FR", "US"), fc.integer({ min: 0, max: 3000 }).map(v => v / 100)) }),
});
const input: fc.Arbitrary<BillInput> = fc.record({
	lines: fc.array(line, { maxLength: 12 }),
	voucher,
	settings,
	country: fc.option(fc.constantFrom("DE", "de", "FR", "US", "XX")),
});

describe("computeBill", () => {
	it("never gives a negative part or total", () => {
		fc.assert(
			fc.property(input, i => {
				const b = computeBill(i);
				for (const v of [b.subtotal_cents, b.discount_cents, b.shipping_fee_cents, b.tax_cents, b.total_cents]) {
					expect(Number.isInteger(v)).toBe(true);
					expect(v).toBeGreaterThanOrEqual(0);
				}
			}),
		);
	});

	it("never discounts more than the subtotal, nor more than the eligible lines", () => {
		fc.assert(
			fc.property(input, i => {
				const b = computeBill(i);
				const eligible = i.lines.filter(l => l.eligible !== false).reduce((s, l) => s + l.price_cents * l.quantity, 0);
				expect(b.discount_cents).toBeLessThanOrEqual(b.subtotal_cents);
				expect(b.discount_cents).toBeLessThanOrEqual(eligible);
			}),
		);
	});

	it("makes the parts sum to the total, in cents and in the decimal units clients see", () => {
		fc.assert(
			fc.property(input, i => {
				const b = computeBill(i);
				expect(b.subtotal_cents - b.discount_cents + b.shipping_fee_cents + b.tax_cents).toBe(b.total_cents);
				const p = toPublicBill(b);
				expect(toCents(p.subtotal) - toCents(p.discount) + toCents(p.shipping_fee) + toCents(p.tax)).toBe(toCents(p.total));
			}),
		);
	});

	it("rounds stably: the order of the lines, a repeat, or a round trip through decimal units changes nothing", () => {
		fc.assert(
			fc.property(input, fc.integer({ min: 0, max: 1000 }), (i, seed) => {
				const b = computeBill(i);
				const shuffled = [...i.lines].sort((x, y) => ((x.price_cents * 31 + seed) % 7) - ((y.price_cents * 31 + seed) % 7));
				expect(computeBill({ ...i, lines: shuffled })).toEqual(b);
				expect(computeBill(i)).toEqual(b);
				expect(toCents(fromCents(b.total_cents))).toBe(b.total_cents);
			}),
		);
	});

	it("splits a fixed discount exactly over the eligible lines", () => {
		fc.assert(
			fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 10 }), (amount, weights) => {
				const total = weights.reduce((a, b) => a + b, 0);
				const shares = splitProportionally(Math.min(amount, total), weights);
				expect(shares.reduce((a, b) => a + b, 0)).toBe(total === 0 ? 0 : Math.min(amount, total));
				shares.forEach((s, k) => expect(s).toBeLessThanOrEqual(weights[k]));
			}),
		);
	});

	it("computes a percent voucher with a foreign tax rate by hand", () => {
		// Lines 19.99 × 3 = 59.97 and 5.01 × 1; 10% off: 5.997 → 6.00 and 0.501 → 0.50; goods 58.48 ≥ 50: free shipping.
		// Tax 19% (DE): 53.97 × 0.19 = 10.2543 → 10.25 and 4.51 × 0.19 = 0.8569 → 0.86; total 58.48 + 11.11 = 69.59.
		const b = computeBill({
			lines: [
				{ price_cents: 1999, quantity: 3 },
				{ price_cents: 501, quantity: 1 },
			],
			voucher: { code: "TEN", type: "percent", value: 10 },
			settings: SETTINGS,
			country: "de",
		});
		expect(b).toEqual({
			subtotal_cents: 6498,
			discount_cents: 650,
			shipping_fee_cents: 0,
			tax_cents: 1111,
			total_cents: 6959,
			tax_rate: 19,
			voucher: { code: "TEN", discount_cents: 650, free_shipping: false },
		});
	});

	it("charges the flat fee below the threshold and taxes it, and a free_shipping voucher waives it", () => {
		// 20.00 + 4.99 shipping; default 8.25%: 1.65 + 0.41166 → 0.41; total 26.05.
		const base = { lines: [{ price_cents: 2000, quantity: 1 }], settings: SETTINGS, country: null };
		expect(computeBill(base)).toMatchObject({ subtotal_cents: 2000, discount_cents: 0, shipping_fee_cents: 499, tax_cents: 206, total_cents: 2705 });
		const free = computeBill({ ...base, voucher: { code: "SHIP", type: "free_shipping", value: 0 } });
		expect(free).toMatchObject({ shipping_fee_cents: 0, discount_cents: 0, tax_cents: 165, total_cents: 2165, voucher: { code: "SHIP", discount_cents: 499, free_shipping: true } });
	});

	it("caps a fixed voucher at the eligible lines and charges shipping on what is left", () => {
		// 15.00 off a single eligible 10.00 line (the other 30.00 is out of scope): 10.00 off; goods 30.00 < 50: fee 4.99.
		// GB 0%: total 34.99.
		const b = computeBill({
			lines: [
				{ price_cents: 1000, quantity: 1, eligible: true },
				{ price_cents: 3000, quantity: 1, eligible: false },
			],
			voucher: { code: "FIX", type: "fixed", value: 1500 },
			settings: SETTINGS,
			country: "GB",
		});
		expect(b).toMatchObject({ subtotal_cents: 4000, discount_cents: 1000, shipping_fee_cents: 499, tax_cents: 0, total_cents: 3499 });
	});

	it("bills an empty cart nothing", () => {
		expect(computeBill({ lines: [], settings: SETTINGS })).toMatchObject({ subtotal_cents: 0, shipping_fee_cents: 0, tax_cents: 0, total_cents: 0 });
	});
});

describe("bill helpers", () => {
	it("rounds shares half-up", () => {
		expect(shareHalfUp(50, 100)).toBe(1); // 0.5 → 1
		expect(shareHalfUp(49, 100)).toBe(0);
		expect(shareHalfUp(1000, 825)).toBe(83); // 82.5 → 83
	});

	it("finds a country's rate in any case, and the default otherwise", () => {
		expect(taxRateFor(" de ", SETTINGS.tax)).toBe(19);
		expect(taxRateFor("ZZ", SETTINGS.tax)).toBe(8.25);
		expect(taxRateFor(null, SETTINGS.tax)).toBe(8.25);
	});
});
