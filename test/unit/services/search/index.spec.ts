import type { ProductSnapshot } from "../../../../services/common/events";
import { problemOf, SearchIndex, type SearchQuery } from "../../../../services/search/index";

let n = 0;
function product(over: Partial<ProductSnapshot> = {}): ProductSnapshot {
	n++;
	return {
		id: `p${n}`,
		name: `Product ${n}`,
		description: "",
		brand: "Acme",
		category: "gadgets",
		price_cents: 1000,
		currency: "USD",
		image_url: null,
		tags: [],
		rating_average: 0,
		rating_count: 0,
		active: true,
		version: 1,
		created_at: "2026-01-01T00:00:00.000Z",
		updated_at: "2026-01-01T00:00:00.000Z",
		...over,
	};
}
const q = (over: Partial<SearchQuery> = {}): SearchQuery => ({ sort: "relevance", page: 1, page_size: 20, ...over });

describe("SearchIndex", () => {
	let index: SearchIndex;
	beforeEach(() => {
		index = new SearchIndex();
		index.upsert(product({ id: "l1", name: "IdeaPad Slim Laptop", brand: "Lenovo", category: "laptops", price_cents: 89999, description: "A light laptop" }));
		index.upsert(product({ id: "l2", name: "MacBook Pro", brand: "Apple", category: "laptops", price_cents: 199900, description: "Pro laptop with M4" }));
		index.upsert(product({ id: "h1", name: "QuietComfort Headphones", brand: "Bose", category: "audio", price_cents: 42900, description: "Noise cancelling" }));
		index.upsert(product({ id: "h2", name: "WH-1000XM5 Headphones", brand: "Sony", category: "audio", price_cents: 39999, description: "Wireless, noise cancelling" }));
	});

	it("finds products by words of name, description, brand or category, every word required", () => {
		expect(index.search(q({ q: "laptops" })).rows.map(h => h.product.id).sort()).toEqual(["l1", "l2"]);
		expect(index.search(q({ q: "sony headphones" })).rows.map(h => h.product.id)).toEqual(["h2"]);
		expect(index.search(q({ q: "noise cancelling" })).total).toBe(2);
		expect(index.search(q({ q: "toaster" })).total).toBe(0);
	});

	it("ranks a name match above a description-only match", () => {
		index.upsert(product({ id: "bag", name: "Travel Backpack", description: "Fits a 15-inch laptop" }));
		const ids = index.search(q({ q: "laptop" })).rows.map(h => h.product.id);
		expect(ids.indexOf("bag")).toBe(ids.length - 1);
	});

	it("matches word prefixes of three letters or more", () => {
		expect(index.search(q({ q: "headph" })).total).toBe(2);
	});

	it("filters by brand (any case), category and a price range in cents, inclusive", () => {
		expect(index.search(q({ brand: "sony" })).rows.map(h => h.product.id)).toEqual(["h2"]);
		expect(index.search(q({ category: "audio" })).total).toBe(2);
		expect(index.search(q({ q: "laptop", price_max_cents: 100000 })).rows.map(h => h.product.id)).toEqual(["l1"]);
		expect(index.search(q({ price_min_cents: 42900, price_max_cents: 89999 })).rows.map(h => h.product.id).sort()).toEqual(["h1", "l1"]);
	});

	it("counts brands and categories over all matches, not just the page", () => {
		const res = index.search(q({ page_size: 1 }));
		expect(res.rows).toHaveLength(1);
		expect(res.total).toBe(4);
		expect(res.total_pages).toBe(4);
		expect(res.facets).toEqual({ brand: { Lenovo: 1, Apple: 1, Bose: 1, Sony: 1 }, category: { laptops: 2, audio: 2 } });
	});

	it("sorts by price either way and by rating", () => {
		expect(index.search(q({ sort: "price_asc" })).rows.map(h => h.product.id)).toEqual(["h2", "h1", "l1", "l2"]);
		expect(index.search(q({ sort: "price_desc" })).rows.map(h => h.product.id)).toEqual(["l2", "l1", "h1", "h2"]);
		index.setRating("h1", 4.8, 10);
		index.setRating("l2", 4.2, 3);
		expect(index.search(q({ sort: "rating" })).rows.slice(0, 2).map(h => h.product.id)).toEqual(["h1", "l2"]);
	});

	it("ignores changes older than the version it holds and keeps removals", () => {
		index.upsert(product({ id: "l1", name: "Renamed", version: 3 }));
		expect(index.upsert(product({ id: "l1", name: "Stale", version: 2 }))).toBe(false);
		expect(index.get("l1")?.name).toBe("Renamed");
		expect(index.setPrice("l1", 50000, 4)).toBe(true);
		expect(index.setPrice("l1", 60000, 4)).toBe(false);
		expect(index.get("l1")?.price_cents).toBe(50000);
		index.remove("l1", 5);
		expect(index.upsert(product({ id: "l1", version: 4 }))).toBe(false);
		expect(index.get("l1")).toBeUndefined();
	});

	it("applies the full product of the same version after its price event", () => {
		index.setPrice("h1", 30000, 2);
		index.upsert(product({ id: "h1", name: "QuietComfort Ultra", price_cents: 30000, brand: "Bose", category: "audio", version: 2 }));
		expect(index.get("h1")).toMatchObject({ name: "QuietComfort Ultra", price_cents: 30000 });
	});

	it("keeps the rating with the most reviews, also when the product arrives later", () => {
		index.setRating("new", 4, 2);
		expect(index.setRating("new", 5, 1)).toBe(false);
		index.upsert(product({ id: "new", rating_average: 3, rating_count: 1 }));
		expect(index.get("new")).toMatchObject({ rating_average: 4, rating_count: 2 });
	});

	it("drops after a reload what the catalog no longer lists, unless an event touched it meanwhile", () => {
		expect(index.retainListed(new Set(["l1", "l2"]), new Set(["h2"]))).toBe(1);
		expect(index.ids().sort()).toEqual(["h2", "l1", "l2"]);
	});

	it("drops a product that arrives inactive", () => {
		index.upsert(product({ id: "h2", active: false, version: 2 }));
		expect(index.get("h2")).toBeUndefined();
		expect(index.size).toBe(3);
	});
});

