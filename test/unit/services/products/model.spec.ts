import { categoryTitle, checkPrice, normaliseTags, slugify, toApiProduct, toSnapshot, type ProductDoc } from "../../../../services/products/model";

const doc: ProductDoc = {
	id: "laptop-123",
	name: "IdeaPad",
	description: "d",
	brand: "Lenovo",
	brand_key: "lenovo",
	category: "laptops",
	price_cents: 89999,
	currency: "USD",
	image_url: null,
	tags: [],
	rating_average: 4.5,
	rating_count: 2,
	active: true,
	version: 3,
	created_at: "c",
	updated_at: "u",
};

describe("product model", () => {
	it("turns prices in decimal units into cents and refuses more than two decimals, zero or less", () => {
		expect(checkPrice(999.99)).toEqual({ ok: true, value: 99999 });
		expect(checkPrice(0.1 + 0.2)).toEqual({ ok: true, value: 30 });
		expect(checkPrice(0.305)).toMatchObject({ ok: false, message: expect.stringContaining("two decimals") });
		expect(checkPrice(10.999)).toMatchObject({ ok: false });
		expect(checkPrice(0)).toMatchObject({ ok: false, message: expect.stringContaining("positive") });
		expect(checkPrice(-1)).toMatchObject({ ok: false });
		expect(checkPrice(Number.NaN)).toMatchObject({ ok: false });
		expect(checkPrice(1_000_000)).toEqual({ ok: true, value: 100_000_000 });
		// Beyond the largest price the message is the size, even where floating point cannot tell the decimals.
		for (const huge of [1_000_000.01, 1e20, Number.MAX_VALUE]) expect(checkPrice(huge)).toEqual({ ok: false, message: "must not exceed 1000000" });
		expect(checkPrice(2_000_000)).toMatchObject({ ok: false, message: expect.stringContaining("exceed") });
	});

	it("shows a decimal price and the currency, never internal keys", () => {
		const api = toApiProduct(toSnapshot(doc), { available: 3, in_stock: true });
		expect(api).toMatchObject({ id: "laptop-123", price: 899.99, currency: "USD", availability: { available: 3, in_stock: true } });
		expect(api).not.toHaveProperty("brand_key");
		expect(api).not.toHaveProperty("price_cents");
		expect(toSnapshot(doc)).not.toHaveProperty("brand_key");
	});

	it("makes slugs and category titles", () => {
		expect(slugify("  Smart Home & Garden ")).toBe("smart-home-garden");
		expect(slugify("Café Crème")).toBe("cafe-creme");
		expect(categoryTitle("smart-home")).toBe("Smart Home");
	});

	it("normalises tags", () => {
		expect(normaliseTags([" New", "new", "", "Sale"])).toEqual(["new", "sale"]);
		expect(normaliseTags(undefined)).toEqual([]);
	});
});
