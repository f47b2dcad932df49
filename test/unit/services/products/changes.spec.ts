import { changedFields, demoProduct, newProduct, priceChange } from "../../../../services/products/changes";
import { DEMO_PRODUCTS } from "../../../../services/products/demo-catalog";

const base = newProduct("lamp-1", { name: "Lamp", brand: "Philips", category: "smart-home", price: 10, tags: ["Light", "light"] }, 1000, "smart-home", "t0");

describe("product changes", () => {
	it("builds a new product at version 1 with normalised fields", () => {
		expect(base).toMatchObject({ id: "lamp-1", brand_key: "philips", currency: "USD", tags: ["light"], version: 1, active: true, rating_count: 0 });
		expect(newProduct("x", { name: "X", brand: "B", category: "c", price: 1, currency: "eur" }, 100, "c", "t").currency).toBe("EUR");
	});

	it("stores demo products in cents with an image", () => {
		const laptop = demoProduct(DEMO_PRODUCTS.find(p => p.id === "laptop-123")!, "t");
		expect(laptop).toMatchObject({ price_cents: 89999, currency: "USD", image_url: expect.stringContaining("laptop-123") });
	});

	it("sets only the fields an update names", () => {
		expect(changedFields({})).toEqual({});
		expect(changedFields({ brand: "Signify", tags: [" A "] }, 1500, "lighting")).toEqual({
			brand: "Signify",
			brand_key: "signify",
			tags: ["a"],
			price_cents: 1500,
			category: "lighting",
		});
	});

	it("reports a price change with old and new price, and none when it stays", () => {
		const after = { ...base, price_cents: 850, version: 2 };
		expect(priceChange(base, after)).toEqual({
			product_id: "lamp-1",
			version: 2,
			currency: "USD",
			old_price_cents: 1000,
			new_price_cents: 850,
			old_price: 10,
			new_price: 8.5,
		});
		expect(priceChange(base, { ...base, name: "Renamed", version: 2 })).toBeNull();
	});
});
