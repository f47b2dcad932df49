import Redis from "ioredis";
import type { Repository } from "../../mixins/db.mixin";
import { STAGED_EVENTS_FIELD } from "../../mixins/events.mixin";
import type { ApiProduct, ProductDoc } from "../../services/products/model";
import { REDIS_URL, startShop, type Shop } from "../helpers/shop";

const admin = { meta: { user: { id: "admin", email: "admin@example.com", name: "Admin", role: "admin" } } };

describe("product reads cached in the real Redis", () => {
	const ns = `t-catcache-${Date.now()}-${Math.random().toString(36).slice(2)}`;
	let shop: Shop;
	let redis: Redis;
	let repo: Repository<ProductDoc>;
	const cachedKeys = async (): Promise<string[]> => (await redis.keys(`${ns}-cache*products.*`)).sort();

	beforeAll(async () => {
		shop = await startShop(["products"], { REDIS_URL, NAMESPACE: ns });
		redis = new Redis(REDIS_URL);
		await shop.broker.call("products.seedDemo", {});
		repo = (shop.broker.getLocalService("products") as unknown as { collection(n: string): Repository<ProductDoc> }).collection("products");
	});
	afterAll(async () => {
		await shop.broker.cacher?.clean("**");
		redis.disconnect();
		await shop.stop();
	});

	it("uses the Redis cacher", () => {
		expect(shop.broker.cacher?.constructor.name).toBe("RedisCacher");
	});

	it("serves a second read from Redis without touching the store, and an update invalidates it", async () => {
		const findById = jest.spyOn(repo, "findById");
		const reads = (): number => findById.mock.calls.filter(c => c[0] === "sony-a7-iv").length;

		const first = await shop.broker.call<ApiProduct, object>("products.get", { id: "sony-a7-iv" });
		expect(reads()).toBe(1);
		expect(await cachedKeys()).toContainEqual(expect.stringContaining('products.lookup:"sony-a7-iv"'));

		const second = await shop.broker.call<ApiProduct, object>("products.get", { id: "sony-a7-iv" });
		expect(second).toEqual(first);
		expect(reads()).toBe(1);

		await shop.broker.call("products.update", { id: "sony-a7-iv", price: 2199.99 }, admin);
		expect(await cachedKeys()).not.toContainEqual(expect.stringContaining('products.lookup:"sony-a7-iv"'));
		const readsBefore = reads();
		const third = await shop.broker.call<ApiProduct, object>("products.get", { id: "sony-a7-iv" });
		expect(third.price).toBe(2199.99);
		expect(reads()).toBe(readsBefore + 1);
		findById.mockRestore();
	});

	it("caches list pages too and drops them when a product changes", async () => {
		const find = jest.spyOn(repo, "find");
		// The event relay's once-a-second sweep for staged events reads the collection too; count the list's reads.
		const listReads = (): number => find.mock.calls.filter(c => !JSON.stringify(c[0] ?? {}).includes(STAGED_EVENTS_FIELD)).length;
		await shop.broker.call("products.list", { category: "cameras" });
		await shop.broker.call("products.list", { category: "cameras" });
		expect(listReads()).toBe(1);
		expect((await cachedKeys()).some(k => k.includes("products.page:"))).toBe(true);
		await shop.broker.call("products.update", { id: "gopro-hero-12", name: "HERO12 Black" }, admin);
		expect((await cachedKeys()).some(k => k.includes("products.page:"))).toBe(false);
		const page = await shop.broker.call<{ rows: ApiProduct[] }, object>("products.list", { category: "cameras" });
		expect(page.rows.map(r => r.name)).toContain("HERO12 Black");
		expect(listReads()).toBe(2);
		find.mockRestore();
	});
});
