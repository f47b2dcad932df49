/**
 * Notifications and the dead-letter admin routes through the gateway: one notification per order milestone for the
 * user it concerns, on their channel, listed to them alone; dead letters listed and redriven by an admin.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { ServiceBroker, ServiceSchema } from "moleculer";
import type { Config } from "../../config/env";
import { createShopBroker } from "../../config/boot/broker";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin";
import { EVENTS, type DomainEvent, type EventName } from "../../services/common/events";
import type { ServiceName } from "../../services/common/names";
import type { DbMethods } from "../../mixins/db.mixin";
import { NATS_URL, http, loginAdmin, registerCustomer, testConfig } from "../helpers/shop";
import { payloadOf } from "../helpers/events";

const sent: DomainEvent[] = [];
let brokenFails = true;

/** Publishes whatever a test asks for, and watches notification.sent; its order.delivered consumer can be broken. */
const ledger: ServiceSchema = {
	name: "ledger",
	mixins: [
		EventsMixin({
			retry: { attempts: 3, baseDelayMs: 20 },
			handlers: {
				[EVENTS.NOTIFICATION_SENT]: async (e: DomainEvent) => void sent.push(e),
				[EVENTS.ORDER_DELIVERED]: async () => {
					if (brokenFails) throw new Error("ledger cannot book deliveries today");
				},
			},
		}),
	],
};

interface Started {
	broker: ServiceBroker;
	url: string;
	config: Config;
}

async function startGateway(): Promise<Started> {
	const config = testConfig({ NAMESPACE: `t-ntf-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` });
	const broker = createShopBroker({ config, services: ["api", "users", "notifications"] });
	broker.createService(ledger);
	await broker.start();
	const api = broker.getLocalService("api") as unknown as { server: Server };
	return { broker, config, url: `http://127.0.0.1:${(api.server.address() as AddressInfo).port}` };
}

async function until(check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error("condition not reached in time");
		await new Promise(r => setTimeout(r, 25));
	}
}

interface Page {
	rows: Array<{ id: string; event: string; order_id: string | null; channel: string; message: string; created_at: string }>;
	total: number;
}

