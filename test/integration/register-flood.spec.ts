/**
 * A flood of sign-ups must not stall login (audit D3): every sign-up hashes a password with scrypt on libuv's
 * small thread pool, and 60 of them at once queued a concurrent login's hash behind them all (17.6 s instead of
 * 0.2 s). Sign-ups hash a few at a time, so a login always finds a free thread.
 */
import { http, loginAdmin, startShop, type Shop } from "../helpers/shop";

describe("a flood of registrations and a login", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["api", "users"], { NAMESPACE: `t-reg-flood-${Date.now()}-${Math.random()}` });
		await loginAdmin(shop.url, shop.config); // the admin account exists and its hash is warm
	});
	afterAll(() => shop.stop());

	it("keeps a login fast while 60 registrations run, and registers them all", async () => {
		const tag = Date.now();
		const flood = Promise.all(
			Array.from({ length: 60 }, (_, i) =>
				http(shop.url, "POST", "/api/v1/users/register", { body: { email: `flood-${tag}-${i}@example.com`, password: "correct-horse-battery", name: "Flood" } }),
			),
		);
		await new Promise(r => setTimeout(r, 100)); // the sign-ups are queued
		const t0 = Date.now();
		await loginAdmin(shop.url, shop.config);
		const loginMs = Date.now() - t0;
		const t1 = Date.now();
		const statuses = (await flood).map(r => r.status);
		const floodMs = Date.now() - t1 + loginMs;
		expect(statuses).toEqual(Array(60).fill(201));
		process.stdout.write(`login during 60 registrations: ${loginMs} ms; the registrations: ${floodMs} ms\n`);
		// One hash takes about 0.1-0.3 s here; behind 60 of them the login took many seconds.
		expect(loginMs).toBeLessThan(Math.max(1500, floodMs / 4));
	}, 120_000);
});
