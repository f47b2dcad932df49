/**
 * Signed and validated events over the real NATS JetStream (issue 16 point 3): a `payment.refunded` published
 * straight to the stream by someone without the signing key (forged, unsigned, or a real one altered) changes
 * nothing: the order and the payment stay as they were, the customer is told nothing, and each lands in the
 * consumer's dead letters with SIGNATURE_INVALID, counted in `shopflow_events_rejected_total`; a redrive does not
 * apply it either. A validly signed event with invalid data is refused with SCHEMA_INVALID, and a publish of invalid
 * data throws. The control: the same refund properly signed, through the same door, is applied.
 */
import { createHmac, randomUUID } from "node:crypto";
import { connect, JSONCodec, type NatsConnection } from "nats";
import type { DbMethods } from "../../mixins/db.mixin";
import type { EventsMethods } from "../../mixins/events.mixin";
import type { EventsRuntime } from "../../mixins/events/runtime";
import { canonicalJson, EventSchemaError, keyId, toWire, type Envelope } from "../../mixins/events/envelope";
import { eventSubject, type EventMessage } from "../../mixins/events/policy";
import type { DeadLetter } from "../../mixins/events/store";
import { EVENTS, type EventName, type PaymentRefundedPayload } from "../../services/common/events";
import { http, loginAdmin, NATS_URL, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface Order {
	id: string;
	status: string;
	total: number;
	shipment_id: string;
}

const ADDRESS = { street: "1 Elm St", city: "Springfield", postal_code: "12345", country: "US" };
const codec = JSONCodec<unknown>();
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error("condition not met in time");
		await sleep(50);
	}
}

