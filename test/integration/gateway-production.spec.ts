import os from "node:os";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { ServiceBroker } from "moleculer";
import { createShopBroker } from "../../config/boot/broker";
import { GatewayPrometheusReporter } from "../../config/boot/metrics-reporter";
import { http, loginAdmin, registerCustomer, startShop, testConfig, type Shop } from "../helpers/shop";

/** What a production deployment must set; everything else is left at its production default. */
const PRODUCTION = { NODE_ENV: "production", JWT_SECRET: "a-production-secret-of-at-least-32-chars", ADMIN_PASSWORD: "a-strong-admin-pass", EVENTS_SIGNING_KEY: "e".repeat(40), DATA_DIR: "memory" };

describe("a production gateway's defaults", () => {
	let shop: Shop;
	const logged: string[] = [];
	const spies: jest.SpyInstance[] = [];

	beforeAll(async () => {
		for (const method of ["log", "info", "warn", "error"] as const)
			spies.push(jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" "))));
		shop = await startShop(["api", "users"], PRODUCTION);
	});
	afterAll(async () => {
		await shop.stop();
		for (const s of spies) s.mockRestore();
	});

	it("sends no CORS headers to a foreign origin until CORS_ORIGINS is set", async () => {
		const res = await http(shop.url, "GET", "/api/v1/account/profile", { headers: { origin: "https://evil.example" } });
		expect(res.headers.get("access-control-allow-origin")).toBeNull();
	});

	it("answers a malformed gzip body with 400 and logs no stack trace", async () => {
		logged.length = 0;
		const res = await fetch(`${shop.url}/api/v1/users/login`, {
			method: "POST",
			headers: { "content-type": "application/json", "content-encoding": "gzip" },
			body: "not gzip at all",
		});
		expect(res.status).toBe(400);
		expect(logged.join("\n")).not.toMatch(/\n\s+at |"stack"|incorrect header check/);
	});
});

describe("CORS_ORIGINS in production", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["api", "users"], { ...PRODUCTION, CORS_ORIGINS: "https://shop.example" });
	});
	afterAll(() => shop.stop());

	it("lets the listed origin in and refuses any other", async () => {
		const ok = await http(shop.url, "GET", "/api/v1/account/profile", { headers: { origin: "https://shop.example" } });
		expect(ok.headers.get("access-control-allow-origin")).toBe("https://shop.example");
		const foreign = await http(shop.url, "GET", "/api/v1/account/profile", { headers: { origin: "https://evil.example" } });
		expect(foreign.status).toBe(403);
		expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
	});
});

describe("fault injection on a production shop with CHAOS_ENABLED=true", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["api", "users"], { ...PRODUCTION, CHAOS_ENABLED: "true" });
	});
	afterAll(() => shop.stop());

	it("refuses an anonymous behavior with 401 and a customer's with 403, naming why", async () => {
		const anonymous = await http(shop.url, "POST", "/api/v1/users/login?behavior=users:error=503", { body: { email: "a@example.com", password: "whatever1" } });
		expect(anonymous.status).toBe(401);
		expect(anonymous.body).toMatchObject({ type: "BEHAVIOR_NEEDS_ADMIN", message: expect.stringContaining("admin") });
		const customer = await registerCustomer(shop.url);
		const asCustomer = await http(shop.url, "GET", "/api/v1/account/profile?behavior=users:error=503", { token: customer.token });
		expect(asCustomer.status).toBe(403);
		expect(asCustomer.body.type).toBe("BEHAVIOR_NEEDS_ADMIN");
	});

	it("applies an admin's behavior", async () => {
		const admin = await loginAdmin(shop.url, shop.config);
		const res = await http(shop.url, "GET", "/api/v1/account/profile?behavior=users:error=503", { token: admin });
		expect(res.status).toBe(503);
	});
});

describe("fault injection with CHAOS_PUBLIC=true, and in development", () => {
	const shops: Shop[] = [];
	afterAll(async () => {
		for (const s of shops) await s.stop();
	});

	it.each([
		["production with CHAOS_PUBLIC=true", { ...PRODUCTION, CHAOS_ENABLED: "true", CHAOS_PUBLIC: "true" }],
		["development", { NODE_ENV: "development", DATA_DIR: "memory" }],
	])("applies an anonymous behavior in %s", async (_name, env) => {
		const shop = await startShop(["api", "users"], env);
		shops.push(shop);
		const res = await http(shop.url, "POST", "/api/v1/users/login?behavior=users:error=503", { body: { email: "a@example.com", password: "whatever1" } });
		expect(res.status).toBe(503);
	});
});

describe("GET /metrics", () => {
	let broker: ServiceBroker;
	let url: string;
	const token = "metrics-token-0123456789abcdef";

	beforeAll(async () => {
		// Moleculer collects process and host metrics everywhere but under NODE_ENV=test: switched on as in a deployment.
		const config = testConfig({ ...PRODUCTION, PORT: "0", METRICS_TOKEN: token });
		broker = createShopBroker({
			config,
			services: ["api"],
			broker: { metrics: { enabled: true, collectProcessMetrics: true, reporter: [new GatewayPrometheusReporter() as unknown as "Prometheus"] } },
		});
		await broker.start();
		const api = broker.getLocalService("api") as unknown as { server: Server };
		url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
	});
	afterAll(() => broker.stop());

	it("needs METRICS_TOKEN when it is set", async () => {
		expect((await http(url, "GET", "/metrics")).status).toBe(401);
		expect((await http(url, "GET", "/metrics", { token: "wrong" })).status).toBe(401);
		expect((await http(url, "GET", "/metrics", { token })).status).toBe(200);
	});

	it("leaves out the user name, home directory, host name and network addresses, and keeps the memory figures", async () => {
		const text = (await http<string>(url, "GET", "/metrics", { token })).body;
		expect(text).toMatch(/^process_memory_rss \d+/m);
		expect(text).toMatch(/^os_memory_total \d+/m);
		const user = os.userInfo();
		for (const series of ["os_user_username{", "os_user_homedir{", "os_hostname{", "os_release{", "os_network_address{", "os_network_mac{", "process_arguments{"])
			expect(text).not.toContain(series);
		expect(text).not.toContain(`"${user.homedir}"`);
		const macs = Object.values(os.networkInterfaces()).flatMap(list => (list ?? []).map(i => i.mac)).filter(m => m !== "00:00:00:00:00:00");
		for (const mac of macs) expect(text).not.toContain(mac);
	});
});
