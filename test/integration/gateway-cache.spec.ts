import { http, loginAdmin, registerCustomer, startShop, type HttpResult, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";
import type { CachingGateway } from "../../services/api/cached-reads";

interface ProductBody {
	id: string;
	price: number;
}
interface PageBody {
	rows: ProductBody[];
	total: number;
}

const TTL_MS = 1500;
const ORIGIN = "https://shop.example";

const cacheOf = (shop: Shop): NonNullable<CachingGateway["responseCache"]> => {
	const cache = (shop.broker.getLocalService("api") as unknown as CachingGateway).responseCache;
	if (!cache) throw new Error("the gateway has no response cache");
	return cache;
};

describe("gateway response cache of anonymous catalog reads", () => {
	let shop: Shop;
	let adminToken: string;
	const get = <T = PageBody>(path: string, headers: Record<string, string> = {}, token?: string): Promise<HttpResult<T>> =>
		http<T>(shop.url, "GET", path, { headers, token });

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "search", "inventory"], {
			NAMESPACE: `t-gwcache-${Date.now()}-${Math.random()}`,
			GATEWAY_CACHE_TTL_MS: String(TTL_MS),
			CORS_ORIGINS: ORIGIN,
		});
		await shop.broker.call("products.seedDemo", {});
		adminToken = await loginAdmin(shop.url, shop.config);
		await eventually(async () => expect((await get("/api/v1/search?q=laptop")).body.rows.length).toBeGreaterThan(0));
	});
	afterAll(() => shop.stop());

	it("answers a second anonymous GET /products from the cache with the same body", async () => {
		cacheOf(shop).clear();
		const first = await get("/api/v1/products?page_size=7");
		const second = await get("/api/v1/products?page_size=7");
		expect(first.status).toBe(200);
		expect(first.headers.get("x-cache")).toBe("MISS");
		expect(second.status).toBe(200);
		expect(second.headers.get("x-cache")).toBe("HIT");
		expect(second.body).toEqual(first.body);
		expect(second.body.rows).toHaveLength(7);
		expect(second.headers.get("content-type")).toBe("application/json; charset=utf-8");
		expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
		// Each answer has its own trace id, also a hit.
		expect(second.headers.get("x-trace-id")).toBeTruthy();
		expect(second.headers.get("x-trace-id")).not.toBe(first.headers.get("x-trace-id"));
	});

	it("shares one entry between spellings of the same query", async () => {
		cacheOf(shop).clear();
		expect((await get("/api/v1/catalog?category=laptops&page_size=3")).headers.get("x-cache")).toBe("MISS");
		expect((await get("/api/v1/catalog?page_size=3&category=laptops")).headers.get("x-cache")).toBe("HIT");
		expect((await get("/api/v1/catalog?page_size=3&category=%6Captops")).headers.get("x-cache")).toBe("HIT");
	});

	it("caches product pages, categories and search answers too", async () => {
		cacheOf(shop).clear();
		for (const path of ["/api/v1/products/laptop-123", "/api/v1/catalog/laptop-123", "/api/v1/catalog/categories", "/api/v1/search?q=laptop"]) {
			const first = await get(path);
			const second = await get(path);
			expect([path, first.status, first.headers.get("x-cache")]).toEqual([path, 200, "MISS"]);
			expect([path, second.headers.get("x-cache")]).toEqual([path, "HIT"]);
			expect(second.body).toEqual(first.body);
		}
	});

	it("does not serve an authenticated or fault-injected request from the cache", async () => {
		cacheOf(shop).clear();
		await get("/api/v1/products");
		expect((await get("/api/v1/products")).headers.get("x-cache")).toBe("HIT");
		const customer = await registerCustomer(shop.url);
		const authed = await get("/api/v1/products", {}, customer.token);
		expect(authed.status).toBe(200);
		expect(authed.headers.get("x-cache")).toBeNull();
		const behaved = await get("/api/v1/products", { "x-behavior": "product-catalog:latency=1ms" });
		expect(behaved.status).toBe(200);
		expect(behaved.headers.get("x-cache")).toBeNull();
		expect((await get("/api/v1/products?behavior=product-catalog:latency=1ms")).headers.get("x-cache")).toBeNull();
		// A bad token is still refused: no cached answer for it.
		expect((await get("/api/v1/products", {}, "not-a-token")).status).toBe(401);
	});

	it("shows an admin price change in the very next anonymous GET /products and GET /products/:id", async () => {
		const list = await get("/api/v1/products");
		const product = list.body.rows[0];
		await get(`/api/v1/products/${product.id}`);
		expect((await get("/api/v1/products")).headers.get("x-cache")).toBe("HIT");
		expect((await get<ProductBody>(`/api/v1/products/${product.id}`)).headers.get("x-cache")).toBe("HIT");

		const price = Math.round(product.price * 100 + 101) / 100;
		const upd = await http<ProductBody>(shop.url, "PUT", `/api/v1/products/${product.id}`, { token: adminToken, body: { price } });
		expect(upd.status).toBe(200);

		const one = await get<ProductBody>(`/api/v1/products/${product.id}`);
		expect(one.headers.get("x-cache")).toBe("MISS");
		expect(one.body.price).toBe(price);
		const page = await get("/api/v1/products");
		expect(page.headers.get("x-cache")).toBe("MISS");
		expect(page.body.rows.find(r => r.id === product.id)?.price).toBe(price);
	});

	it("shows a price change in cached search answers as soon as the search read model has it", async () => {
		const q = "/api/v1/search?q=macbook%20air";
		await get<PageBody>(q);
		expect((await get(q)).headers.get("x-cache")).toBe("HIT");
		const before = (await get(q)).body.rows.find(r => r.id === "macbook-air-13")?.price;
		const price = 955.25;
		// The product event reaches search 300 ms late: meanwhile the old answer is read (and cached) again.
		const behavior = { "x-behavior": "message-bus:latency=300ms" };
		expect((await http(shop.url, "PUT", "/api/v1/products/macbook-air-13", { token: adminToken, body: { price }, headers: behavior })).status).toBe(200);
		const started = Date.now();
		expect((await get(q)).body.rows.find(r => r.id === "macbook-air-13")?.price).toBe(before);
		expect((await get(q)).headers.get("x-cache")).toBe("HIT");
		await eventually(async () => expect((await get(q)).body.rows.find(r => r.id === "macbook-air-13")?.price).toBe(price), TTL_MS / 2);
		expect(Date.now() - started).toBeLessThan(TTL_MS / 2);
	});

	it("serves an entry until its TTL, then asks the services again", async () => {
		cacheOf(shop).clear();
		const first = await get("/api/v1/catalog/categories");
		expect(first.headers.get("x-cache")).toBe("MISS");
		expect((await get("/api/v1/catalog/categories")).headers.get("x-cache")).toBe("HIT");
		await new Promise(resolve => setTimeout(resolve, TTL_MS + 100));
		const later = await get("/api/v1/catalog/categories");
		expect(later.headers.get("x-cache")).toBe("MISS");
		expect(later.body).toEqual(first.body);
	});

	it("answers If-None-Match with 304 for a cached answer and for a fresh one", async () => {
		cacheOf(shop).clear();
		const first = await get("/api/v1/products/laptop-123");
		const etag = first.headers.get("etag") ?? "";
		expect(etag).toMatch(/^".+"$/);
		const hit = await get("/api/v1/products/laptop-123", { "if-none-match": etag });
		expect(hit.status).toBe(304);
		expect(hit.headers.get("x-cache")).toBe("HIT");
		expect(hit.body).toBeNull();
		cacheOf(shop).clear();
		const miss = await get("/api/v1/products/laptop-123", { "if-none-match": `W/${etag}, "other"` });
		expect(miss.status).toBe(304);
		expect(miss.headers.get("x-cache")).toBe("MISS");
		const changed = await get("/api/v1/products/laptop-123", { "if-none-match": '"something-else"' });
		expect(changed.status).toBe(200);
		expect(changed.body).toEqual(first.body);
	});

	it("applies CORS to hits: an allowed origin gets its headers, a refused one its 403", async () => {
		cacheOf(shop).clear();
		await get("/api/v1/products");
		const allowed = await get("/api/v1/products", { origin: ORIGIN });
		expect(allowed.headers.get("x-cache")).toBe("HIT");
		expect(allowed.headers.get("access-control-allow-origin")).toBe(ORIGIN);
		expect(allowed.headers.get("access-control-expose-headers")).toContain("X-Trace-Id");
		const refused = await get("/api/v1/products", { origin: "https://evil.example" });
		expect(refused.status).toBe(403);
		expect(refused.headers.get("access-control-allow-origin")).toBeNull();
	});

	it("never caches an error: page_size=10000 is a 422 every time", async () => {
		cacheOf(shop).clear();
		for (let i = 0; i < 2; i++) {
			const res = await get<{ type: string; data: Array<{ field: string }> }>("/api/v1/products?page_size=10000");
			expect(res.status).toBe(422);
			expect(res.headers.get("x-cache")).toBeNull();
			expect(res.body.data.map(d => d.field)).toContain("page_size");
		}
		expect(cacheOf(shop).size).toBe(0);
		expect((await get("/api/v1/products/no-such-product")).status).toBe(404);
		expect((await get("/api/v1/products/no-such-product")).status).toBe(404);
		expect(cacheOf(shop).size).toBe(0);
	});

	it("counts hits and misses in /metrics", async () => {
		const res = await http<string>(shop.url, "GET", "/metrics");
		const count = (result: string): number => Number(new RegExp(`shopflow_gateway_cache_requests_total\\{result="${result}"\\} (\\d+)`).exec(res.body)?.[1]);
		expect(count("hit")).toBeGreaterThan(0);
		expect(count("miss")).toBeGreaterThan(0);
	});
});

