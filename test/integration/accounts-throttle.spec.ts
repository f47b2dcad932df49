import Redis from "ioredis";
import type { DbMethods } from "../../mixins/db.mixin";
import { newUser, type UserDoc } from "../../services/users/model";
import { HASH_COST, hashCost, hashPassword } from "../../services/users/password";
import { http, REDIS_URL, registerCustomer, startShop, type Shop } from "../helpers/shop";

const THROTTLE = { LOGIN_MAX_FAILURES: "3", LOGIN_LOCK_SECONDS: "30", LOGIN_MAX_FAILURES_PER_ADDRESS: "5", TRUST_PROXY: "true" };

/** A client address of its own for each test, so that the per-address count of one test does not reach another. */
let lastOctet = 10;
const fromNewAddress = (): Record<string, string> => ({ "x-forwarded-for": `203.0.113.${lastOctet++}` });

async function login(base: string, email: string, password: string, headers: Record<string, string>) {
	return http(base, "POST", "/api/v1/users/login", { headers, body: { email, password } });
}

describe("login and password-change throttling", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["api", "users"], THROTTLE);
	});
	afterAll(() => shop.stop());

	it("locks an account after three wrong passwords with 429 and Retry-After, even for the right password", async () => {
		const headers = fromNewAddress();
		const { email } = await registerCustomer(shop.url);
		const statuses: number[] = [];
		for (let i = 0; i < 3; i++) statuses.push((await login(shop.url, email, "wrong-password", headers)).status);
		const locked = await login(shop.url, email, "correct-horse-battery", headers);
		expect([...statuses, locked.status]).toEqual([401, 401, 401, 429]);
		expect(locked.body.type).toBe("TOO_MANY_ATTEMPTS");
		const retryAfter = Number(locked.headers.get("retry-after"));
		expect(retryAfter).toBeGreaterThanOrEqual(1);
		expect(retryAfter).toBeLessThanOrEqual(30);
		// Another client address does not unlock the account.
		expect((await login(shop.url, email, "correct-horse-battery", fromNewAddress())).status).toBe(429);
	});

	it("answers an unknown email exactly like a known one, before and after the lock", async () => {
		const { email } = await registerCustomer(shop.url);
		const series = async (address: string, headers: Record<string, string>) => {
			const out: Array<{ status: number; body: unknown }> = [];
			for (let i = 0; i < 4; i++) {
				const res = await login(shop.url, address, "wrong-password", headers);
				out.push({ status: res.status, body: res.body });
			}
			return out;
		};
		const known = await series(email, fromNewAddress());
		const unknown = await series(`nobody-${Date.now()}@example.com`, fromNewAddress());
		expect(known.map(k => k.status)).toEqual([401, 401, 401, 429]);
		expect(unknown).toEqual(known);
	});

	it("throttles password changes of an account, and its logins with them", async () => {
		const headers = fromNewAddress();
		const { token, email } = await registerCustomer(shop.url);
		const change = (current: string) => http(shop.url, "PUT", "/api/v1/account/profile", { token, headers, body: { password: "a-brand-new-pass", current_password: current } });
		for (let i = 0; i < 3; i++) expect((await change("not-my-password")).status).toBe(422);
		const locked = await change("correct-horse-battery");
		expect(locked.status).toBe(429);
		expect(Number(locked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
		expect((await login(shop.url, email, "correct-horse-battery", fromNewAddress())).status).toBe(429);
	});

	it("locks a client address that guesses many accounts, and no other address", async () => {
		const headers = fromNewAddress();
		for (let i = 0; i < 5; i++) expect((await login(shop.url, `guess${i}-${Date.now()}@example.com`, "wrong-password", headers)).status).toBe(401);
		const locked = await login(shop.url, `guess-next-${Date.now()}@example.com`, "wrong-password", headers);
		expect(locked.status).toBe(429);
		expect(locked.headers.get("retry-after")).not.toBeNull();
		expect((await login(shop.url, `guess-next-${Date.now()}@example.com`, "wrong-password", fromNewAddress())).status).toBe(401);
	});

	it("replaces a hash of the older cost at the next successful login", async () => {
		const users = shop.broker.getLocalService("users") as unknown as DbMethods;
		const oldHash = await hashPassword("an-old-password", { N: 16384, r: 8, p: 1 });
		const email = `legacy-${Date.now()}@example.com`;
		const stored = await users.collection<UserDoc>("users").insert(newUser(email, "Legacy", oldHash, "customer"));
		expect((await login(shop.url, email, "an-old-password", fromNewAddress())).status).toBe(200);
		const upgraded = (await users.collection<UserDoc>("users").findById(stored.id))?.password_hash ?? "";
		expect(hashCost(upgraded)).toEqual(HASH_COST);
		expect((await login(shop.url, email, "an-old-password", fromNewAddress())).status).toBe(200);
	});
});

describe("login throttling across gateway nodes sharing Redis", () => {
	const namespace = `t-throttle-${process.pid}-${Date.now()}`;
	let redis: Redis;
	let a: Shop;
	let b: Shop;

	beforeAll(async () => {
		redis = new Redis(REDIS_URL);
		const env = { ...THROTTLE, REDIS_URL, NAMESPACE: namespace };
		a = await startShop(["api", "users"], env, `throttle-a-${process.pid}`);
		b = await startShop(["api", "users"], env, `throttle-b-${process.pid}`);
	});
	afterAll(async () => {
		await a?.stop();
		await b?.stop();
		const keys = await redis?.keys(`${namespace}*`);
		if (keys?.length) await redis.del(...keys);
		redis?.disconnect();
	});

	it("counts an account's failures on every node and locks it on all of them", async () => {
		const email = "shared-guess@example.com";
		const statuses: number[] = [];
		for (const base of [a.url, b.url, a.url, b.url]) statuses.push((await login(base, email, "wrong-password", fromNewAddress())).status);
		expect(statuses).toEqual([401, 401, 401, 429]);
		expect((await login(a.url, email, "wrong-password", fromNewAddress())).status).toBe(429);
		expect((await redis.keys(`${namespace}:login:lock:*`)).length).toBeGreaterThan(0);
		// No email address is written into Redis.
		expect((await redis.keys(`${namespace}:*shared-guess*`)).length).toBe(0);
	});
});