describe("signed events on JetStream", () => {
	const namespace = `t-env-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
	let shop: Shop;
	let admin: string;
	let nc: NatsConnection;

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "search", "inventory", "cart", "checkout", "orders", "payments", "shipping", "notifications"], {
			NATS_URL,
			NAMESPACE: namespace,
		});
		admin = await loginAdmin(shop.url, shop.config);
		nc = await connect({ servers: NATS_URL });
	}, 60_000);
	afterAll(async () => {
		await nc?.close();
		await shop?.stop();
	});

	/** Publishes a raw envelope to the namespace's stream, as anyone who can reach NATS could. */
	async function inject(envelope: Envelope): Promise<void> {
		await nc.jetstream().publish(eventSubject(namespace, envelope.type), codec.encode({ ...envelope, meta: {}, created_at: envelope.occurred_at }));
	}

	const runtime = (service: string): EventsRuntime => (shop.broker.getLocalService(service) as unknown as { $events: EventsRuntime }).$events;
	const doc = async (service: string, coll: string, id: string): Promise<Record<string, unknown> | null> =>
		(shop.broker.getLocalService(service) as unknown as DbMethods).collection<{ id: string }>(coll).findOne(coll === "orders" ? { id } : { order_id: id }) as Promise<Record<string, unknown> | null>;
	const notices = async (token: string): Promise<Array<{ event: string; order_id: string | null }>> =>
		(await http<{ rows: Array<{ event: string; order_id: string | null }> }>(shop.url, "GET", "/api/v1/account/notifications?page_size=100", { token })).body.rows;
	const deadLetters = async (): Promise<DeadLetter[]> =>
		(await http<{ rows: DeadLetter[] }>(shop.url, "GET", "/api/v1/admin/dead-letters?service=notifications&status=all&page_size=200", { token: admin })).body.rows;

	it("applies nothing of a forged, unsigned or altered payment.refunded, dead-letters each with SIGNATURE_INVALID and counts them", async () => {
		// A real order, paid and shipped: its customer has been told "placed" and "shipped".
		const id = `env-item-${Date.now()}`;
		expect((await http(shop.url, "POST", "/api/v1/products", { token: admin, body: { id, name: "Lamp", brand: "Acme", category: "home", price: 19.99 } })).status).toBe(201);
		expect((await http(shop.url, "PUT", `/api/v1/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 5 } })).status).toBe(200);
		const alice = await registerCustomer(shop.url);
		expect((await http(shop.url, "POST", "/api/v1/cart/add", { token: alice.token, body: { product_id: id, quantity: 1 } })).status).toBeLessThan(300);
		const res = await http<{ order: Order }>(shop.url, "POST", "/api/v1/checkout", { token: alice.token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
		expect(res.status).toBe(201);
		const order = res.body.order;
		await until(async () => (await notices(alice.token)).length === 2);
		const orderBefore = await doc("orders", "orders", order.id);
		const paymentBefore = await doc("payments", "payments", order.id);
		expect(paymentBefore).toMatchObject({ status: "CAPTURED" });

		const data: PaymentRefundedPayload & Record<string, unknown> = {
			payment_id: String(paymentBefore?.id),
			refund_id: "ref_forged",
			order_id: order.id,
			user_id: alice.id,
			amount_cents: Number(paymentBefore?.amount_cents),
			currency: "USD",
			reason: "forged",
		};
		const base = { type: EVENTS.PAYMENT_REFUNDED, version: 1, occurred_at: new Date().toISOString(), producer: "payments", trace_id: null, data };
		// 1. Signed with a key of the attacker's own, 2. not signed at all.
		const attackerKey = "attacker-key-".repeat(4);
		const forged = { ...base, id: randomUUID() };
		const mac = createHmac("sha256", attackerKey).update(canonicalJson(forged)).digest("base64url");
		await inject({ ...forged, signature: `hs256:${keyId(attackerKey)}:${mac}` });
		await inject({ ...base, id: randomUUID(), signature: null });
		// 3. A genuine signature copied onto altered data (a bigger refund).
		const eventId = randomUUID();
		const resealed = runtime("payments").seal({
			event_id: eventId,
			name: EVENTS.PAYMENT_REFUNDED,
			source: "payments",
			event: { ...data, refund_id: "ref_genuine", event_id: eventId, occurred_at: base.occurred_at },
			meta: {},
			created_at: base.occurred_at,
			trace_id: null,
		} as EventMessage);
		const altered = toWire(resealed);
		await inject({ ...altered, data: { ...altered.data, amount_cents: 999_999 } });

		await until(async () => (await deadLetters()).filter(d => d.event_name === EVENTS.PAYMENT_REFUNDED).length === 3);
		const letters = (await deadLetters()).filter(d => d.event_name === EVENTS.PAYMENT_REFUNDED);
		expect(letters.map(d => d.reason)).toEqual(["SIGNATURE_INVALID", "SIGNATURE_INVALID", "SIGNATURE_INVALID"]);
		expect(letters.map(d => d.error).sort()).toEqual([
			expect.stringMatching(/^SIGNATURE_INVALID: payment\.refunded signature does not match$/),
			expect.stringMatching(/^SIGNATURE_INVALID: payment\.refunded signed with key [0-9a-f]{8}, which this node does not accept$/),
			"SIGNATURE_INVALID: payment.refunded unsigned",
		]);

		// Nothing changed: order, payment, what the customer was told.
		await sleep(500);
		expect(await doc("orders", "orders", order.id)).toEqual(orderBefore);
		expect(await doc("payments", "payments", order.id)).toEqual(paymentBefore);
		expect((await notices(alice.token)).map(n => n.event).sort()).toEqual([EVENTS.ORDER_CREATED, EVENTS.ORDER_UPDATED]);

		// Counted, per consumer, event and reason.
		expect((await shop.broker.call<{ rejected: Record<string, number> }, object>("notifications.eventStats", {})).rejected.SIGNATURE_INVALID).toBe(3);
		const metrics = await http<string>(shop.url, "GET", "/metrics");
		expect(metrics.body).toMatch(/^shopflow_events_rejected_total\{[^}]*service="notifications"[^}]*event="payment\.refunded"[^}]*reason="SIGNATURE_INVALID"[^}]*\} 3$/m);

		// An admin's redrive checks the envelope again: still refused, still nothing applied.
		const redriven = await http<{ status: string; error: string }>(shop.url, "POST", `/api/v1/admin/dead-letters/${letters[0].id}/redrive`, { token: admin });
		expect(redriven.status).toBe(200);
		expect(redriven.body).toMatchObject({ status: "dead", error: expect.stringMatching(/^SIGNATURE_INVALID: /) });
		expect((await notices(alice.token)).length).toBe(2);

		// The control: the genuine refund, through the same door, is applied (the customer is told of the refund).
		await inject(toWire(resealed));
		await until(async () => (await notices(alice.token)).some(n => n.event === EVENTS.PAYMENT_REFUNDED));
	}, 60_000);

	it("applies nothing of an unsigned product.updated that would rename and reprice a product in search", async () => {
		const pid = `env-laptop-${Date.now()}`;
		expect((await http(shop.url, "POST", "/api/v1/products", { token: admin, body: { id: pid, name: "Envelope laptop", brand: "Acme", category: "computers", price: 999 } })).status).toBe(201);
		const inSearch = async () => (await http<{ rows: Array<{ id: string; name: string; price: number }> }>(shop.url, "GET", "/api/v1/search?q=envelope&page_size=50")).body.rows.find(r => r.id === pid);
		await until(async () => (await inSearch()) !== undefined);
		const product = await shop.broker.call<Record<string, unknown>, { id: string }>("products.lookup", { id: pid });
		const at = new Date().toISOString();
		const forged = { ...product, name: "FORGED LAPTOP", price_cents: 100, version: Number(product.version) + 1000 };
		await inject({
			id: randomUUID(),
			type: EVENTS.PRODUCT_UPDATED,
			version: 1,
			occurred_at: at,
			producer: "products",
			trace_id: null,
			data: { product_id: pid, version: forged.version, product: forged },
			signature: null,
		});
		const searchLetters = async (): Promise<DeadLetter[]> =>
			(await http<{ rows: DeadLetter[] }>(shop.url, "GET", "/api/v1/admin/dead-letters?service=search&status=all&page_size=200", { token: admin })).body.rows;
		await until(async () => (await searchLetters()).some(d => d.event_name === EVENTS.PRODUCT_UPDATED));
		expect((await searchLetters()).find(d => d.event_name === EVENTS.PRODUCT_UPDATED)).toMatchObject({ reason: "SIGNATURE_INVALID", error: "SIGNATURE_INVALID: product.updated unsigned" });
		expect(await inSearch()).toMatchObject({ name: "Envelope laptop", price: 999 });
	}, 30_000);

	it("fails a publish of an invalid or undeclared event at once, with nothing in the outbox", async () => {
		const payments = shop.broker.getLocalService("payments") as unknown as EventsMethods;
		const before = await runtime("payments").store.outbox.count();
		await expect(payments.publish(null, EVENTS.PAYMENT_REFUNDED, { order_id: "ord_z" })).rejects.toThrow(/payments published an invalid payment\.refunded: .*payment_id/);
		await expect(payments.publish(null, "payment.reversed" as EventName, { order_id: "ord_z" })).rejects.toThrow(EventSchemaError);
		expect(() => payments.stageEvent(null, EVENTS.PAYMENT_REFUNDED, { order_id: "ord_z" })).toThrow(EventSchemaError);
		expect(await runtime("payments").store.outbox.count()).toBe(before);
	});

	it("dead-letters a validly signed event whose data breaks its schema with SCHEMA_INVALID", async () => {
		const keys = runtime("payments").keys;
		const at = new Date().toISOString();
		const message = {
			event_id: randomUUID(),
			name: EVENTS.PAYMENT_REFUNDED,
			source: "payments",
			event: { order_id: "ord_x", user_id: "usr_x", payment_id: "pay_x", event_id: "", occurred_at: at },
			meta: {},
			created_at: at,
			version: 1,
			trace_id: null,
		} as unknown as EventMessage;
		message.event.event_id = message.event_id;
		message.signature = keys.sign(message);
		await inject(toWire(message));
		await until(async () => (await deadLetters()).some(d => d.event_id === message.event_id));
		const letter = (await deadLetters()).find(d => d.event_id === message.event_id);
		expect(letter).toMatchObject({ reason: "SCHEMA_INVALID", consumer: "notifications", error: expect.stringMatching(/^SCHEMA_INVALID: payment\.refunded: .*amount_cents/) });

		// A message in the shape of the version before envelopes (no version, no signature) is refused too, and a
		// redrive does not seal it as it would a dead letter that version had kept.
		const legacyId = randomUUID();
		const legacy = { event_id: legacyId, name: EVENTS.PAYMENT_REFUNDED, source: "payments", event: { order_id: "ord_y", event_id: legacyId, occurred_at: at }, meta: {}, created_at: at };
		await nc.jetstream().publish(eventSubject(namespace, EVENTS.PAYMENT_REFUNDED), codec.encode(legacy));
		await until(async () => (await deadLetters()).some(d => d.event_id === legacyId));
		const dead = (await deadLetters()).find(d => d.event_id === legacyId) as DeadLetter;
		expect(dead.reason).toBe("SCHEMA_INVALID");
		const again = await http<{ status: string }>(shop.url, "POST", `/api/v1/admin/dead-letters/${dead.id}/redrive`, { token: admin });
		expect(again.body.status).toBe("dead");
	}, 30_000);
});
