import { assertChargeable, billTotalCents, isChargeable, MAX_CHARGE_CENTS, OrderTotalTooHighError } from "../../../../services/payments/client";

describe("payments client", () => {
	it("accepts totals up to the limit and refuses one cent more", () => {
		expect(MAX_CHARGE_CENTS).toBe(1_000_000_000);
		expect(isChargeable(MAX_CHARGE_CENTS)).toBe(true);
		expect(isChargeable(MAX_CHARGE_CENTS + 1)).toBe(false);
		expect(() => assertChargeable("cart", MAX_CHARGE_CENTS, "USD")).not.toThrow();
	});

	it("refuses a total that is not a safe integer of cents, however it came about", () => {
		for (const total of [Number.MAX_SAFE_INTEGER + 1, Number.POSITIVE_INFINITY, Number.NaN, 10.5]) expect(isChargeable(total)).toBe(false);
	});

	it("sums lines in cents and gives Infinity instead of a rounded sum beyond the safe integers", () => {
		expect(billTotalCents([])).toBe(0);
		expect(billTotalCents([{ price_cents: 100_000_000, quantity: 11 }, { price_cents: 1, quantity: 3 }])).toBe(1_100_000_003);
		expect(billTotalCents([{ price_cents: 1e300, quantity: 10_000 }])).toBe(Number.POSITIVE_INFINITY);
		expect(billTotalCents([{ price_cents: Number.MAX_SAFE_INTEGER, quantity: 1 }, { price_cents: 1, quantity: 1 }])).toBe(Number.POSITIVE_INFINITY);
	});

	it("names the field, the total and the limit in decimal units in a 422 ORDER_TOTAL_TOO_HIGH", () => {
		const err = new OrderTotalTooHighError("cart", 1_100_000_000, "USD");
		expect(err).toMatchObject({ code: 422, type: "ORDER_TOTAL_TOO_HIGH", data: { field: "cart", total: 11_000_000, limit: 10_000_000, currency: "USD" } });
		expect(err.message).toBe("cart: the total 11000000 USD exceeds the 10000000 USD one payment can charge");
		expect(new OrderTotalTooHighError("items", Number.POSITIVE_INFINITY, "EUR")).toMatchObject({ data: { total: null }, message: expect.stringContaining("too large") });
		expect(() => assertChargeable("quantity", MAX_CHARGE_CENTS + 1, "USD")).toThrow(OrderTotalTooHighError);
	});
});
