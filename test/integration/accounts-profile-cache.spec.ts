import Redis from "ioredis";
import type { AuthUser } from "../../services/common/meta";
import { http, NATS_URL, REDIS_URL, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";

describe("a renamed profile in the next review", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "inventory", "reviews"]);
		await shop.broker.call("products.seedDemo", {});
	});
	afterAll(() => shop.stop());

	it("shows the new name at once, although the token was resolved (and cached) before", async () => {
		const customer = await registerCustomer(shop.url);
		expect((await http(shop.url, "GET", "/api/v1/account/profile", { token: customer.token })).status).toBe(200);
		const renamed = await http(shop.url, "PUT", "/api/v1/account/profile", { token: customer.token, body: { name: "Ann Renamed" } });
		expect(renamed.status).toBe(200);
		const review = await http(shop.url, "POST", "/api/v1/reviews", { token: customer.token, body: { product_id: "laptop-123", rating: 4, comment: "Fine" } });
		expect(review.status).toBe(201);
		const list = await http<{ rows: Array<{ author: string }> }>(shop.url, "GET", "/api/v1/reviews?product_id=laptop-123");
		expect(list.body.rows.map(r => r.author)).toContain("Ann Renamed");
	});
});

describe("token resolutions cached in Redis", () => {
	const namespace = `t-tokens-${process.pid}-${Date.now()}`;
	let redis: Redis;
	let a: Shop;
	let b: Shop;

	beforeAll(async () => {
		redis = new Redis(REDIS_URL);
		a = await startShop(["api", "users"], { REDIS_URL, NAMESPACE: namespace }, `tokens-a-${process.pid}`);
		b = await startShop(["api", "users"], { REDIS_URL, NAMESPACE: namespace }, `tokens-b-${process.pid}`);
	});
	afterAll(async () => {
		await a?.stop();
		await b?.stop();
		const keys = await redis?.keys(`${namespace}*`);
		if (keys?.length) await redis.del(...keys);
		redis?.disconnect();
	});

	it("are dropped for every node sharing the cache when a profile is renamed", async () => {
		const customer = await registerCustomer(a.url);
		const before = (await b.broker.call("users.resolveToken", { token: customer.token }).catch(() => null)) as AuthUser | null;
		// b's own store does not know the customer: it can only answer from the cache that a filled.
		expect(before).toBeNull();
		expect(((await a.broker.call("users.resolveToken", { token: customer.token })) as AuthUser).name).toBe("Test Customer");
		expect(((await b.broker.call("users.resolveToken", { token: customer.token })) as AuthUser).name).toBe("Test Customer");
		expect((await http(a.url, "PUT", "/api/v1/account/profile", { token: customer.token, body: { name: "Renamed" } })).status).toBe(200);
		expect(await redis.keys(`${namespace}-cache*users.resolveToken*`)).toEqual([]);
		await expect(b.broker.call("users.resolveToken", { token: customer.token })).rejects.toMatchObject({ code: 401 });
		expect(((await a.broker.call("users.resolveToken", { token: customer.token })) as AuthUser).name).toBe("Renamed");
	});
});

describe("token resolutions cached in each node's memory", () => {
	const namespace = `t-tokens-mem-${process.pid}-${Date.now()}`;
	let a: Shop;
	let b: Shop;

	beforeAll(async () => {
		a = await startShop(["api", "users"], { NATS_URL, NAMESPACE: namespace }, `tokens-mem-a-${process.pid}`);
		b = await startShop(["users"], { NATS_URL, NAMESPACE: namespace }, `tokens-mem-b-${process.pid}`);
		await a.broker.waitForServices(["users"], 10_000);
		await eventually(() => expect(a.broker.registry.getActionEndpoints("users.get")?.endpoints.length).toBe(2), 10_000, 50);
	});
	afterAll(async () => {
		await a?.stop();
		await b?.stop();
	});

	it("are dropped on every users node when a profile is renamed on one", async () => {
		const cached = "users.resolveToken:some-token";
		await b.broker.cacher?.set(cached, { id: "u", email: "u@example.com", name: "Old Name", role: "customer" });
		expect(await b.broker.cacher?.get(cached)).toMatchObject({ name: "Old Name" });
		// The gateway prefers its local users service, which stores the customer and makes the change.
		const customer = await registerCustomer(a.url);
		expect((await http(a.url, "PUT", "/api/v1/account/profile", { token: customer.token, body: { name: "Renamed" } })).status).toBe(200);
		// A memory cacher answers undefined for a key it does not hold.
		await eventually(async () => expect(await b.broker.cacher?.get(cached)).toBeUndefined());
	});
});
