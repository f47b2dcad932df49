import type { ServiceBroker } from "moleculer";
import { EventsMixin, type EventsMethods } from "../../../mixins/events.mixin";
import type { Repository } from "../../../mixins/db.mixin";
import { EVENTS, type DomainEvent } from "../../../services/common/events";
import type { ApiProduct, ProductDoc } from "../../../services/products/model";
import type { Page } from "../../../services/common/paging";
import type { CategoryRow, PricingRow } from "../../../services/products.service";
import { startShop, type Shop } from "../../helpers/shop";
import { eventually } from "../../helpers/eventually";

const admin = { meta: { user: { id: "admin", email: "admin@example.com", name: "Admin", role: "admin" } } };
const noRetry = { retries: 0 };

describe("products service", () => {
	let shop: Shop;
	let broker: ServiceBroker;
	const events: Array<{ name: string; payload: Record<string, unknown> }> = [];
	let publisher: EventsMethods;

	beforeAll(async () => {
		shop = await startShop(["products", "inventory"], { NAMESPACE: `t-prod-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
		const record = (name: string) => (event: DomainEvent) => {
			events.push({ name, payload: event });
		};
		const names = [EVENTS.PRODUCT_CREATED, EVENTS.PRODUCT_UPDATED, EVENTS.PRODUCT_PRICE_CHANGED, EVENTS.PRODUCT_DELETED];
		broker.createService({ name: "product-event-recorder", mixins: [EventsMixin({ handlers: Object.fromEntries(names.map(n => [n, record(n)])) })] });
		publisher = broker.createService({ name: "review-publisher", mixins: [EventsMixin()] }) as unknown as EventsMethods;
		await broker.waitForServices(["product-event-recorder", "review-publisher"]);
		await broker.call("products.seedDemo", {});
	});
	afterAll(() => shop.stop());

	it("seeds a demo catalog of at least 40 products, 6 categories and 8 brands, once", async () => {
		const all = await broker.call<Page<ApiProduct>, object>("products.list", { page_size: 100 });
		expect(all.total).toBeGreaterThanOrEqual(40);
		expect(new Set(all.rows.map(r => r.category)).size).toBeGreaterThanOrEqual(6);
		expect(new Set(all.rows.map(r => r.brand)).size).toBeGreaterThanOrEqual(8);
		const again = await broker.call<{ products: number; stock: number }, object>("products.seedDemo", {});
		expect(again).toMatchObject({ products: 0, categories: 0, stock: 0 });
	});

	it("shows laptop-123 with a decimal price, its currency and its availability", async () => {
		const p = await broker.call<ApiProduct, object>("products.get", { id: "laptop-123" });
		expect(p).toMatchObject({ id: "laptop-123", category: "laptops", currency: "USD", availability: { in_stock: true } });
		expect(p.price).toBeLessThan(1000);
		expect(p.availability?.available).toBeGreaterThan(0);
	});

	it("answers 404 for an unknown product", async () => {
		await expect(broker.call("products.get", { id: "no-such-product" }, noRetry)).rejects.toMatchObject({ code: 404, type: "PRODUCT_NOT_FOUND" });
	});

	it("filters by category and brand and pages the result", async () => {
		const laptops = await broker.call<Page<ApiProduct>, object>("products.list", { category: "Laptops", page: "1", page_size: "3" });
		expect(laptops).toMatchObject({ page: 1, page_size: 3 });
		expect(laptops.rows).toHaveLength(3);
		expect(laptops.total_pages).toBe(Math.ceil(laptops.total / 3));
		expect(laptops.rows.every(r => r.category === "laptops")).toBe(true);
		const page2 = await broker.call<Page<ApiProduct>, object>("products.list", { category: "laptops", page: 2, page_size: 3 });
		expect(page2.rows.map(r => r.id)).not.toContain(laptops.rows[0].id);
		const dell = await broker.call<Page<ApiProduct>, object>("products.list", { brand: "dell" });
		expect(dell.total).toBeGreaterThan(0);
		expect(dell.rows.every(r => r.brand === "Dell")).toBe(true);
	});

	it("refuses a page_size above 100 with 422 naming page_size", async () => {
		await expect(broker.call("products.list", { page_size: "10000" }, noRetry)).rejects.toMatchObject({
			code: 422,
			data: [expect.objectContaining({ field: "page_size" })],
		});
	});

	it("lists categories with their product counts", async () => {
		const { rows } = await broker.call<{ rows: CategoryRow[] }, object>("products.categories", {});
		expect(rows.length).toBeGreaterThanOrEqual(6);
		const laptops = rows.find(r => r.id === "laptops");
		expect(laptops).toMatchObject({ name: "Laptops" });
		const list = await broker.call<Page<ApiProduct>, object>("products.list", { category: "laptops" });
		expect(laptops?.product_count).toBe(list.total);
	});

	it.each([
		[10.999, "at most two decimals"],
		[0, "positive"],
		[-5, "positive"],
	])("refuses the price %p with 422 naming price", async (price, text) => {
		await expect(
			broker.call("products.create", { name: "Bad price", brand: "Acme", category: "gadgets", price }, { ...admin, ...noRetry }),
		).rejects.toMatchObject({ code: 422, message: expect.stringContaining(text), data: [expect.objectContaining({ field: "price" })] });
	});

	it("creates a product with cents inside, announces it and refuses its id twice", async () => {
		const p = await broker.call<ApiProduct, object>("products.create", { id: "gizmo-1", name: "Gizmo", brand: "Acme", category: "Smart Home", price: 19.99, tags: ["New", "new"] }, admin);
		expect(p).toMatchObject({ id: "gizmo-1", price: 19.99, currency: "USD", category: "smart-home", tags: ["new"] });
		await eventually(() =>
			expect(events).toContainEqual({ name: "product.created", payload: expect.objectContaining({ product_id: "gizmo-1", product: expect.objectContaining({ price_cents: 1999 }) }) }),
		);
		// The event was staged in the same write as the product, and removed from it once published.
		const repo = (broker.getLocalService("products") as unknown as { collection(n: string): Repository<ProductDoc> }).collection("products");
		expect((await repo.findById("gizmo-1"))?.pending_events).toEqual([]);
		await expect(broker.call("products.create", { id: "gizmo-1", name: "Again", brand: "Acme", category: "x1", price: 1 }, { ...admin, ...noRetry })).rejects.toMatchObject({
			code: 409,
		});
	});

	it("serves reads from the cache and shows a price change at once", async () => {
		await broker.call("products.create", { id: "cached-1", name: "Cached", brand: "Acme", category: "gadgets", price: 50 }, admin);
		const svc = broker.getLocalService("products") as unknown as { collection(n: string): Repository<ProductDoc> };
		const spy = jest.spyOn(svc.collection("products"), "findById");
		await broker.call("products.get", { id: "cached-1" });
		await broker.call("products.get", { id: "cached-1" });
		expect(spy.mock.calls.filter(c => c[0] === "cached-1")).toHaveLength(1);
		await broker.call("products.update", { id: "cached-1", price: 45.5 }, admin);
		expect((await broker.call<ApiProduct, object>("products.get", { id: "cached-1" })).price).toBe(45.5);
		spy.mockRestore();
		await eventually(() =>
			expect(events).toContainEqual({
				name: "product.price-changed",
				payload: expect.objectContaining({ product_id: "cached-1", old_price_cents: 5000, new_price_cents: 4550, old_price: 50, new_price: 45.5 }),
			}),
		);
	});

	it("removes a product from the catalog but keeps it, inactive, for re-pricing", async () => {
		await broker.call("products.create", { id: "gone-1", name: "Gone", brand: "Acme", category: "gadgets", price: 5 }, admin);
		await broker.call("products.get", { id: "gone-1" });
		expect(await broker.call("products.remove", { id: "gone-1" }, admin)).toEqual({ id: "gone-1", deleted: true });
		await expect(broker.call("products.get", { id: "gone-1" }, noRetry)).rejects.toMatchObject({ code: 404 });
		const { rows } = await broker.call<{ rows: PricingRow[] }, object>("products.getMany", { ids: ["gone-1", "laptop-123", "nope"] });
		expect(rows.map(r => [r.id, r.active, r.deleted]).sort()).toEqual([
			["gone-1", false, true],
			["laptop-123", true, false],
		]);
		await expect(broker.call("products.remove", { id: "gone-1" }, { ...admin, ...noRetry })).rejects.toMatchObject({ code: 404 });
	});

	it("refuses an update that names nothing to change", async () => {
		await expect(broker.call("products.update", { id: "laptop-123" }, { ...admin, ...noRetry })).rejects.toMatchObject({ code: 422 });
	});

	it("takes the rating of review.created and never goes back to an older count", async () => {
		await publisher.publish(null, EVENTS.REVIEW_CREATED, { review_id: "r2", product_id: "laptop-123", user_id: "u", rating: 4, average_rating: 4.5, rating_count: 2 });
		await publisher.publish(null, EVENTS.REVIEW_CREATED, { review_id: "r1", product_id: "laptop-123", user_id: "u", rating: 5, average_rating: 5, rating_count: 1 });
		await eventually(async () =>
			expect(await broker.call("products.get", { id: "laptop-123" })).toMatchObject({ rating_average: 4.5, rating_count: 2 }),
		);
		await new Promise(r => setTimeout(r, 100));
		expect(await broker.call("products.get", { id: "laptop-123" })).toMatchObject({ rating_average: 4.5, rating_count: 2 });
	});
});

describe("products without inventory", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["products"], { NAMESPACE: `t-prod-solo-${Date.now()}-${Math.random()}` });
		await shop.broker.call("products.seedDemo", {});
	});
	afterAll(() => shop.stop());

	it("still shows products, with availability null instead of an error", async () => {
		const p = await shop.broker.call<ApiProduct, object>("products.get", { id: "laptop-123" });
		expect(p.availability).toBeNull();
		const list = await shop.broker.call<Page<ApiProduct>, object>("products.list", {});
		expect(list.rows[0].availability).toBeNull();
	});
});
