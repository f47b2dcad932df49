import { http, loginAdmin, NATS_URL, REDIS_URL, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";
import { PRODUCTS_CHANGED_BROADCAST, SEARCH_CHANGED_BROADCAST } from "../../services/common/broadcasts";

interface ProductBody {
	id: string;
	price: number;
}
interface PageBody {
	rows: ProductBody[];
}

/** Long enough that an answer left stale by a missed invalidation would fail the checks below. */
const TTL_MS = 4000;

describe("gateway response cache over NATS and Redis: gateway, catalog and search on their own nodes", () => {
	const ns = `t-gwcache-nats-${Date.now()}-${Math.random().toString(36).slice(2)}`;
	const env = { NATS_URL, REDIS_URL, NAMESPACE: ns, GATEWAY_CACHE_TTL_MS: String(TTL_MS) };
	const shops: Shop[] = [];
	let gateway: Shop;
	let adminToken: string;
	const get = <T = PageBody>(path: string): Promise<{ status: number; body: T; cache: string | null }> =>
		http<T>(gateway.url, "GET", path).then(r => ({ status: r.status, body: r.body, cache: r.headers.get("x-cache") }));

	beforeAll(async () => {
		const catalog = await startShop(["users", "products", "inventory"], env, `catalog-${ns}`);
		shops.push(catalog);
		await catalog.broker.call("products.seedDemo", {});
		shops.push(await startShop(["search"], env, `search-${ns}`));
		gateway = await startShop(["api"], env, `gateway-${ns}`);
		shops.push(gateway);
		await gateway.broker.waitForServices(["users", "products", "inventory", "search"], 10_000);
		adminToken = await loginAdmin(gateway.url, gateway.config);
		// A new node announces its services (and event subscriptions) about a second after it starts.
		const gatewayID = gateway.broker.nodeID;
		for (const [shop, event] of [[shops[0], PRODUCTS_CHANGED_BROADCAST], [shops[1], SEARCH_CHANGED_BROADCAST]] as const) {
			const registry = shop.broker.registry as unknown as { events: { getAllEndpoints(name: string): Array<{ id: string }> } };
			await eventually(async () => expect(registry.events.getAllEndpoints(event).map(e => e.id)).toContain(gatewayID), 10_000);
		}
		await eventually(async () => expect((await get("/api/v1/search?q=laptop")).body.rows.length).toBeGreaterThan(0), 10_000);
	}, 30_000);
	afterAll(async () => {
		await shops[0]?.broker.cacher?.clean("**");
		for (const s of shops.reverse()) await s.stop();
	});

	it("shows an admin price change in the very next anonymous read (the products node broadcasts also with Redis)", async () => {
		const path = "/api/v1/products/pixel-9";
		const before = await get<ProductBody>(path);
		expect(before.status).toBe(200);
		expect((await get<ProductBody>(path)).cache).toBe("HIT");
		const price = Math.round(before.body.price * 100 + 250) / 100;
		// Events reach the search node a second late, so that only the products node's broadcast can explain a MISS.
		const upd = await http<ProductBody>(gateway.url, "PUT", path, { token: adminToken, body: { price }, headers: { "x-behavior": "message-bus:latency=1s" } });
		expect(upd.status).toBe(200);
		const after = await get<ProductBody>(path);
		expect(after.cache).toBe("MISS");
		expect(after.body.price).toBe(price);
	});

	it("drops cached search answers when the search node's read model changes, well before the TTL", async () => {
		const q = "/api/v1/search?q=ideapad";
		const before = await get(q);
		const row = before.body.rows.find(r => r.id === "laptop-123");
		if (!row) throw new Error("laptop-123 is not found by 'ideapad'");
		expect((await get(q)).cache).toBe("HIT");
		const price = Math.round(row.price * 100 - 175) / 100;
		// The product event reaches the search node 600 ms late: the gateway caches the old answer meanwhile.
		const behavior = { "x-behavior": "message-bus:latency=600ms" };
		expect((await http(gateway.url, "PUT", "/api/v1/products/laptop-123", { token: adminToken, body: { price }, headers: behavior })).status).toBe(200);
		const started = Date.now();
		expect((await get(q)).body.rows.find(r => r.id === "laptop-123")?.price).toBe(row.price);
		expect((await get(q)).cache).toBe("HIT");
		await eventually(async () => expect((await get(q)).body.rows.find(r => r.id === "laptop-123")?.price).toBe(price), TTL_MS / 2);
		expect(Date.now() - started).toBeLessThan(TTL_MS / 2);
	});
});
