import type { Context, ServiceSchema } from "moleculer";
import { parseBehavior } from "../../services/common/behavior";
import { collectCallChain, type CallRecord } from "../../services/common/call-chain";
import { http, registerCustomer, startShop, type Shop } from "../helpers/shop";

/** Stand-ins named like the real services, so that behaviors address them; the real ones are tested elsewhere. */
const standIns: ServiceSchema[] = [
	{
		name: "orders",
		actions: {
			place: {
				async handler(ctx: Context): Promise<{ ok: boolean }> {
					await ctx.call("payments.charge", {});
					await ctx.call("inventory.reserve", {});
					await ctx.emit("order.created", { order_id: "o1", event_id: `e-${Math.random()}` });
					return { ok: true };
				},
			},
		},
	},
	{ name: "payments", actions: { charge: { handler: (): string => "charged" } } },
	{ name: "inventory", actions: { reserve: { handler: (): string => "reserved" } } },
	{
		name: "notifications",
		events: {
			"order.created": {
				handler(this: { received: number }): void {
					this.received = (this.received ?? 0) + 1;
				},
			},
		},
	},
];

async function chainOf(shop: Shop, traceId: string, minLength = 1): Promise<CallRecord[]> {
	// Event deliveries finish after the call that emitted them: wait until the chain has what we expect.
	for (let i = 0; i < 50; i++) {
		const chain = await collectCallChain(shop.broker, traceId);
		if (chain.length >= minLength) return chain;
		await new Promise(r => setTimeout(r, 20));
	}
	return collectCallChain(shop.broker, traceId);
}

