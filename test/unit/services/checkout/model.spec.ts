import { bodyHash, canonicalJson, checkoutResponse, checkoutStatus, isValidIdempotencyKey, repriceLines, wantsAsync } from "../../../../services/checkout/model";

const step = (name: string, status: string, error?: object) => ({ name, status, duration: 3, ...(error ? { error } : {}) });
const result = (status: string, failure_reason: string | null, steps: ReturnType<typeof step>[], outcome: { failure_reason: string | null; http_status: number } | null = null) => ({
	order: { id: "ord_1", status, failure_reason, items: [] },
	saga: { id: "saga_1", status: "COMPENSATED", steps },
	outcome,
});
const declined = { code: 402, type: "PAYMENT_DECLINED", message: "declined", retryable: false, kind: "business" };
const gatewayDown = { code: 503, type: "PAYMENT_GATEWAY_UNAVAILABLE", message: "down", retryable: true, kind: "technical" };
const outOfStock = { code: 409, type: "INSUFFICIENT_STOCK", message: "none", retryable: false, kind: "business" };

describe("checkout model", () => {
	it("fingerprints a body independently of key order and ignores other fields", () => {
		expect(canonicalJson({ b: 1, a: { d: 2, c: [3] } })).toBe('{"a":{"c":[3],"d":2},"b":1}');
		expect(bodyHash({ payment_method: "card-456", shipping_address: { street: "x", city: "y" } })).toBe(
			bodyHash({ shipping_address: { city: "y", street: "x" }, payment_method: "card-456" }),
		);
		expect(bodyHash({ payment_method: "card-456", shipping_address: "x" })).not.toBe(bodyHash({ payment_method: "card-789", shipping_address: "x" }));
	});

	it("accepts visible ASCII idempotency keys up to 200 characters", () => {
		expect(isValidIdempotencyKey("order-2024-0001")).toBe(true);
		expect(isValidIdempotencyKey("")).toBe(false);
		expect(isValidIdempotencyKey("has space")).toBe(false);
		expect(isValidIdempotencyKey("x".repeat(201))).toBe(false);
	});

	it("recognises Prefer: respond-async among other preferences", () => {
		expect(wantsAsync("respond-async")).toBe(true);
		expect(wantsAsync("return=minimal, respond-async")).toBe(true);
		expect(wantsAsync("wait=10")).toBe(false);
		expect(wantsAsync(undefined)).toBe(false);
	});

	it("re-prices lines from the catalog and never from the client", () => {
		const rows = [{ id: "a", name: "A", price_cents: 250, currency: "USD", active: true }];
		expect(repriceLines([{ product_id: "a", quantity: 3 }], rows)).toEqual({
			ok: true,
			items: [{ product_id: "a", name: "A", price_cents: 250, quantity: 3 }],
			currency: "USD",
			total_cents: 750,
		});
	});

	it("names the product that can no longer be sold", () => {
		const rows = [
			{ id: "a", name: "A", price_cents: 250, currency: "USD", active: true },
			{ id: "b", name: "B", price_cents: 1, currency: "USD", active: false },
			{ id: "c", name: "C", price_cents: 1, currency: "EUR", active: true },
		];
		expect(repriceLines([{ product_id: "a", quantity: 1 }, { product_id: "x", quantity: 1 }], rows)).toEqual({ ok: false, product_id: "x", reason: "unknown" });
		expect(repriceLines([{ product_id: "b", quantity: 1 }], rows)).toEqual({ ok: false, product_id: "b", reason: "inactive" });
		expect(repriceLines([{ product_id: "a", quantity: 1 }, { product_id: "c", quantity: 1 }], rows)).toEqual({ ok: false, product_id: "c", reason: "currency" });
	});

	it.each([
		["a shipped order", result("SHIPPED", null, [step("payment", "DONE"), step("inventory", "DONE"), step("shipping", "DONE")]), 201],
		["an accepted pending order", result("PENDING", null, [step("payment", "PENDING")]), 202],
		["a declined card", result("FAILED", "PAYMENT_ERROR", [step("payment", "FAILED", declined)], { failure_reason: "PAYMENT_ERROR", http_status: 402 }), 402],
		["a gateway that stayed down", result("FAILED", "PAYMENT_ERROR", [step("payment", "FAILED", gatewayDown)], { failure_reason: "PAYMENT_ERROR", http_status: 503 }), 503],
		["stock that ran out", result("FAILED", "OUT_OF_STOCK", [step("payment", "COMPENSATED"), step("inventory", "FAILED", outOfStock)], { failure_reason: "OUT_OF_STOCK", http_status: 409 }), 409],
		["inventory that stayed down", result("FAILED", "INVENTORY_UNAVAILABLE", [step("payment", "COMPENSATED"), step("inventory", "FAILED", { code: 503, retryable: true })], { failure_reason: "INVENTORY_UNAVAILABLE", http_status: 503 }), 503],
		["a cancelled order", result("CANCELLED", null, [], { failure_reason: null, http_status: 409 }), 409],
		["an order still undoing a declined payment", result("COMPENSATING", null, [step("payment", "COMPENSATING", declined)], { failure_reason: "PAYMENT_ERROR", http_status: 402 }), 402],
		["an order still undoing a gateway outage", result("COMPENSATING", null, [step("payment", "COMPENSATING", gatewayDown)], { failure_reason: "PAYMENT_ERROR", http_status: 503 }), 503],
		["an order still refunding after stock ran out", result("COMPENSATING", null, [step("payment", "COMPENSATING"), step("inventory", "FAILED", outOfStock)], { failure_reason: "OUT_OF_STOCK", http_status: 409 }), 409],
		["an order still being paid", result("PAID", null, [step("payment", "DONE"), step("inventory", "RUNNING")]), 202],
	])("answers %s with the right status", (_what, res, status) => {
		expect(checkoutStatus(res)).toBe(status);
	});

	it("answers with the status orders declares for the outcome, never one read from step names or step errors", () => {
		// A step named like the payment, failing like a decline: the outcome orders computed is what counts.
		expect(checkoutStatus(result("FAILED", "SHIPPING_ERROR", [step("payment", "FAILED", declined)], { failure_reason: "SHIPPING_ERROR", http_status: 503 }))).toBe(503);
		expect(checkoutStatus(result("COMPENSATING", null, [step("payment", "COMPENSATING", gatewayDown)], { failure_reason: "PAYMENT_ERROR", http_status: 402 }))).toBe(402);
	});

	it("answers 409 for an order that did not go through and came without an outcome", () => {
		expect(checkoutStatus(result("FAILED", "PAYMENT_ERROR", [step("payment", "FAILED", declined)]))).toBe(409);
	});

	it("builds the response body with saga steps, trace id, duration and upstream calls", () => {
		const body = checkoutResponse(result("FAILED", "PAYMENT_ERROR", [step("payment", "FAILED", declined)]), "trace-1", 12, [
			{ name: "payments", action: "payments.charge", code: 402, duration: 4 },
		]);
		expect(body).toEqual({
			order: { id: "ord_1", status: "FAILED", failure_reason: "PAYMENT_ERROR", items: [] },
			saga: { id: "saga_1", status: "COMPENSATED", steps: [{ name: "payment", status: "FAILED", duration: 3, error: { code: 402, type: "PAYMENT_DECLINED", message: "declined", retryable: false } }] },
			trace_id: "trace-1",
			duration: 12,
			upstream_calls: [{ name: "payments", action: "payments.charge", code: 402, duration: 4 }],
		});
	});
});
