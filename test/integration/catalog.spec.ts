import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";

interface ProductBody {
	id: string;
	name: string;
	price: number;
	currency: string;
	category: string;
	availability: { available: number; in_stock: boolean } | null;
	rating_average: number;
	rating_count: number;
}
interface PageBody {
	rows: ProductBody[];
	total: number;
	page: number;
	page_size: number;
	total_pages: number;
}
interface SearchBody extends PageBody {
	facets: { brand: Record<string, number>; category: Record<string, number> };
}
interface ErrorBody {
	message: string;
	type: string;
	data: Array<{ field: string }>;
}

describe("catalog through the gateway", () => {
	let shop: Shop;
	let adminToken: string;
	let customer: { token: string; id: string };

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "search", "inventory", "reviews"], { NAMESPACE: `t-cat-${Date.now()}-${Math.random()}` });
		await shop.broker.call("products.seedDemo", {});
		adminToken = await loginAdmin(shop.url, shop.config);
		customer = await registerCustomer(shop.url);
		await eventually(async () => {
			const res = await http<SearchBody>(shop.url, "GET", "/api/v1/search?q=laptop");
			expect(res.body.rows.map(r => r.id)).toContain("laptop-123");
		});
	});
	afterAll(() => shop.stop());

	it("lists the demo catalog with pages, on /products and /catalog", async () => {
		const res = await http<PageBody>(shop.url, "GET", "/api/v1/products");
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ page: 1, page_size: 20 });
		expect(res.body.total).toBeGreaterThanOrEqual(40);
		expect(res.body.rows).toHaveLength(20);
		const catalog = await http<PageBody>(shop.url, "GET", "/api/v1/catalog?category=laptops&page_size=5");
		expect(catalog.body.rows.every(r => r.category === "laptops")).toBe(true);
	});

	it("shows laptop-123 with price, currency and availability, also under /catalog", async () => {
		const res = await http<ProductBody>(shop.url, "GET", "/api/v1/products/laptop-123");
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: "laptop-123", currency: "USD", availability: { in_stock: true } });
		expect(res.body.price).toBeLessThan(1000);
		expect((await http(shop.url, "GET", "/api/v1/catalog/laptop-123")).status).toBe(200);
	});

	it("lists categories with product counts", async () => {
		const res = await http<{ rows: Array<{ id: string; product_count: number }> }>(shop.url, "GET", "/api/v1/catalog/categories");
		expect(res.status).toBe(200);
		expect(res.body.rows.length).toBeGreaterThanOrEqual(6);
		expect(res.body.rows.every(r => r.product_count > 0)).toBe(true);
	});

	it("searches laptops at or under 1000 with facets", async () => {
		const res = await http<SearchBody>(shop.url, "GET", "/api/v1/search?q=laptop&price_max=1000");
		expect(res.status).toBe(200);
		expect(res.body.total).toBeGreaterThan(0);
		expect(res.body.rows.every(r => r.category === "laptops" && r.price <= 1000)).toBe(true);
		expect(res.body.facets.category).toEqual({ laptops: res.body.total });
		expect(Object.keys(res.body.facets.brand).length).toBeGreaterThan(0);
	});

	it("answers 404 for an unknown product", async () => {
		const res = await http<ErrorBody>(shop.url, "GET", "/api/v1/products/no-such-product");
		expect(res.status).toBe(404);
		expect(res.body.message).toContain("no-such-product");
	});

	it.each(["/api/v1/products?page_size=10000", "/api/v1/search?q=laptop&page_size=10000"])("refuses page_size 10000 with 422 naming it: %s", async path => {
		const res = await http<ErrorBody>(shop.url, "GET", path);
		expect(res.status).toBe(422);
		expect(res.body.data.map(d => d.field)).toContain("page_size");
	});

	it.each([
		"/api/v1/products?category=&brand=&page=&page_size=",
		"/api/v1/search?q=&brand=&category=&price_min=&price_max=&sort=&page=&page_size=",
	])("treats empty query values as not given: %s", async path => {
		const res = await http<{ rows: unknown[] }>(shop.url, "GET", path);
		expect(res.status).toBe(200);
		expect(res.body.rows.length).toBeGreaterThan(0);
	});

	it("refuses price_min above price_max with 422", async () => {
		const res = await http<ErrorBody>(shop.url, "GET", "/api/v1/search?q=laptop&price_min=900&price_max=100");
		expect(res.status).toBe(422);
		expect(res.body.data.map(d => d.field)).toContain("price_min");
	});

	it.each([0, 7, 3.5])("refuses rating %p with 422 and stores nothing", async rating => {
		const res = await http<ErrorBody>(shop.url, "POST", "/api/v1/reviews", { token: customer.token, body: { product_id: "laptop-123", rating, comment: "Hmm" } });
		expect(res.status).toBe(422);
		expect(res.body.data.map(d => d.field)).toContain("rating");
		const list = await http<{ count: number }>(shop.url, "GET", "/api/v1/reviews?product_id=laptop-123");
		expect(list.body.count).toBe(0);
	});

	it("answers 404 for a review of an unknown product and 401 without a token", async () => {
		const res = await http(shop.url, "POST", "/api/v1/reviews", { token: customer.token, body: { product_id: "no-such-product", rating: 5 } });
		expect(res.status).toBe(404);
		expect((await http(shop.url, "POST", "/api/v1/reviews", { body: { product_id: "laptop-123", rating: 5 } })).status).toBe(401);
	});

	it("stores a review with 201, shows the average, refuses a second one with 409 and rates the product", async () => {
		const res = await http(shop.url, "POST", "/api/v1/reviews", { token: customer.token, body: { product_id: "dell-xps-13", rating: 5, comment: "Great laptop!" } });
		expect(res.status).toBe(201);
		const list = await http<{ rows: unknown[]; average_rating: number; count: number }>(shop.url, "GET", "/api/v1/reviews?product_id=dell-xps-13");
		expect(list.body).toMatchObject({ average_rating: 5, count: 1 });
		const again = await http(shop.url, "POST", "/api/v1/reviews", { token: customer.token, body: { product_id: "dell-xps-13", rating: 1 } });
		expect(again.status).toBe(409);
		await eventually(async () => {
			const p = await http<ProductBody>(shop.url, "GET", "/api/v1/products/dell-xps-13");
			expect(p.body).toMatchObject({ rating_average: 5, rating_count: 1 });
		});
	});

	it("refuses product changes and stock reads by a customer with 403, and without a token with 401", async () => {
		const body = { name: "Sneaky", brand: "Acme", category: "gadgets", price: 1 };
		expect((await http(shop.url, "POST", "/api/v1/products", { token: customer.token, body })).status).toBe(403);
		expect((await http(shop.url, "POST", "/api/v1/products", { body })).status).toBe(401);
		expect((await http(shop.url, "PUT", "/api/v1/products/laptop-123", { token: customer.token, body: { price: 1 } })).status).toBe(403);
		expect((await http(shop.url, "DELETE", "/api/v1/products/laptop-123", { token: customer.token })).status).toBe(403);
		expect((await http(shop.url, "GET", "/api/v1/inventory/laptop-123", { token: customer.token })).status).toBe(403);
		expect((await http<ProductBody>(shop.url, "GET", "/api/v1/products/laptop-123")).body.price).toBeLessThan(1000);
	});

	it("lets an admin create a product with 201 and a Location, and refuses a price with three decimals", async () => {
		const res = await http<ProductBody>(shop.url, "POST", "/api/v1/products", {
			token: adminToken,
			body: { id: "desk-lamp-1", name: "Desk Lamp", brand: "Acme", category: "Smart Home", price: 24.5 },
		});
		expect(res.status).toBe(201);
		expect(res.headers.get("location")).toBe("/api/v1/products/desk-lamp-1");
		expect(res.body).toMatchObject({ price: 24.5, category: "smart-home" });
		const bad = await http<ErrorBody>(shop.url, "POST", "/api/v1/products", { token: adminToken, body: { name: "X", brand: "Acme", category: "gadgets", price: 1.005 } });
		expect(bad.status).toBe(422);
		expect(bad.body.data.map(d => d.field)).toContain("price");
	});

	it("restocks as admin and refuses a negative restock with 422", async () => {
		const before = await http<{ on_hand: number }>(shop.url, "GET", "/api/v1/inventory/laptop-123", { token: adminToken });
		expect(before.status).toBe(200);
		const bad = await http<ErrorBody>(shop.url, "POST", "/api/v1/inventory/laptop-123/restock", { token: adminToken, body: { warehouse_id: "wh-east", quantity: -5 } });
		expect(bad.status).toBe(422);
		expect(bad.body.data.map(d => d.field)).toContain("quantity");
		const ok = await http<{ on_hand: number; warehouses: unknown[] }>(shop.url, "POST", "/api/v1/inventory/laptop-123/restock", {
			token: adminToken,
			body: { warehouse_id: "wh-east", quantity: 5 },
		});
		expect(ok.status).toBe(200);
		expect(ok.body.on_hand).toBe(before.body.on_hand + 5);
		expect((await http(shop.url, "POST", "/api/v1/inventory/laptop-123/restock", { token: customer.token, body: { warehouse_id: "wh-east", quantity: 5 } })).status).toBe(403);
	});

	it("shows an admin price change in product reads and in search at once", async () => {
		await http(shop.url, "GET", "/api/v1/products/macbook-air-13"); // cached now
		const upd = await http<ProductBody>(shop.url, "PUT", "/api/v1/products/macbook-air-13", { token: adminToken, body: { price: 949.5 } });
		expect(upd.status).toBe(200);
		expect(upd.body.price).toBe(949.5);
		expect((await http<ProductBody>(shop.url, "GET", "/api/v1/products/macbook-air-13")).body.price).toBe(949.5);
		const started = Date.now();
		await eventually(async () => {
			const res = await http<SearchBody>(shop.url, "GET", "/api/v1/search?q=macbook%20air&price_max=1000");
			expect(res.body.rows.map(r => [r.id, r.price])).toEqual([["macbook-air-13", 949.5]]);
		}, 1000);
		expect(Date.now() - started).toBeLessThan(1000);
	});

	it("counts brands and categories named constructor, toString, valueOf and __proto__ like any other in search facets (audit D5)", async () => {
		const products = [
			{ id: "facetprobe-1", brand: "constructor", category: "constructor" },
			{ id: "facetprobe-2", brand: "toString", category: "valueof" },
			{ id: "facetprobe-3", brand: "__proto__", category: "hasownproperty" },
			{ id: "facetprobe-4", brand: "__proto__", category: "constructor" },
		];
		for (const p of products) {
			const res = await http(shop.url, "POST", "/api/v1/products", { token: adminToken, body: { ...p, name: `Facetprobe ${p.id}`, price: 5 } });
			expect(res.status).toBe(201);
		}
		await eventually(async () => {
			const res = await http<SearchBody>(shop.url, "GET", "/api/v1/search?q=facetprobe");
			expect(res.body.total).toBe(4);
			// Compared as entries: `__proto__` in an object literal would set the prototype, not a key.
			expect(Object.entries(res.body.facets.brand).sort()).toEqual([["__proto__", 2], ["constructor", 1], ["toString", 1]]);
			expect(Object.entries(res.body.facets.category).sort()).toEqual([["constructor", 2], ["hasownproperty", 1], ["valueof", 1]]);
		});
	});
});
