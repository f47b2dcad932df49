import type { ServiceBroker } from "moleculer";
import { loadServiceSchema } from "../../../config/boot/broker";
import type { DbMethods } from "../../../mixins/db.mixin";
import { EventsMixin, type EventsMethods } from "../../../mixins/events.mixin";
import { EVENTS } from "../../../services/common/events";
import { DEMO_PRODUCTS } from "../../../services/products/demo-catalog";
import type { ProductDoc } from "../../../services/products/model";
import type { SearchAnswer } from "../../../services/search.service";
import { startShop, type Shop } from "../../helpers/shop";
import { eventually } from "../../helpers/eventually";

const noRetry = { retries: 0 };

/** A stored product row as an older version could write it: a null name (or another broken field). */
function badRow(id: string, broken: Record<string, unknown>): ProductDoc {
	const now = new Date().toISOString();
	return {
		id,
		name: "Broken Gizmo",
		description: "",
		brand: "Acme",
		brand_key: "acme",
		category: "gadgets",
		price_cents: 1000,
		currency: "USD",
		image_url: null,
		tags: [],
		rating_average: 0,
		rating_count: 0,
		active: true,
		version: 1,
		created_at: now,
		updated_at: now,
		...broken,
	} as ProductDoc;
}

describe("search read model with bad catalog rows", () => {
	let shop: Shop;
	let broker: ServiceBroker;
	const search = (params: Record<string, unknown>): Promise<SearchAnswer> => broker.call("search.query", params, noRetry);
	const status = (): Promise<{ ready: boolean; products: number; skipped: number }> => broker.call("search.status");

	beforeAll(async () => {
		shop = await startShop(["products"], { NAMESPACE: `t-search-bad-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
		await broker.call("products.seedDemo", {});
		const products = (broker.getLocalService("products") as unknown as DbMethods).collection<ProductDoc>("products");
		await products.insert(badRow("null-name", { name: null }));
		await products.insert(badRow("null-brand", { brand: null, brand_key: null }));
		broker.createService(loadServiceSchema("search", shop.config));
		await broker.waitForServices(["search"]);
	});
	afterAll(() => shop.stop());

	it("skips the rows it cannot index when it loads, counts them, and serves the rest", async () => {
		await eventually(async () => expect(await status()).toEqual(expect.objectContaining({ ready: true, products: DEMO_PRODUCTS.length, skipped: 2 })));
		expect((await search({ q: "ideapad" })).rows.map(r => r.id)).toEqual(["laptop-123"]);
		expect((await search({ q: "gizmo" })).total).toBe(0);
	});

	it("reports itself healthy for readiness once loaded, with the skipped rows", async () => {
		expect(await broker.call("search.storageHealth")).toEqual(expect.objectContaining({ ok: true, skipped: 2 }));
	});

	it("skips a product event whose product cannot be indexed instead of failing the consumer", async () => {
		const publisher = broker.createService({ name: "bad-product-publisher", mixins: [EventsMixin()] }) as unknown as EventsMethods;
		await broker.waitForServices(["bad-product-publisher"]);
		const product = { ...badRow("null-category", { category: null }), brand_key: undefined };
		await publisher.publish(null, EVENTS.PRODUCT_CREATED, { product_id: product.id, version: 1, product });
		await eventually(async () => expect((await status()).skipped).toBe(3));
		const dead = await broker.call<{ total: number }, object>("search.deadLetters", {});
		expect(dead.total).toBe(0);
		expect((await search({})).total).toBe(DEMO_PRODUCTS.length);
	});

	it("forgets a skipped row once its product is repaired", async () => {
		const products = (broker.getLocalService("products") as unknown as DbMethods).collection<ProductDoc>("products");
		await products.updateWhere({ id: "null-name" }, { $set: { name: "Repaired Gizmo", version: 2 } });
		await broker.call("search.rebuild");
		// null-brand is still broken; null-category was never stored, so the listing drops it.
		expect(await status()).toEqual(expect.objectContaining({ products: DEMO_PRODUCTS.length + 1, skipped: 1 }));
		expect((await search({ q: "repaired" })).rows.map(r => r.id)).toEqual(["null-name"]);
	});
});

describe("readiness while search cannot load the catalog", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["api", "search"], { NAMESPACE: `t-search-unready-${Date.now()}-${Math.random()}` });
	});
	afterAll(() => shop.stop());

	const ready = async (): Promise<{ status: number; body: { status: string; checks: { storage: Record<string, string> } } }> => {
		const res = await fetch(`${shop.url}/health/ready`);
		return { status: res.status, body: (await res.json()) as { status: string; checks: { storage: Record<string, string> } } };
	};

	it("is not ready while no products node lets the read model load, and ready once one does", async () => {
		const before = await ready();
		expect(before.status).toBe(503);
		expect(before.body).toMatchObject({ status: "unavailable", checks: { storage: { search: "down" } } });
		shop.broker.createService(loadServiceSchema("products", shop.config));
		await eventually(async () => expect(await ready()).toMatchObject({ status: 200, body: { status: "ok", checks: { storage: { search: "ok" } } } }), 15_000);
	});
});
