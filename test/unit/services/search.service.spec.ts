import type { ServiceBroker } from "moleculer";
import { loadServiceSchema } from "../../../config/boot/broker";
import { EventsMixin, type EventsMethods } from "../../../mixins/events.mixin";
import { EVENTS } from "../../../services/common/events";
import { DEMO_PRODUCTS } from "../../../services/products/demo-catalog";
import type { SearchAnswer } from "../../../services/search.service";
import { startShop, type Shop } from "../../helpers/shop";
import { eventually } from "../../helpers/eventually";

const admin = { meta: { user: { id: "admin", email: "admin@example.com", name: "Admin", role: "admin" } } };
const noRetry = { retries: 0 };

describe("search service", () => {
	let shop: Shop;
	let broker: ServiceBroker;
	const search = (params: Record<string, unknown>): Promise<SearchAnswer> => broker.call("search.query", params, noRetry);

	beforeAll(async () => {
		shop = await startShop(["products", "inventory"], { NAMESPACE: `t-search-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
		await broker.call("products.seedDemo", {});
		// Search starts after the catalog exists: it must load it from products, not from events it never saw.
		broker.createService(loadServiceSchema("search", shop.config));
		await broker.waitForServices(["search"]);
		await eventually(async () => expect(await broker.call("search.status")).toMatchObject({ ready: true }));
	});
	afterAll(() => shop.stop());

	it("loads the whole catalog from products when it starts", async () => {
		expect(await broker.call("search.status")).toMatchObject({ ready: true, products: DEMO_PRODUCTS.length });
	});

	it("finds only laptops at or under a price, with facets, availability and rating", async () => {
		const res = await search({ q: "laptop", price_max: "1000" });
		expect(res.total).toBeGreaterThan(0);
		for (const r of res.rows) {
			expect(r.category).toBe("laptops");
			expect(r.price).toBeLessThanOrEqual(1000);
			expect(r.availability).toEqual({ available: expect.any(Number), in_stock: expect.any(Boolean) });
			expect(r.rating_average).toEqual(expect.any(Number));
		}
		expect(res.rows.map(r => r.id)).toContain("laptop-123");
		expect(res.facets.category).toEqual({ laptops: res.total });
		expect(Object.values(res.facets.brand).reduce((a, b) => a + b, 0)).toBe(res.total);
	});

	it("filters by brand and category and sorts by price", async () => {
		const res = await search({ brand: "sony", sort: "price_asc", page_size: "50" });
		expect(res.rows.every(r => r.brand === "Sony")).toBe(true);
		const prices = res.rows.map(r => r.price);
		expect(prices).toEqual([...prices].sort((a, b) => a - b));
		const home = await search({ category: "Smart Home" });
		expect(home.total).toBeGreaterThan(0);
		expect(home.rows.every(r => r.category === "smart-home")).toBe(true);
		const audio = await search({ category: "audio", sort: "price_desc" });
		expect(audio.rows.every(r => r.category === "audio")).toBe(true);
		expect(audio.rows[0].price).toBeGreaterThanOrEqual(audio.rows[audio.rows.length - 1].price);
	});

	it("refuses price_min above price_max with 422 naming price_min", async () => {
		await expect(search({ price_min: "500", price_max: "100" })).rejects.toMatchObject({
			code: 422,
			type: "PRICE_RANGE_INVALID",
			data: [expect.objectContaining({ field: "price_min" })],
		});
	});

	it("refuses a page_size above 100 and an unknown sort with 422", async () => {
		await expect(search({ page_size: "10000" })).rejects.toMatchObject({ code: 422, data: [expect.objectContaining({ field: "page_size" })] });
		await expect(search({ sort: "cheapest" })).rejects.toMatchObject({ code: 422, data: [expect.objectContaining({ field: "sort" })] });
	});

	it("follows price changes, new products and removals", async () => {
		await broker.call("products.update", { id: "laptop-123", price: 777.77 }, admin);
		await eventually(async () => expect((await search({ q: "ideapad" })).rows[0]).toMatchObject({ id: "laptop-123", price: 777.77 }));
		await broker.call("products.create", { id: "zephyr-kettle", name: "Zephyr Smart Kettle", brand: "Acme", category: "smart-home", price: 59 }, admin);
		await eventually(async () => expect((await search({ q: "kettle" })).rows.map(r => r.id)).toEqual(["zephyr-kettle"]));
		await broker.call("products.remove", { id: "zephyr-kettle" }, admin);
		await eventually(async () => expect((await search({ q: "kettle" })).total).toBe(0));
	});

	it("repairs its read model on a reload: what the catalog no longer lists goes", async () => {
		const svc = broker.getLocalService("search") as unknown as { index: { upsert(p: object): boolean } };
		const ghost = { ...DEMO_PRODUCTS[0], id: "ghost-1", name: "Ghost Gadget", price_cents: 100, currency: "USD", image_url: null, rating_average: 0, rating_count: 0, active: true, version: 1, created_at: "t", updated_at: "t" };
		svc.index.upsert(ghost);
		expect((await search({ q: "ghost" })).total).toBe(1);
		await broker.call("search.rebuild");
		expect((await search({ q: "ghost" })).total).toBe(0);
		expect((await search({ q: "ideapad" })).total).toBe(1);
	});

	it("sorts by the ratings that review events report", async () => {
		const publisher = broker.createService({ name: "review-publisher", mixins: [EventsMixin()] }) as unknown as EventsMethods;
		await broker.waitForServices(["review-publisher"]);
		await publisher.publish(null, EVENTS.REVIEW_CREATED, { review_id: "r", product_id: "pixel-8a", user_id: "u", rating: 5, average_rating: 5, rating_count: 1 });
		await eventually(async () => expect((await search({ sort: "rating" })).rows[0]).toMatchObject({ id: "pixel-8a", rating_average: 5, rating_count: 1 }));
	});
});
