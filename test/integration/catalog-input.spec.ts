/**
 * Bad input on the catalog and account write routes, through the real gateway: null where a value is required
 * and numbers that are not JSON numbers are refused with 422 naming the field, and nothing is stored.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DbMethods } from "../../mixins/db.mixin";
import type { ProductDoc } from "../../services/products/model";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";

interface ErrorBody {
	code: number;
	type: string;
	data: Array<{ field: string }>;
}

const fieldsOf = (body: unknown): string[] => ((body as ErrorBody).data ?? []).map(e => e.field).sort();
const NOT_NUMBERS: unknown[] = [true, "7", "", [], [3], "1e3", { value: 5 }];

describe("bad input on catalog and account writes", () => {
	let shop: Shop;
	let admin: string;
	let customer: { token: string };
	const api = (method: string, p: string, body?: unknown, token = admin) => http(shop.url, method, `/api/v1${p}`, { body, token });

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "inventory", "reviews"], { NAMESPACE: `t-cat-input-${Date.now()}-${Math.random()}` });
		await shop.broker.call("products.seedDemo", {});
		admin = await loginAdmin(shop.url, shop.config);
		customer = await registerCustomer(shop.url);
	});
	afterAll(() => shop.stop());

	it.each(["name", "description", "brand", "category", "price", "currency", "image_url", "tags"])(
		"refuses PUT /products/:id with %s null, naming the field, and changes nothing",
		async field => {
			const before = await api("GET", "/products/laptop-123");
			const res = await api("PUT", "/products/laptop-123", { [field]: null });
			expect(res.status).toBe(422);
			expect(fieldsOf(res.body)).toEqual([field]);
			const after = await api("GET", "/products/laptop-123");
			expect(after.body).toEqual(before.body);
		},
	);

	it("refuses POST /products with a null optional field and stores nothing", async () => {
		const res = await api("POST", "/products", { id: "null-desc", name: "Kettle", brand: "Acme", category: "kitchen", price: 20, description: null });
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toEqual(["description"]);
		expect((await api("GET", "/products/null-desc")).status).toBe(404);
	});

	it.each(NOT_NUMBERS)("refuses a price of %j on create and update instead of converting it", async price => {
		const created = await api("POST", "/products", { id: "conv-price", name: "Kettle", brand: "Acme", category: "kitchen", price });
		expect(created.status).toBe(422);
		expect(fieldsOf(created.body)).toEqual(["price"]);
		expect((await api("GET", "/products/conv-price")).status).toBe(404);
		const before = await api("GET", "/products/pixel-8a");
		const updated = await api("PUT", "/products/pixel-8a", { price });
		expect(updated.status).toBe(422);
		expect(fieldsOf(updated.body)).toEqual(["price"]);
		expect((await api("GET", "/products/pixel-8a")).body).toEqual(before.body);
	});

	it.each(NOT_NUMBERS)("refuses a restock quantity or an on_hand of %j and leaves the stock as it was", async value => {
		const before = await api("GET", "/inventory/laptop-123");
		expect(before.status).toBe(200);
		const restock = await api("POST", "/inventory/laptop-123/restock", { warehouse_id: "main", quantity: value });
		expect(restock.status).toBe(422);
		expect(fieldsOf(restock.body)).toEqual(["quantity"]);
		const level = await api("PUT", "/inventory/laptop-123", { warehouse_id: "main", on_hand: value });
		expect(level.status).toBe(422);
		expect(fieldsOf(level.body)).toEqual(["on_hand"]);
		expect((await api("GET", "/inventory/laptop-123")).body).toEqual(before.body);
	});

	it("still converts numbers that arrive in a query string", async () => {
		const page = await http<{ page: number; page_size: number }>(shop.url, "GET", "/api/v1/products?page=2&page_size=5");
		expect(page.status).toBe(200);
		expect(page.body).toMatchObject({ page: 2, page_size: 5 });
	});

	it("refuses PUT /account/addresses/:id with a null street and city, and keeps the address", async () => {
		const saved = await api("POST", "/account/addresses", { street: "1 Main St", city: "Springfield", country: "US" }, customer.token);
		expect(saved.status).toBe(201);
		const id = (saved.body as { id: string }).id;
		const res = await api("PUT", `/account/addresses/${id}`, { street: null, city: null }, customer.token);
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toEqual(["city", "street"]);
		for (const field of ["label", "postal_code", "country"]) {
			const one = await api("PUT", `/account/addresses/${id}`, { [field]: null }, customer.token);
			expect(one.status).toBe(422);
			expect(fieldsOf(one.body)).toEqual([field]);
		}
		const list = await api("GET", "/account/addresses", undefined, customer.token);
		expect((list.body as { rows: unknown[] }).rows).toEqual([saved.body]);
	});

	it("refuses POST /account/addresses with a null optional field and saves no address", async () => {
		const before = await api("GET", "/account/addresses", undefined, customer.token);
		for (const field of ["label", "postal_code", "country"]) {
			const res = await api("POST", "/account/addresses", { street: "2 Side St", city: "Shelbyville", [field]: null }, customer.token);
			expect(res.status).toBe(422);
			expect(fieldsOf(res.body)).toEqual([field]);
		}
		const after = await api("GET", "/account/addresses", undefined, customer.token);
		expect(after.body).toEqual(before.body);
	});

	it("refuses a checkout whose inline address has a null postal code, naming the field, before anything runs", async () => {
		const res = await shop.broker
			.call("users.resolveCheckout", { user_id: "u-1", shipping_address: { street: "1 Main St", city: "Springfield", postal_code: null }, payment_method: "card-1" })
			.then(
				() => ({ type: "", fields: [] as string[] }),
				(err: { type: string; data: Array<{ field: string }> }) => ({ type: err.type, fields: err.data.map(d => d.field) }),
			);
		// Either form of shipping_address is refused: not a string, and an object with a null postal code.
		expect(res).toEqual({ type: "VALIDATION_ERROR", fields: ["shipping_address", "shipping_address.postal_code"] });
	});

	it("refuses PUT /account/profile with a null name and keeps the name", async () => {
		const res = await api("PUT", "/account/profile", { name: null }, customer.token);
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toEqual(["name"]);
		const me = await api("GET", "/account/profile", undefined, customer.token);
		expect(me.body).toMatchObject({ name: "Test Customer" });
	});

	it("refuses a review whose comment is null and stores no review", async () => {
		const res = await api("POST", "/reviews", { product_id: "laptop-123", rating: 4, comment: null }, customer.token);
		expect(res.status).toBe(422);
		expect(fieldsOf(res.body)).toEqual(["comment"]);
		expect((await api("GET", "/reviews?product_id=laptop-123")).body).toMatchObject({ count: 0 });
	});
});

describe("search after a restart with a bad product row stored", () => {
	const dataDir = mkdtempSync(path.join(tmpdir(), "shopflow-bad-row-"));
	const env = { DATA_DIR: dataDir, NAMESPACE: `t-cat-restart-${Date.now()}-${Math.random()}` };
	let shop: Shop | undefined;
	afterAll(async () => {
		await shop?.stop();
		rmSync(dataDir, { recursive: true, force: true });
	});

	it("answers /search with the good products and says the node is ready", async () => {
		// First run: a product, and a row with a null name as an older version stored it.
		const first = await startShop(["products"], env);
		await first.broker.call("products.seedDemo", {});
		const products = (first.broker.getLocalService("products") as unknown as DbMethods).collection<ProductDoc>("products");
		const good = await products.findById("laptop-123");
		await products.insert({ ...(good as ProductDoc), id: "broken-1", name: null as unknown as string });
		await first.stop();

		shop = await startShop(["api", "products", "search"], env);
		const url = shop.url;
		await eventually(async () => {
			const res = await http<{ rows: Array<{ id: string }> }>(url, "GET", "/api/v1/search?q=ideapad");
			expect(res.status).toBe(200);
			expect(res.body.rows.map(r => r.id)).toEqual(["laptop-123"]);
		}, 10_000);
		const ready = await http<{ checks: { storage: Record<string, string> } }>(url, "GET", "/health/ready");
		expect(ready.status).toBe(200);
		expect(ready.body.checks.storage.search).toBe("ok");
		expect(await shop.broker.call("search.status")).toMatchObject({ ready: true, skipped: 1 });
	});
});
