import type { ServiceBroker } from "moleculer";
import { DEMO_PRODUCTS } from "../../services/products/demo-catalog";
import { CACHE_CLEAN_EVENT } from "../../services/products.service";
import type { SearchAnswer } from "../../services/search.service";
import { NATS_URL, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";

const admin = { meta: { user: { id: "admin", email: "admin@example.com", name: "Admin", role: "admin" } } };

describe("catalog over NATS: one products node, two search nodes", () => {
	const ns = `t-catnats-${Date.now()}-${Math.random().toString(36).slice(2)}`;
	const env = { NATS_URL, NAMESPACE: ns };
	const ids = { products: `products-${ns}`, products2: `products2-${ns}`, a: `search-a-${ns}`, b: `search-b-${ns}` };
	const shops: Shop[] = [];
	let caller: ServiceBroker;
	const query = (nodeID: string, params: Record<string, unknown>): Promise<SearchAnswer> => caller.call("search.query", params, { nodeID, retries: 0 });

	beforeAll(async () => {
		const products = await startShop(["products"], env, ids.products);
		shops.push(products);
		caller = products.broker;
		await caller.call("products.seedDemo", {});
		// The search nodes start after the catalog exists: each loads it from products over NATS.
		shops.push(await startShop(["search"], env, ids.a), await startShop(["search"], env, ids.b));
		const registry = caller.registry as unknown as { getServiceList(o: object): Array<{ name: string; nodeID: string }> };
		const knows = (nodeID: string): boolean => registry.getServiceList({ onlyAvailable: true }).some(s => s.name === "search" && s.nodeID === nodeID);
		for (const nodeID of [ids.a, ids.b])
			await eventually(async () => {
				expect(knows(nodeID)).toBe(true);
				expect(await caller.call("search.status", {}, { nodeID })).toMatchObject({ ready: true, products: DEMO_PRODUCTS.length });
			});
	}, 30_000);
	afterAll(async () => {
		for (const s of shops.reverse()) await s.stop();
	});

	it("answers the same query on both search nodes from their own read models", async () => {
		const a = await query(ids.a, { q: "laptop", price_max: 1000 });
		const b = await query(ids.b, { q: "laptop", price_max: 1000 });
		expect(a.total).toBeGreaterThan(0);
		expect(b.rows.map(r => r.id)).toEqual(a.rows.map(r => r.id));
		expect(b.facets).toEqual(a.facets);
	});

	it("delivers a price change to both search nodes", async () => {
		const started = Date.now();
		await caller.call("products.update", { id: "laptop-123", price: 849.49 }, admin);
		const seen: Record<string, number> = {};
		await Promise.all(
			[ids.a, ids.b].map(nodeID =>
				eventually(async () => {
					const res = await query(nodeID, { q: "ideapad" });
					expect(res.rows[0]).toMatchObject({ id: "laptop-123", price: 849.49 });
					seen[nodeID] = Date.now() - started;
				}),
			),
		);
		expect(Object.keys(seen)).toHaveLength(2);
	});

	it("delivers new and removed products to both search nodes", async () => {
		await caller.call("products.create", { id: "nats-widget", name: "Nats Widget", brand: "Acme", category: "gadgets", price: 12 }, admin);
		for (const nodeID of [ids.a, ids.b]) await eventually(async () => expect((await query(nodeID, { q: "widget" })).total).toBe(1));
		await caller.call("products.remove", { id: "nats-widget" }, admin);
		for (const nodeID of [ids.a, ids.b]) await eventually(async () => expect((await query(nodeID, { q: "widget" })).total).toBe(0));
	});

	it("cleans the cached reads of every products node when one of them changes a product", async () => {
		const second = await startShop(["products"], env, ids.products2);
		shops.push(second);
		await second.broker.call("products.seedDemo", {});
		// Wait until the first node has heard of the second one's subscription to the cache-clean broadcast.
		const registry = caller.registry as unknown as { events: { getAllEndpoints(name: string): Array<{ id: string }> } };
		await eventually(async () => expect(registry.events.getAllEndpoints(CACHE_CLEAN_EVENT).map(e => e.id)).toContain(ids.products2));
		// A read on the second node fills its own (memory) cache.
		await second.broker.call("products.get", { id: "pixel-9" });
		const cacher = second.broker.cacher as unknown as { cache: Map<string, unknown> };
		const cachedLookups = (): string[] => [...cacher.cache.keys()].filter(k => k.startsWith("products.lookup"));
		expect(cachedLookups().length).toBeGreaterThan(0);
		await caller.call("products.update", { id: "pixel-9", name: "Pixel 9 (renamed)" }, { ...admin, nodeID: ids.products });
		await eventually(async () => expect(cachedLookups()).toEqual([]));
	});
});
