import { gzipSync } from "node:zlib";
import { http, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface TraceBody {
	trace_id: string;
	calls: Array<{ name: string; action: string; code: number; correlation?: string }>;
}

/** One raw request: headers may repeat (an array of pairs), the body is sent as given. */
async function raw(base: string, method: string, path: string, headers: Array<[string, string]>, body?: Buffer | string) {
	const res = await fetch(base + path, { method, headers, body });
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

describe("the gateway with bad input and hostile headers", () => {
	let shop: Shop;
	const logged: string[] = [];
	const spies: jest.SpyInstance[] = [];

	beforeAll(async () => {
		for (const method of ["log", "info", "warn", "error"] as const)
			spies.push(jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" "))));
		shop = await startShop(["api", "users"]);
	});
	afterAll(async () => {
		await shop.stop();
		for (const s of spies) s.mockRestore();
	});

	it.each(["gzip", "deflate"])("answers 400 for a malformed %s body, logs no error, and still reads a good one", async encoding => {
		logged.length = 0;
		const json: Array<[string, string]> = [["content-type", "application/json"]];
		const bad = await raw(shop.url, "POST", "/api/v1/users/login", [...json, ["content-encoding", encoding]], "this is not compressed");
		expect(bad.status).toBe(400);
		expect(bad.body).toMatchObject({ code: 400, type: "UNREADABLE_BODY" });
		expect(logged.join("\n")).not.toMatch(/incorrect header check|Request error|\n\s+at /);
		const good = await raw(shop.url, "POST", "/api/v1/users/login", [...json, ["content-encoding", "gzip"]], gzipSync(JSON.stringify({ email: "x@example.com", password: "whatever1" })));
		expect(good.status).toBe(401);
	});

	it("answers 401 (not a validation error) for a bearer token over 4,096 characters", async () => {
		const res = await http(shop.url, "GET", "/api/v1/account/profile", { token: "a".repeat(5000) });
		expect(res.status).toBe(401);
		expect(res.body.type).toBe("INVALID_TOKEN");
	});

	it("marks every answer nosniff and an authenticated one no-store", async () => {
		const customer = await registerCustomer(shop.url);
		const anonymous = await http(shop.url, "GET", "/health/live");
		const failed = await http(shop.url, "GET", "/api/v1/account/profile");
		const signedIn = await http(shop.url, "GET", "/api/v1/account/profile", { token: customer.token });
		for (const res of [anonymous, failed, signedIn]) expect(res.headers.get("x-content-type-options")).toBe("nosniff");
		expect(signedIn.headers.get("cache-control")).toBe("no-store");
		expect(anonymous.headers.get("cache-control")).toBeNull();
	});

	it("echoes a client's X-Request-ID once, apart from a trace id of its own", async () => {
		const res = await raw(shop.url, "GET", "/health/live", [["x-request-id", "client-req-42"]]);
		expect(res.headers.get("x-request-id")).toBe("client-req-42");
		expect(res.headers.get("x-trace-id")).toMatch(/^[0-9a-f-]{36}$/);
	});

	it("does not echo an X-Request-ID that is too long or sent twice", async () => {
		const long = await raw(shop.url, "GET", "/health/live", [["x-request-id", "x".repeat(3000)]]);
		expect(long.headers.get("x-request-id")).toBe(long.headers.get("x-trace-id"));
		const twice = await raw(shop.url, "GET", "/health/live", [
			["x-request-id", "first-id"],
			["x-request-id", "second-id"],
		]);
		expect(twice.headers.get("x-request-id")).toBe(twice.headers.get("x-trace-id"));
		expect(twice.headers.get("x-request-id")).not.toContain("first-id");
	});

	it("never lets a client's X-Request-ID write into another request's trace, and shows it as the correlation", async () => {
		const victim = await http(shop.url, "POST", "/api/v1/users/login", { body: { email: "v@example.com", password: "whatever1" } });
		const victimTrace = victim.headers.get("x-trace-id") as string;
		const intruder = await http(shop.url, "POST", "/api/v1/users/login", {
			headers: { "x-request-id": victimTrace },
			body: { email: "i@example.com", password: "whatever1" },
		});
		expect(intruder.headers.get("x-trace-id")).not.toBe(victimTrace);
		const victimChain = await http<TraceBody>(shop.url, "GET", `/api/v1/traces/${victimTrace}`);
		expect(victimChain.body.calls.filter(c => c.action === "users.login")).toHaveLength(1);
		const intruderChain = await http<TraceBody>(shop.url, "GET", `/api/v1/traces/${intruder.headers.get("x-trace-id")}`);
		expect(intruderChain.body.calls.length).toBeGreaterThan(0);
		expect(intruderChain.body.calls.every(c => c.correlation === victimTrace)).toBe(true);
	});

	it("shows in the gateway's own row of a trace the status the client received", async () => {
		const created = await http(shop.url, "POST", "/api/v1/users/register", { body: { email: `row-${Date.now()}@example.com`, password: "long-enough", name: "Row" } });
		expect(created.status).toBe(201);
		const refused = await http(shop.url, "GET", "/api/v1/account/profile", { token: "a.b.c" });
		expect(refused.status).toBe(401);
		for (const res of [created, refused]) {
			const chain = await http<TraceBody>(shop.url, "GET", `/api/v1/traces/${res.headers.get("x-trace-id")}`);
			expect(chain.body.calls.find(c => c.action === "api.rest")?.code).toBe(res.status);
		}
	});
});

describe("the gateway's rate limit", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["api", "users", "products"], { RATE_LIMIT_PER_MINUTE: "2" });
	});
	afterAll(() => shop.stop());

	it("answers 429 with Retry-After once a client is over its budget", async () => {
		const statuses: number[] = [];
		let last: Headers | undefined;
		for (let i = 0; i < 3; i++) {
			const res = await http(shop.url, "GET", "/api/v1/account/profile");
			statuses.push(res.status);
			last = res.headers;
		}
		expect(statuses).toEqual([401, 401, 429]);
		expect(Number(last?.get("retry-after"))).toBeGreaterThanOrEqual(1);
		expect(Number(last?.get("retry-after"))).toBeLessThanOrEqual(60);
	});

	it("answers the 429 in the one error shape: type RATE_LIMITED and data.retry_after equal to Retry-After (audit D6)", async () => {
		const res = await http<{ name: string; message: string; code: number; type: string; data: { retry_after: number } }>(shop.url, "GET", "/api/v1/products");
		expect(res.status).toBe(429);
		expect(res.body).toMatchObject({ code: 429, type: "RATE_LIMITED", data: { retry_after: Number(res.headers.get("retry-after")) } });
		expect(res.body.message).toMatch(/retry after \d+ s/);
	});
});
