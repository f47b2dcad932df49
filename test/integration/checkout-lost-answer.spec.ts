import { Errors, type ServiceSchema } from "moleculer";
import { http, startShop, type Shop } from "../helpers/shop";

/**
 * A checkout whose answer is lost between the gateway and the checkout node (the node left the cluster in a NATS
 * outage, or the call timed out): the order may exist, so the customer is told that the outcome is unknown and to
 * send the same request again (their cart or Idempotency-Key claim answers it with the same order), never a plain
 * "unavailable" that reads as "nothing happened".
 */
describe("a checkout whose answer was lost", () => {
	let shop: Shop;
	let mode: "timeout" | "rejected" | "down" = "timeout";

	const stand_in: ServiceSchema = {
		name: "checkout",
		actions: {
			start: {
				timeout: 300,
				retryPolicy: { enabled: false },
				handler() {
					if (mode === "rejected") throw new Errors.RequestRejectedError({ action: "checkout.start", nodeID: "checkout-node" });
					if (mode === "down") throw new Errors.ServiceNotAvailableError({ action: "checkout.start", nodeID: "checkout-node" });
					return new Promise(() => undefined);
				},
			},
		},
	};

	beforeAll(async () => {
		shop = await startShop(["api"]);
		shop.broker.createService(stand_in);
		await shop.broker.waitForServices(["checkout"]);
	});
	afterAll(() => shop.stop());

	it.each(["timeout", "rejected"] as const)("answers 503 CHECKOUT_OUTCOME_UNKNOWN with Retry-After when the call %s", async m => {
		mode = m;
		const res = await http<{ type: string; message: string }>(shop.url, "POST", "/api/v1/checkout", { body: { shipping_address: "1 Main St", payment_method: "card-456" } });
		expect(res.status).toBe(503);
		expect(res.body.type).toBe("CHECKOUT_OUTCOME_UNKNOWN");
		expect(res.body.message).toMatch(/same request again/);
		expect(res.headers.get("retry-after")).toBe("1");
	});

	it("keeps the plain 503 SERVICE_UNAVAILABLE when no checkout node took the request", async () => {
		mode = "down";
		const res = await http<{ type: string }>(shop.url, "POST", "/api/v1/checkout", { body: { shipping_address: "1 Main St", payment_method: "card-456" } });
		expect(res.status).toBe(503);
		expect(res.body.type).toBe("SERVICE_UNAVAILABLE");
	});
});
