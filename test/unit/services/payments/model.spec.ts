import { decideExistingCharge, netChargedCents, newPayment, sameCharge, toPaymentView, toRefundResult, type PaymentDoc } from "../../../../services/payments/model";

const input = { order_id: "o1", user_id: "u1", amount_cents: 1999, currency: "USD", idempotency_key: "k" };
const doc = (over: Partial<PaymentDoc> = {}): PaymentDoc => ({ ...newPayment("pay_1", input, new Date(1_000_000)), ...over });

describe("payments model", () => {
	it("starts a payment as a PENDING claim with one history entry", () => {
		expect(doc()).toMatchObject({ status: "PENDING", claimed_at: 1_000_000, attempts: 1, history: [{ status: "PENDING" }] });
	});

	it("names the field that differs when an idempotency key is reused for another charge", () => {
		expect(sameCharge(doc(), input)).toBeNull();
		expect(sameCharge(doc(), { ...input, amount_cents: 1 })).toBe("amount_cents");
		expect(sameCharge(doc(), { ...input, order_id: "o2" })).toBe("order_id");
	});

	it.each([
		["CAPTURED", 0, "settled"],
		["REFUNDED", 0, "settled"],
		["DECLINED", 0, "declined"],
		["FAILED", 0, "retry"],
		["PENDING", 100, "wait"],
		["PENDING", 20_000, "retry"],
	] as const)("decides what a repeated charge does with a %s payment %d ms old: %s", (status, age, decision) => {
		expect(decideExistingCharge(doc({ status }), 1_000_000 + age, 15_000)).toBe(decision);
	});

	it("counts captured money minus refunds as the net charge", () => {
		const rows = [doc({ status: "CAPTURED" }), doc({ status: "REFUNDED" }), doc({ status: "DECLINED" }), doc({ status: "REFUNDING" })];
		expect(netChargedCents(rows)).toBe(2 * 1999);
		expect(netChargedCents([])).toBe(0);
	});

	it("shows decimal money and hides the claim bookkeeping", () => {
		const view = toPaymentView(doc({ status: "CAPTURED" }));
		expect(view).toMatchObject({ amount: 19.99, amount_cents: 1999, refunded_amount: 0 });
		expect(view).not.toHaveProperty("claimed_at");
		expect(view).not.toHaveProperty("idempotency_key");
	});

	it("answers a refund of a payment that never captured with nothing given back", () => {
		expect(toRefundResult(doc({ status: "DECLINED" }))).toEqual({ refund_id: null, payment_id: "pay_1", status: "NOT_CAPTURED", amount_cents: 0 });
	});
});