describe("notifications through the gateway", () => {
	let shop: Started;
	/** Publishes an event; a pause after it keeps the occurrence times of consecutive events apart. */
	const publish = async (name: EventName, payload: object): Promise<DomainEvent> => {
		const ev = await (shop.broker.getLocalService("ledger") as unknown as EventsMethods).publish(null, name, payloadOf(name, payload as Record<string, unknown>));
		await new Promise(r => setTimeout(r, 3));
		return ev;
	};

	beforeAll(async () => {
		shop = await startGateway();
	});
	afterAll(async () => {
		await shop.broker.stop();
	});

	it("lists a user's own notifications, newest first and paginated, on the channel they chose", async () => {
		const alice = await registerCustomer(shop.url);
		const bob = await registerCustomer(shop.url);
		await http(shop.url, "PUT", "/api/v1/account/profile", { token: bob.token, body: { notification_channel: "sms" } });

		const updated = { failure_reason: null, reason: null, total_cents: 99999, currency: "USD" };
		await publish(EVENTS.ORDER_CREATED, { order_id: "ord_a1", user_id: alice.id, total_cents: 99999, currency: "USD" });
		await publish(EVENTS.ORDER_UPDATED, { ...updated, order_id: "ord_a1", user_id: alice.id, status: "PAID" });
		await publish(EVENTS.ORDER_UPDATED, { ...updated, order_id: "ord_a1", user_id: alice.id, status: "SHIPPED" });
		await publish(EVENTS.ORDER_CREATED, { order_id: "ord_b1", user_id: bob.id, total_cents: 500, currency: "USD" });
		await publish(EVENTS.INVENTORY_LOW, { product_id: "laptop-123", available: 2, threshold: 5 });

		await until(() => sent.length >= 4);
		const a = await http<Page>(shop.url, "GET", "/api/v1/account/notifications?page_size=1", { token: alice.token });
		expect(a.status).toBe(200);
		expect(a.body.total).toBe(2);
		expect(a.body.rows.map(r => r.event)).toEqual([EVENTS.ORDER_UPDATED]);
		// No shipping service here to ask for the tracking number: the customer is told all the same.
		expect(a.body.rows[0].message).toBe("Your order ord_a1 is on its way.");
		expect(a.body.rows.every(r => r.channel === "email" && r.order_id === "ord_a1")).toBe(true);

		const page2 = await http<Page>(shop.url, "GET", "/api/v1/account/notifications?page=2&page_size=1", { token: alice.token });
		expect(page2.body.total).toBe(2);
		expect(page2.body.rows.map(r => r.event)).toEqual([EVENTS.ORDER_CREATED]);

		const b = await http<Page>(shop.url, "GET", "/api/v1/account/notifications", { token: bob.token });
		expect(b.body.total).toBe(1);
		expect(b.body.rows[0]).toMatchObject({ order_id: "ord_b1", channel: "sms" });
		expect(JSON.stringify(b.body)).not.toContain("ord_a1");
		expect(JSON.stringify(b.body)).not.toContain("laptop-123");

		const admin = await loginAdmin(shop.url, shop.config);
		const notices = await http<Page>(shop.url, "GET", "/api/v1/account/notifications", { token: admin });
		expect(notices.body.rows.map(r => r.message)).toEqual(["Stock of laptop-123 is low: 2 left (threshold 5)."]);
	});

	it("stores one notification when the same event arrives twice", async () => {
		const carol = await registerCustomer(shop.url);
		const ev = await publish(EVENTS.ORDER_UPDATED, { order_id: "ord_c1", user_id: carol.id, status: "DELIVERED", failure_reason: null, reason: null });
		await until(async () => (await http<Page>(shop.url, "GET", "/api/v1/account/notifications", { token: carol.token })).body.total === 1);
		const svc = shop.broker.getLocalService("ledger") as unknown as { $events: { activeBus: { publish(m: object, o: object): Promise<void> }; seal(m: object): object } };
		// The same envelope, validly signed again: only the consumer's claim can drop it.
		await svc.$events.activeBus.publish(
			svc.$events.seal({ event_id: ev.event_id, name: EVENTS.ORDER_UPDATED, source: "ledger", event: ev, meta: {}, created_at: ev.occurred_at }),
			{ dedupe: false },
		);
		await new Promise(r => setTimeout(r, 300));
		const res = await http<Page>(shop.url, "GET", "/api/v1/account/notifications", { token: carol.token });
		expect(res.body.total).toBe(1);
		expect(res.body.rows[0].message).toBe("Your order ord_c1 has been delivered. We hope you enjoy it!");
	});

	it("exposes dead letters and unsent outbox rows per service as Prometheus gauges", async () => {
		const res = await http<string>(shop.url, "GET", "/metrics");
		expect(res.status).toBe(200);
		expect(res.body).toMatch(/shopflow_events_dead_letters\{[^}]*service="notifications"[^}]*\} 0/);
		expect(res.body).toMatch(/shopflow_events_pending_outbox\{[^}]*service="ledger"[^}]*\} 0/);
	});

	it("refuses the list without a token", async () => {
		const res = await http(shop.url, "GET", "/api/v1/account/notifications");
		expect(res.status).toBe(401);
	});

	it("lets an admin list dead letters of every service and redrive one, and refuses customers", async () => {
		brokenFails = true;
		const dave = await registerCustomer(shop.url);
		const ev = await publish(EVENTS.ORDER_DELIVERED, { order_id: "ord_d1", user_id: dave.id, shipment_id: "shp_3" });
		const admin = await loginAdmin(shop.url, shop.config);
		type DlPage = { rows: Array<{ id: string; event_id: string; consumer: string; attempts: number; error: string }>; total: number };
		let page: DlPage = { rows: [], total: 0 };
		await until(async () => {
			page = (await http<DlPage>(shop.url, "GET", "/api/v1/admin/dead-letters", { token: admin })).body;
			return page.rows.some(r => r.event_id === ev.event_id);
		});
		const dl = page.rows.find(r => r.event_id === ev.event_id);
		const deadBefore = ((await shop.broker.call("ledger.eventStats")) as { dead_letters: number }).dead_letters;
		expect(dl).toMatchObject({ consumer: "ledger", attempts: 3 });
		expect(dl?.error).toContain("cannot book deliveries");

		expect((await http(shop.url, "GET", "/api/v1/admin/dead-letters", { token: dave.token })).status).toBe(403);
		expect((await http(shop.url, "POST", `/api/v1/admin/dead-letters/${dl?.id}/redrive`, { token: dave.token })).status).toBe(403);
		expect((await http(shop.url, "POST", "/api/v1/admin/dead-letters/dl_ledger_0000000000000000/redrive", { token: admin })).status).toBe(404);

		brokenFails = false;
		const redrive = await http(shop.url, "POST", `/api/v1/admin/dead-letters/${dl?.id}/redrive`, { token: admin });
		expect(redrive.status).toBe(200);
		expect(redrive.body).toMatchObject({ status: "redriven", event_id: ev.event_id });
		const after = (await http<DlPage>(shop.url, "GET", "/api/v1/admin/dead-letters", { token: admin })).body;
		expect(after.rows.some(r => r.id === dl?.id)).toBe(false);
		expect(await shop.broker.call("ledger.eventStats")).toMatchObject({ dead_letters: deadBefore - 1, pending_outbox: 0 });
	});
});

describe("notifications on two replicas over NATS JetStream", () => {
	const ns = `t-ntfj-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
	const brokers: ServiceBroker[] = [];
	let url = "";

	beforeAll(async () => {
		const env = { NAMESPACE: ns, NATS_URL };
		const nodes: Array<[string, ServiceName[]]> = [
			["gw", ["api", "users"]],
			["n1", ["notifications"]],
			["n2", ["notifications"]],
		];
		for (const [id, services] of nodes) {
			const config = testConfig(env);
			const broker = createShopBroker({ config, services, broker: { nodeID: `${id}-${ns}` } });
			if (id === "gw") broker.createService(ledger);
			await broker.start();
			brokers.push(broker);
		}
		await brokers[0].waitForServices(["notifications"], 10_000);
		const api = brokers[0].getLocalService("api") as unknown as { server: Server };
		url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		for (const b of brokers.reverse()) await b.stop();
	});

	it("stores each event's notification once although two replicas consume", async () => {
		const erin = await registerCustomer(url);
		const ledgerSvc = brokers[0].getLocalService("ledger") as unknown as EventsMethods;
		for (let i = 0; i < 10; i++)
			await ledgerSvc.publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { order_id: `ord_e${i}`, user_id: erin.id, total_cents: 100, currency: "USD" }));
		// Without a shared database (MongoDB) each replica keeps what it handled: together they hold each one once.
		const stored = async (): Promise<Array<{ order_id: string }>> => {
			const rows = await Promise.all(
				brokers.slice(1).map(b => (b.getLocalService("notifications") as unknown as DbMethods).collection<{ id: string; order_id: string }>("notifications").find({ user_id: erin.id })),
			);
			return rows.flat();
		};
		await until(async () => (await stored()).length >= 10, 15_000);
		await new Promise(r => setTimeout(r, 300));
		const all = await stored();
		expect(all).toHaveLength(10);
		expect(new Set(all.map(r => r.order_id)).size).toBe(10);
	});
});