describe("fault injection and call chains", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["api", "users"]);
		for (const schema of standIns) shop.broker.createService(schema);
		await shop.broker.waitForServices(["orders", "payments", "inventory", "notifications"]);
	});
	afterAll(() => shop.stop());

	it("retries an injected 503 and records every attempt, and the saga never reaches the next step", async () => {
		const ctxMeta = { behavior: parseBehavior("payment:error=503:1") };
		const p = shop.broker.call("orders.place", {}, { meta: ctxMeta, requestID: "trace-503" });
		// Retried where it failed; the caller above gets it as final (not retryable), so the chain is not retried again.
		await expect(p).rejects.toMatchObject({ code: 503, type: "INJECTED_FAULT", retryable: false, data: { injected: true, target: "payments" } });
		const chain = await chainOf(shop, "trace-503");
		const payments = chain.filter(c => c.action === "payments.charge");
		expect(payments.length).toBe(4);
		expect(payments.every(c => c.code === 503 && c.fault === "error 503" && c.name === "payments")).toBe(true);
		expect(chain.some(c => c.action === "inventory.reserve")).toBe(false);
		expect(chain.find(c => c.action === "orders.place")).toMatchObject({ code: 503 });
	});

	it("delays the named service by a duration inside the range", async () => {
		const meta = { behavior: parseBehavior("inventory:latency=100-150ms") };
		await shop.broker.call("orders.place", {}, { meta, requestID: "trace-slow" });
		const chain = await chainOf(shop, "trace-slow", 4);
		const inv = chain.find(c => c.action === "inventory.reserve");
		expect(inv?.duration).toBeGreaterThanOrEqual(99);
		expect(inv?.duration).toBeLessThan(400);
		expect(inv?.fault).toMatch(/^latency 1[0-5]\dms$/);
		expect(chain.find(c => c.action === "payments.charge")?.fault).toBeUndefined();
	});

	it("links each call to its parent within the trace", async () => {
		await shop.broker.call("orders.place", {}, { requestID: "trace-tree" });
		const chain = await chainOf(shop, "trace-tree", 4);
		const root = chain.find(c => c.action === "orders.place");
		expect(root?.caller).toBeNull();
		for (const action of ["payments.charge", "inventory.reserve"])
			expect(chain.find(c => c.action === action)?.parent_id).toBe(root?.span_id);
		const delivery = chain.find(c => c.kind === "event");
		expect(delivery).toMatchObject({ name: "message-bus", action: "order.created", consumer: "notifications", code: 200 });
		expect(delivery?.parent_id).toBe(root?.span_id);
	});

	it("fails event deliveries under message-bus errors without touching actions", async () => {
		const meta = { behavior: parseBehavior("message-bus:error=1") };
		await shop.broker.call("orders.place", {}, { meta, requestID: "trace-bus" });
		const chain = await chainOf(shop, "trace-bus", 4);
		expect(chain.find(c => c.kind === "event")).toMatchObject({ code: 500, fault: "error 500" });
		expect(chain.filter(c => c.kind === "action").every(c => c.code === 200)).toBe(true);
	});

	it("counts injected faults in a Prometheus metric", async () => {
		const res = await http<string>(shop.url, "GET", "/metrics");
		expect(res.body).toMatch(/shopflow_faults_injected_total\{[^}]*target="payments"[^}]*fault="error"[^}]*code="503"[^}]*\} [1-9]/);
		expect(res.body).toMatch(/shopflow_faults_injected_total\{[^}]*target="inventory"[^}]*fault="latency"[^}]*\} [1-9]/);
	});

	it("refuses a malformed behavior with 400 naming the token", async () => {
		const res = await http<{ type: string; message: string; data: { token: string } }>(
			shop.url,
			"POST",
			"/api/v1/users/register?behavior=payment:error=0.1,warehouse:latency=10ms",
			{ body: { email: "x@example.com", password: "long-enough", name: "X" } },
		);
		expect(res.status).toBe(400);
		expect(res.body.type).toBe("INVALID_BEHAVIOR");
		expect(res.body.data.token).toBe("warehouse:latency=10ms");
		expect(res.body.message).toContain("warehouse");
		const again = await http(shop.url, "POST", "/api/v1/users/login", { body: { email: "x@example.com", password: "long-enough" } });
		expect(again.status).toBe(401);
	});

	it("answers an overlong behavior briefly: the token once, cut to 100 characters (audit D18)", async () => {
		const long = `payment:latency=${"9".repeat(7000)}ms`;
		const res = await http<{ type: string; message: string; data: { token: string } }>(shop.url, "POST", `/api/v1/users/login?behavior=${long}`, {
			body: { email: "x@example.com", password: "long-enough" },
		});
		expect(res.status).toBe(400);
		expect(res.body.type).toBe("INVALID_BEHAVIOR");
		expect(res.body.data.token).toBe(`${long.slice(0, 100)}… (${long.length} characters)`);
		expect(JSON.stringify(res.body).length).toBeLessThan(600);
	});

	it("applies a behavior from the X-Behavior header through the gateway and exposes the chain by trace id", async () => {
		const res = await http(shop.url, "POST", "/api/v1/users/login", {
			body: { email: `h${Date.now()}@example.com`, password: "long-enough" },
			headers: { "x-behavior": "user-management:error=503:1" },
		});
		expect(res.status).toBe(503);
		const traceId = res.headers.get("x-trace-id") ?? "";
		expect(traceId).not.toBe("");
		const trace = await http<{ calls: CallRecord[] }>(shop.url, "GET", `/api/v1/traces/${traceId}`);
		expect(trace.status).toBe(200);
		// A retryable 503 is tried four times (the broker's retry policy).
		const attempts = trace.body.calls.filter(c => c.action === "users.login");
		expect(attempts.length).toBe(4);
		expect(attempts.every(c => c.code === 503)).toBe(true);
		expect(trace.body.calls.find(c => c.action === "api.rest")?.code).toBe(503);
	});

	it("tries a sign-up once under an injected 503: registering is never retried", async () => {
		const res = await http(shop.url, "POST", "/api/v1/users/register", {
			body: { email: `h${Date.now()}@example.com`, password: "long-enough", name: "H" },
			headers: { "x-behavior": "user-management:error=503:1" },
		});
		expect(res.status).toBe(503);
		const trace = await http<{ calls: CallRecord[] }>(shop.url, "GET", `/api/v1/traces/${res.headers.get("x-trace-id") ?? ""}`);
		expect(trace.body.calls.filter(c => c.action === "users.register")).toHaveLength(1);
	});

	it("spares the gateway's own actions from rules meant for every service", async () => {
		const user = await registerCustomer(shop.url);
		const res = await http(shop.url, "GET", "/api/v1/account/profile?behavior=latency=5ms", { token: user.token });
		expect(res.status).toBe(200);
		const trace = await http<{ calls: CallRecord[] }>(shop.url, "GET", `/api/v1/traces/${res.headers.get("x-trace-id")}`);
		expect(trace.body.calls.find(c => c.action === "users.me")?.fault).toBe("latency 5ms");
		expect(trace.body.calls.find(c => c.action === "api.rest")?.fault).toBeUndefined();
	});

	it("answers 404 for an unknown trace id", async () => {
		const res = await http(shop.url, "GET", "/api/v1/traces/no-such-trace");
		expect(res.status).toBe(404);
	});
});

describe("fault injection in production", () => {
	it("refuses a behavior unless CHAOS_ENABLED=true, and keeps traces for admins", async () => {
		const env = { NODE_ENV: "production", JWT_SECRET: "x".repeat(40), ADMIN_PASSWORD: "admin-password-1", EVENTS_SIGNING_KEY: "e".repeat(40) };
		const shop = await startShop(["api", "users"], env);
		// Never the checkout's ./data: its admin would take the place of the one `npm start` creates.
		expect(shop.config.dataDir).toBeNull();
		try {
			const res = await http<{ type: string; message: string }>(shop.url, "GET", "/api/v1/account/profile?behavior=latency=5ms");
			expect(res.status).toBe(403);
			expect(res.body.type).toBe("BEHAVIOR_DISABLED");
			expect(res.body.message).toContain("CHAOS_ENABLED");
			const trace = await http(shop.url, "GET", `/api/v1/traces/${res.headers.get("x-trace-id")}`);
			expect(trace.status).toBe(401);
		} finally {
			await shop.stop();
		}
		const chaos = await startShop(["api", "users"], { ...env, CHAOS_ENABLED: "true" });
		try {
			const res = await http(chaos.url, "GET", "/api/v1/account/profile?behavior=latency=5ms");
			expect(res.status).toBe(401);
		} finally {
			await chaos.stop();
		}
	});
});
