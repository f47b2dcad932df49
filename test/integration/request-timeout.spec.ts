import { http, registerCustomer, startShop, type Shop } from "../helpers/shop";

/** A read of the customer's profile that the users service answers only after three seconds. */
const SLOW_PROFILE = "/api/v1/account/profile?behavior=users:latency=3s";

describe("REQUEST_TIMEOUT_MS", () => {
	let shop: Shop | undefined;
	afterEach(async () => {
		await shop?.stop();
		shop = undefined;
	});

	it("makes a call slower than the setting answer 504 once the setting has passed", async () => {
		shop = await startShop(["api", "users"], { REQUEST_TIMEOUT_MS: "200" });
		expect(shop.broker.options.requestTimeout).toBe(200);
		// Registering hashes a password (slower than 200 ms on a busy machine): it gets its own time here.
		const user = (await shop.broker.call("users.register", { email: "slow@example.com", password: "correct-horse-battery", name: "Slow" }, { timeout: 30_000 })) as { token: string };
		const started = Date.now();
		const res = await http<{ type?: string }>(shop.url, "GET", SLOW_PROFILE, { token: user.token });
		const took = Date.now() - started;
		expect(res.status).toBe(504);
		expect(res.body.type).toBe("REQUEST_TIMEOUT");
		// A timeout is retryable: four tries of 200 ms and the back-off between them, well before the 3 s latency.
		expect(took).toBeLessThan(2500);
	});

	it("leaves sign-up its own time: a registration slower than the setting answers 201 once, never retried into EMAIL_TAKEN", async () => {
		shop = await startShop(["api", "users"], { REQUEST_TIMEOUT_MS: "200" });
		const res = await http<{ user?: { email: string } }>(shop.url, "POST", "/api/v1/users/register?behavior=users:latency=400ms", {
			body: { email: "burst@example.com", password: "correct-horse-battery", name: "Burst" },
		});
		expect(res.status).toBe(201);
		expect(res.body.user?.email).toBe("burst@example.com");
	});

	it("lets the same slow call through under the default of 10 seconds", async () => {
		shop = await startShop(["api", "users"]);
		expect(shop.broker.options.requestTimeout).toBe(10_000);
		const user = await registerCustomer(shop.url);
		const res = await http(shop.url, "GET", SLOW_PROFILE, { token: user.token });
		expect(res.status).toBe(200);
	});
});
