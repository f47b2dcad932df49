import type { ServiceBroker } from "moleculer";
import PaymentsService from "../../../services/payments.service";
import type { PaymentGateway } from "../../../services/payments/gateway";
import { EventsMixin } from "../../../mixins/events.mixin";
import { EVENTS } from "../../../services/common/events";
import { startShop, type Shop } from "../../helpers/shop";

interface PaymentsInternals {
	gateway: PaymentGateway;
}

const noRetry = { retries: 0 };
let seq = 0;
const charge = (over: Record<string, unknown> = {}) => ({
	order_id: `ord_${++seq}`,
	user_id: "u1",
	amount_cents: 2500,
	currency: "USD",
	token: "card-456",
	idempotency_key: `key-${seq}-${Math.random()}`,
	...over,
});

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
	const end = Date.now() + ms;
	while (!check()) {
		if (Date.now() > end) throw new Error("condition not met in time");
		await new Promise(r => setTimeout(r, 10));
	}
}

describe("payments service", () => {
	let shop: Shop;
	let broker: ServiceBroker;
	let gateway: PaymentGateway;
	const events: Array<{ name: string; payload: Record<string, unknown> }> = [];

	beforeAll(async () => {
		shop = await startShop([], { NAMESPACE: `t-pay-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
		broker.createService({
			name: "payments",
			mixins: [PaymentsService],
			settings: { breaker: { volumeThreshold: 3, resetTimeoutMs: 300 }, gateway: { minLatencyMs: 1, maxLatencyMs: 3 } },
		});
		const record = (name: string) => (event: Record<string, unknown>) => {
			events.push({ name, payload: event });
		};
		broker.createService({
			name: "paymentrecorder",
			mixins: [
				EventsMixin({
					handlers: {
						[EVENTS.PAYMENT_PROCESSED]: record(EVENTS.PAYMENT_PROCESSED),
						[EVENTS.PAYMENT_FAILED]: record(EVENTS.PAYMENT_FAILED),
						[EVENTS.PAYMENT_REFUNDED]: record(EVENTS.PAYMENT_REFUNDED),
					},
				}),
			],
		});
		await broker.waitForServices(["payments", "paymentrecorder"]);
		gateway = (broker.getLocalService("payments") as unknown as PaymentsInternals).gateway;
	});
	afterAll(() => shop.stop());
	afterEach(() => jest.restoreAllMocks());

	it("charges once when twenty identical requests arrive at the same time", async () => {
		const spy = jest.spyOn(gateway, "charge");
		const params = charge();
		const results = await Promise.all(Array.from({ length: 20 }, () => broker.call("payments.charge", params, noRetry)));
		const ids = new Set(results.map(r => (r as { payment_id: string }).payment_id));
		expect(ids.size).toBe(1);
		expect(results[0]).toMatchObject({ status: "CAPTURED", amount_cents: 2500, currency: "USD", order_id: params.order_id });
		expect(spy).toHaveBeenCalledTimes(1);
		const list = await broker.call<{ rows: unknown[]; net_charged_cents: number }, object>("payments.listByOrder", { order_id: params.order_id });
		expect(list.rows).toHaveLength(1);
		expect(list.net_charged_cents).toBe(2500);
		await waitFor(() => events.some(e => e.name === "payment.processed" && e.payload.order_id === params.order_id));
	});

	it("answers a declined card with 402 PAYMENT_DECLINED every time, without charging again", async () => {
		const params = charge({ token: "card-declined" });
		await expect(broker.call("payments.charge", params, noRetry)).rejects.toMatchObject({ code: 402, type: "PAYMENT_DECLINED", retryable: false });
		const spy = jest.spyOn(gateway, "charge");
		await expect(broker.call("payments.charge", params, noRetry)).rejects.toMatchObject({ code: 402 });
		expect(spy).not.toHaveBeenCalled();
		const list = await broker.call<{ rows: Array<{ status: string }>; net_charged_cents: number }, object>("payments.listByOrder", { order_id: params.order_id });
		expect(list.rows.map(r => r.status)).toEqual(["DECLINED"]);
		expect(list.net_charged_cents).toBe(0);
		await waitFor(() => events.some(e => e.name === "payment.failed" && e.payload.order_id === params.order_id && e.payload.user_id === "u1"));
	});

	it("answers a gateway outage with a retryable 503 and charges on the retry once the gateway answers", async () => {
		const params = charge();
		jest.spyOn(gateway, "charge").mockRejectedValueOnce(Object.assign(new Error("down"), { name: "GatewayUnavailableError" }));
		await expect(broker.call("payments.charge", params, noRetry)).rejects.toMatchObject({ code: 503, retryable: true });
		const again = await broker.call("payments.charge", params, noRetry);
		expect(again).toMatchObject({ status: "CAPTURED" });
		const list = await broker.call<{ rows: Array<{ status: string; history: Array<{ status: string }> }> }, object>("payments.listByOrder", { order_id: params.order_id });
		expect(list.rows[0].history.map(h => h.status)).toEqual(["PENDING", "FAILED", "PENDING", "CAPTURED"]);
	});

	it("refuses an idempotency key reused for a different amount with 422 naming it", async () => {
		const params = charge();
		await broker.call("payments.charge", params, noRetry);
		await expect(broker.call("payments.charge", { ...params, amount_cents: 1 }, noRetry)).rejects.toMatchObject({
			code: 422,
			type: "IDEMPOTENCY_KEY_REUSED",
			data: [expect.objectContaining({ field: "idempotency_key" })],
		});
	});

	it.each([
		[{ amount_cents: 0 }, "amount_cents"],
		[{ amount_cents: 10.5 }, "amount_cents"],
		[{ currency: "US" }, "currency"],
		[{ token: "" }, "token"],
	])("refuses %j with 422 naming the field", async (over, field) => {
		await expect(broker.call("payments.charge", charge(over), noRetry)).rejects.toMatchObject({
			code: 422,
			data: [expect.objectContaining({ field })],
		});
	});

	it("refunds a payment once even when two refunds with different keys race", async () => {
		const params = charge();
		const paid = await broker.call<{ payment_id: string }, object>("payments.charge", params, noRetry);
		const spy = jest.spyOn(gateway, "refund");
		const [a, b] = await Promise.all([
			broker.call("payments.refund", { payment_id: paid.payment_id, reason: "test", idempotency_key: "r-a" }, noRetry),
			broker.call("payments.refund", { payment_id: paid.payment_id, reason: "test", idempotency_key: "r-b" }, noRetry),
		]);
		expect(a).toEqual(b);
		expect(a).toMatchObject({ payment_id: paid.payment_id, status: "REFUNDED", amount_cents: 2500 });
		expect(spy).toHaveBeenCalledTimes(1);
		const list = await broker.call<{ net_charged_cents: number }, object>("payments.listByOrder", { order_id: params.order_id });
		expect(list.net_charged_cents).toBe(0);
		await waitFor(() => events.filter(e => e.name === "payment.refunded" && e.payload.payment_id === paid.payment_id).length === 1);
		expect(events.find(e => e.name === "payment.refunded" && e.payload.payment_id === paid.payment_id)?.payload).toMatchObject({
			order_id: params.order_id,
			user_id: "u1",
			amount_cents: 2500,
		});
	});

	it("settles a charge abandoned mid-call from the gateway's record before refunding it", async () => {
		const svc = broker.getLocalService("payments") as unknown as { collection(n: string): { updateWhere(q: object, u: object): Promise<number> } };
		const params = charge();
		const paid = await broker.call<{ payment_id: string }, object>("payments.charge", params, noRetry);
		// As if the node died after the gateway charged and before it stored the answer, long ago.
		await svc.collection("payments").updateWhere({ id: paid.payment_id }, { $set: { status: "PENDING", claimed_at: Date.now() - 60_000 } });
		await expect(broker.call("payments.refund", { payment_id: paid.payment_id }, noRetry)).resolves.toMatchObject({ status: "REFUNDED", amount_cents: 2500 });
		const list = await broker.call<{ rows: Array<{ history: Array<{ status: string }> }>; net_charged_cents: number }, object>("payments.listByOrder", { order_id: params.order_id });
		expect(list.net_charged_cents).toBe(0);
		expect(list.rows[0].history.map(h => h.status).slice(-2)).toEqual(["CAPTURED", "REFUNDED"]);

		const never = charge();
		const lost = await broker.call<{ payment_id: string }, object>("payments.charge", never, noRetry);
		jest.spyOn(gateway, "findCharge").mockResolvedValueOnce(null);
		await svc.collection("payments").updateWhere({ id: lost.payment_id }, { $set: { status: "PENDING", claimed_at: Date.now() - 60_000 } });
		await expect(broker.call("payments.refund", { payment_id: lost.payment_id }, noRetry)).resolves.toMatchObject({ status: "NOT_CAPTURED", amount_cents: 0 });
	});

	it("answers 404 for refunding an unknown payment", async () => {
		await expect(broker.call("payments.refund", { payment_id: "pay_nope" }, noRetry)).rejects.toMatchObject({ code: 404 });
	});

	it("shows a payment to its owner and an admin, and 404 to anyone else", async () => {
		const paid = await broker.call<{ payment_id: string }, object>("payments.charge", charge({ user_id: "owner" }), noRetry);
		const as = (id: string, role = "customer") => ({ meta: { user: { id, role, email: `${id}@x`, name: id } } });
		await expect(broker.call("payments.get", { id: paid.payment_id }, as("owner"))).resolves.toMatchObject({ amount: 25, status: "CAPTURED" });
		await expect(broker.call("payments.get", { id: paid.payment_id }, as("admin-1", "admin"))).resolves.toMatchObject({ id: paid.payment_id });
		await expect(broker.call("payments.get", { id: paid.payment_id }, as("intruder"))).rejects.toMatchObject({ code: 404 });
	});

	it("opens the breaker after repeated outages, fails fast with 503 PAYMENT_GATEWAY_UNAVAILABLE, and closes after a good probe", async () => {
		// Earlier successes sit in the rolling window too: fail until the error rate crosses the threshold.
		for (let i = 0; i < 40 && (await broker.call<{ state: string }>("payments.breakerState")).state !== "OPEN"; i++)
			await expect(broker.call("payments.charge", charge({ token: "card-error" }), noRetry)).rejects.toMatchObject({ code: 503, type: "PAYMENT_GATEWAY_UNAVAILABLE" });
		await expect(broker.call("payments.breakerState")).resolves.toMatchObject({ state: "OPEN" });
		const spy = jest.spyOn(gateway, "charge");
		const t0 = Date.now();
		await expect(broker.call("payments.charge", charge(), noRetry)).rejects.toMatchObject({ code: 503, retryable: true, data: { breaker: "OPEN" } });
		expect(Date.now() - t0).toBeLessThan(100);
		expect(spy).not.toHaveBeenCalled();
		await new Promise(r => setTimeout(r, 350));
		await expect(broker.call("payments.charge", charge(), noRetry)).resolves.toMatchObject({ status: "CAPTURED" });
		await expect(broker.call("payments.breakerState")).resolves.toMatchObject({ state: "CLOSED" });
	});
});
