import { fromCents, hasAtMostTwoDecimals, sumCents, toCents } from "../../../../services/common/money";

describe("money", () => {
	it("converts decimal units to integer cents without float drift", () => {
		expect(toCents(999.99)).toBe(99999);
		expect(toCents(0.1 + 0.2)).toBe(30);
		expect(toCents(1.005)).toBe(101);
		expect(toCents(-2.5)).toBe(-250);
	});

	it("converts cents back to units", () => {
		expect(fromCents(99999)).toBe(999.99);
		expect(() => fromCents(1.5)).toThrow(RangeError);
	});

	it("tells amounts with more than two decimals", () => {
		expect(hasAtMostTwoDecimals(19.99)).toBe(true);
		expect(hasAtMostTwoDecimals(19.999)).toBe(false);
		expect(hasAtMostTwoDecimals(Number.NaN)).toBe(false);
	});

	it("sums cents", () => {
		expect(sumCents([100, 250, 1])).toBe(351);
	});
});
