import Redis from "ioredis";
import { http, REDIS_URL, registerCustomer, startShop, type Shop } from "../helpers/shop";

describe("Redis-backed rate limits and cache", () => {
	const namespace = `t-redis-${process.pid}-${Date.now()}`;
	const redis = new Redis(REDIS_URL);
	let a: Shop;
	let b: Shop;

	beforeAll(async () => {
		const env = { REDIS_URL, NAMESPACE: namespace, RATE_LIMIT_PER_MINUTE: "4", TRUST_PROXY: "true" };
		a = await startShop(["api", "users"], env, `a-${process.pid}`);
		b = await startShop(["api", "users"], env, `b-${process.pid}`);
	});
	afterAll(async () => {
		await a?.stop();
		await b?.stop();
		const keys = await redis.keys(`${namespace}*`);
		if (keys.length) await redis.del(...keys);
		redis.disconnect();
	});

	it("shares one client's request budget across gateway nodes and answers 429 past it", async () => {
		const headers = { "x-forwarded-for": "203.0.113.7" };
		const statuses: number[] = [];
		for (const base of [a.url, b.url, a.url, b.url, a.url]) {
			const res = await http(base, "POST", "/api/v1/users/login", { headers, body: { email: "x@example.com", password: "whatever1" } });
			statuses.push(res.status);
		}
		expect(statuses).toEqual([401, 401, 401, 401, 429]);
		expect(await redis.exists(`${namespace}:ratelimit:ip:203.0.113.7`)).toBe(1);
	});

	it("keeps other clients under their own budget", async () => {
		const res = await http(a.url, "POST", "/api/v1/users/login", {
			headers: { "x-forwarded-for": "203.0.113.8" },
			body: { email: "x@example.com", password: "whatever1" },
		});
		expect(res.status).toBe(401);
	});

	it("serves a resolved token from the Redis cache on the second request", async () => {
		expect(a.broker.cacher?.constructor.name).toBe("RedisCacher");
		const customer = await registerCustomer(a.url);
		const users = a.broker.getLocalService("users") as unknown as { collection(n: string): { findById(id: string): Promise<unknown> } };
		const repo = users.collection("users");
		const spy = jest.spyOn(repo, "findById");
		const first = await a.broker.call("users.resolveToken", { token: customer.token });
		const second = await a.broker.call("users.resolveToken", { token: customer.token });
		expect(second).toEqual(first);
		expect(spy).toHaveBeenCalledTimes(1);
		const cached = await redis.keys(`${namespace}-cache*users.resolveToken*`);
		expect(cached.length).toBeGreaterThan(0);
		spy.mockRestore();
	});

	it("reports Redis as ready", async () => {
		const ready = await http<{ checks: { redis: string } }>(a.url, "GET", "/health/ready");
		expect(ready.body.checks.redis).toBe("ok");
	});
});
