/**
 * Suspension over NATS: one catalog node (products, shops), two search nodes in their own brokers. A suspended
 * shop's products leave the read model of every search node within a second, and come back on approval.
 */
import type { ServiceBroker } from "moleculer";
import { DEMO_PRODUCTS, DEMO_SHOP_OF_CATEGORY } from "../../services/products/demo-catalog";
import type { SearchAnswer } from "../../services/search.service";
import { NATS_URL, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";

const admin = { meta: { user: { id: "admin", email: "admin@example.com", name: "Admin", role: "admin" } } };

describe("shop suspension over NATS: one catalog node, two search nodes", () => {
	const ns = `t-shopnats-${Date.now()}-${Math.random().toString(36).slice(2)}`;
	const env = { NATS_URL, NAMESPACE: ns };
	const ids = { catalog: `catalog-${ns}`, a: `search-a-${ns}`, b: `search-b-${ns}` };
	const nodes: Shop[] = [];
	let caller: ServiceBroker;
	const shopId = "home-play";
	const shopProducts = DEMO_PRODUCTS.filter(p => DEMO_SHOP_OF_CATEGORY[p.category] === shopId).length;
	const inShop = async (nodeID: string): Promise<number> =>
		(await caller.call<SearchAnswer, object>("search.query", { shop: shopId, page_size: 100 }, { nodeID, retries: 0 })).total;

	beforeAll(async () => {
		const catalog = await startShop(["products", "shops"], env, ids.catalog);
		nodes.push(catalog);
		caller = catalog.broker;
		await caller.call("shops.seedDemo", {});
		await caller.call("products.seedDemo", {});
		nodes.push(await startShop(["search"], env, ids.a), await startShop(["search"], env, ids.b));
		for (const nodeID of [ids.a, ids.b])
			await eventually(async () => expect(await caller.call("search.status", {}, { nodeID })).toMatchObject({ ready: true, products: DEMO_PRODUCTS.length }), 10_000);
	}, 30_000);
	afterAll(async () => {
		for (const n of nodes.reverse()) await n.stop();
	});

	it("drops a suspended shop's products from every search node within a second, and approval brings them back", async () => {
		expect(shopProducts).toBeGreaterThan(0);
		for (const nodeID of [ids.a, ids.b]) expect(await inShop(nodeID)).toBe(shopProducts);

		let started = Date.now();
		await caller.call("shops.suspend", { id: shopId }, admin);
		await Promise.all([ids.a, ids.b].map(nodeID => eventually(async () => expect(await inShop(nodeID)).toBe(0), 1000)));
		expect(Date.now() - started).toBeLessThan(1000);
		const page = await caller.call<{ total: number }, object>("products.list", { shop: shopId });
		expect(page.total).toBe(0);

		started = Date.now();
		await caller.call("shops.approve", { id: shopId }, admin);
		await Promise.all([ids.a, ids.b].map(nodeID => eventually(async () => expect(await inShop(nodeID)).toBe(shopProducts), 1000)));
		expect(Date.now() - started).toBeLessThan(1000);
	});
});
