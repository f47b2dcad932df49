import { DEMO_CATEGORIES, DEMO_PRODUCTS, DEMO_STOCK } from "../../../../services/products/demo-catalog";
import { checkPrice, SLUG_PATTERN } from "../../../../services/products/model";
import { tokenize } from "../../../../services/search/text";

describe("demo catalog", () => {
	it("has at least 40 products over at least 6 categories and 8 brands, with unique ids", () => {
		expect(DEMO_PRODUCTS.length).toBeGreaterThanOrEqual(40);
		expect(new Set(DEMO_PRODUCTS.map(p => p.id)).size).toBe(DEMO_PRODUCTS.length);
		expect(new Set(DEMO_PRODUCTS.map(p => p.category)).size).toBeGreaterThanOrEqual(6);
		expect(new Set(DEMO_PRODUCTS.map(p => p.brand)).size).toBeGreaterThanOrEqual(8);
	});

	it("uses only declared categories, slug ids and valid prices", () => {
		const categories = new Set(DEMO_CATEGORIES.map(c => c.id));
		for (const p of DEMO_PRODUCTS) {
			expect(categories.has(p.category)).toBe(true);
			expect(p.id).toMatch(SLUG_PATTERN);
			expect(checkPrice(p.price).ok).toBe(true);
			expect(p.description.length).toBeGreaterThan(30);
		}
	});

	it("has laptop-123, a laptop under 1000", () => {
		const laptop = DEMO_PRODUCTS.find(p => p.id === "laptop-123");
		expect(laptop).toMatchObject({ category: "laptops" });
		expect(laptop?.price).toBeLessThan(1000);
	});

	it("mentions laptops only in laptops, so a search for laptop finds laptops", () => {
		for (const p of DEMO_PRODUCTS.filter(p => p.category !== "laptops"))
			expect(tokenize(`${p.name} ${p.description} ${p.brand}`)).not.toContain("laptop");
	});

	it("stocks every product, each in at least two warehouses", () => {
		for (const p of DEMO_PRODUCTS) {
			const rows = DEMO_STOCK.filter(s => s.product_id === p.id);
			expect(rows.length).toBeGreaterThanOrEqual(2);
			expect(rows.every(r => Number.isInteger(r.on_hand) && r.on_hand >= 0)).toBe(true);
		}
		expect(new Set(DEMO_STOCK.map(s => s.warehouse_id)).size).toBeGreaterThanOrEqual(2);
	});
});