describe("gateway response cache: rate limit and bounds", () => {
	let shop: Shop;
	const LIMIT = 5;
	const get = (path: string, client: string, headers: Record<string, string> = {}): Promise<HttpResult> =>
		http(shop.url, "GET", path, { headers: { "x-forwarded-for": client, ...headers } });

	beforeAll(async () => {
		shop = await startShop(["api", "products", "inventory"], {
			NAMESPACE: `t-gwcache-rl-${Date.now()}-${Math.random()}`,
			RATE_LIMIT_PER_MINUTE: String(LIMIT),
			TRUST_PROXY: "true",
			GATEWAY_CACHE_MAX_ENTRIES: "2",
		});
		await shop.broker.call("products.seedDemo", {});
	});
	afterAll(() => shop.stop());

	it("counts hits against the rate limit, with the same headers, and answers 429 over it", async () => {
		const client = "203.0.113.7";
		const answers: HttpResult[] = [];
		for (let i = 0; i < LIMIT; i++) answers.push(await get("/api/v1/products", client));
		expect(answers.map(a => a.status)).toEqual(Array(LIMIT).fill(200));
		expect(answers.slice(1).map(a => a.headers.get("x-cache"))).toEqual(Array(LIMIT - 1).fill("HIT"));
		expect(answers.map(a => a.headers.get("x-rate-limit-remaining"))).toEqual(["4", "3", "2", "1", "0"]);
		expect(answers[LIMIT - 1].headers.get("x-rate-limit-limit")).toBe(String(LIMIT));
		expect(Number(answers[LIMIT - 1].headers.get("x-rate-limit-reset"))).toBeGreaterThan(Date.now());

		const over = await get("/api/v1/products", client);
		expect(over.status).toBe(429);
		expect(over.headers.get("x-rate-limit-remaining")).toBe("0");
		expect(over.headers.get("x-cache")).toBeNull();
		expect(over.body).toMatchObject({ code: 429, type: "RATE_LIMITED", data: { retry_after: Number(over.headers.get("retry-after")) } });
		// Another client still has its budget and gets the cached answer.
		expect((await get("/api/v1/products", "203.0.113.8")).headers.get("x-cache")).toBe("HIT");
	});

	it("holds at most GATEWAY_CACHE_MAX_ENTRIES answers and evicts the oldest first", async () => {
		const cache = cacheOf(shop);
		cache.clear();
		const state = async (path: string, client: string): Promise<string | null> => (await get(path, client)).headers.get("x-cache");
		expect(await state("/api/v1/products?page=1", "198.51.100.1")).toBe("MISS");
		expect(await state("/api/v1/products?page=2", "198.51.100.1")).toBe("MISS");
		expect(await state("/api/v1/products?page=3", "198.51.100.1")).toBe("MISS");
		expect(cache.size).toBe(2);
		expect(await state("/api/v1/products?page=3", "198.51.100.2")).toBe("HIT");
		expect(await state("/api/v1/products?page=2", "198.51.100.2")).toBe("HIT");
		expect(await state("/api/v1/products?page=1", "198.51.100.2")).toBe("MISS");
		expect(cache.size).toBe(2);
	});
});