describe("problemOf: which catalog rows the read model can index", () => {
	it("finds nothing wrong with a complete product", () => {
		expect(problemOf(product())).toBeNull();
	});

	it.each([
		["name", null, "name is null, not a string"],
		["brand", null, "brand is null, not a string"],
		["category", 7, "category is number, not a string"],
		["currency", undefined, "currency is undefined, not a string"],
		["description", null, "description is null, not a string"],
		["price_cents", "100", "price_cents is string, not an integer"],
		["version", 1.5, "version is number, not an integer"],
		["rating_average", null, "rating_average is null, not a number"],
		["tags", [3], "tags is not a list of strings"],
	])("names %s when it is %p", (field, value, problem) => {
		expect(problemOf({ ...product(), [field]: value })).toBe(problem);
	});

	it("names a row that is not an object at all", () => {
		expect(problemOf(null)).toBe("the row is not an object");
	});
});

describe("SearchIndex and shops", () => {
	it("drops a product whose shop is not listed and takes it back at a newer version", () => {
		const index = new SearchIndex();
		const p = product({ shop_id: "s1" });
		index.upsert(p);
		expect(index.upsert({ ...p, shop_listed: false, version: 2 })).toBe(true);
		expect(index.get(p.id)).toBeUndefined();
		expect(index.upsert({ ...p, shop_listed: true, version: 1 })).toBe(false);
		index.upsert({ ...p, shop_listed: true, version: 3 });
		expect(index.get(p.id)?.version).toBe(3);
	});

	it("filters by shop, counting facets over that shop only; rows without a shop are the house shop's", () => {
		const index = new SearchIndex();
		const a = product({ shop_id: "s1", brand: "Alpha" });
		const b = product({ shop_id: "s2", brand: "Beta" });
		const house = product({ brand: "House" });
		for (const p of [a, b, house]) index.upsert(p);
		const res = index.search(q({ shop: "s1" }));
		expect(res.rows.map(h => h.product.id)).toEqual([a.id]);
		expect(res.facets.brand).toEqual({ Alpha: 1 });
		expect(index.search(q({ shop: "shopflow" })).rows.map(h => h.product.id)).toEqual([house.id]);
	});
});
