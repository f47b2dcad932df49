import { DECLINED_TOKEN, ERROR_TOKEN, GatewayUnavailableError, SimulatedGateway } from "../../../../services/payments/gateway";

describe("SimulatedGateway", () => {
	const gateway = new SimulatedGateway({ minLatencyMs: 0, maxLatencyMs: 1 });

	it("charges an ordinary token and answers the same charge for the same idempotency key", async () => {
		const a = await gateway.charge({ idempotency_key: "k1", token: "card-456", amount_cents: 1000, currency: "USD" });
		const b = await gateway.charge({ idempotency_key: "k1", token: "card-456", amount_cents: 1000, currency: "USD" });
		expect(a).toEqual({ approved: true, charge_id: expect.stringMatching(/^ch_/) });
		expect(b).toEqual(a);
	});

	it("declines card-declined as an answer, not an error", async () => {
		const res = await gateway.charge({ idempotency_key: "k2", token: DECLINED_TOKEN, amount_cents: 1000, currency: "USD" });
		expect(res).toMatchObject({ approved: false, decline_code: "card_declined" });
	});

	it("throws like a gateway that is down for card-error", async () => {
		await expect(gateway.charge({ idempotency_key: "k3", token: ERROR_TOKEN, amount_cents: 1000, currency: "USD" })).rejects.toBeInstanceOf(
			GatewayUnavailableError,
		);
	});

	it("refunds once per idempotency key", async () => {
		const a = await gateway.refund({ idempotency_key: "r1", charge_id: "ch_1", amount_cents: 1000 });
		const b = await gateway.refund({ idempotency_key: "r1", charge_id: "ch_1", amount_cents: 1000 });
		expect(b.refund_id).toBe(a.refund_id);
	});

	it("takes a few milliseconds like a remote call", async () => {
		const slow = new SimulatedGateway({ minLatencyMs: 5, maxLatencyMs: 5 });
		const t0 = Date.now();
		await slow.charge({ idempotency_key: "k4", token: "card-456", amount_cents: 1, currency: "USD" });
		expect(Date.now() - t0).toBeGreaterThanOrEqual(4);
	});
});
