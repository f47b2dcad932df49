/**
 * Notification retention and the channel cache on a real broker: a user's list keeps their newest
 * NOTIFICATIONS_KEEP_PER_USER notifications, correctly paginated, and an order's notifications ask `users` for the
 * customer's channel once.
 */
import type { ServiceBroker, ServiceSchema } from "moleculer";
import type { Config } from "../../config/env";
import { createShopBroker } from "../../config/boot/broker";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin";
import { EVENTS, type DomainEvent, type EventName } from "../../services/common/events";
import type { NotificationRetention } from "../../services/notifications/retention";
import { http, loginAdmin, registerCustomer, testConfig } from "../helpers/shop";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { payloadOf } from "../helpers/events";

const sent: DomainEvent[] = [];
const ledger: ServiceSchema = {
	name: "ledger",
	mixins: [EventsMixin({ handlers: { [EVENTS.NOTIFICATION_SENT]: async (e: DomainEvent) => void sent.push(e) } })],
};

interface Page {
	rows: Array<{ event: string; order_id: string | null; message: string }>;
	total: number;
}

async function until(check: () => boolean | Promise<boolean>, ms = 8000): Promise<void> {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error("condition not reached in time");
		await new Promise(r => setTimeout(r, 25));
	}
}

describe("notification retention", () => {
	let broker: ServiceBroker;
	let config: Config;
	let url = "";
	const publish = async (name: EventName, payload: object): Promise<DomainEvent> => {
		const ev = await (broker.getLocalService("ledger") as unknown as EventsMethods).publish(null, name, payloadOf(name, payload as Record<string, unknown>));
		await new Promise(r => setTimeout(r, 3));
		return ev;
	};
	const retention = (): NotificationRetention => (broker.getLocalService("notifications") as unknown as { retention: NotificationRetention }).retention;

	beforeAll(async () => {
		config = testConfig({ NAMESPACE: `t-ntfr-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, NOTIFICATIONS_KEEP_PER_USER: "3" });
		broker = createShopBroker({ config, services: ["api", "users", "notifications"] });
		broker.createService(ledger);
		await broker.start();
		url = `http://127.0.0.1:${((broker.getLocalService("api") as unknown as { server: Server }).server.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		await broker.stop();
		expect(retention().active).toBe(false);
	});

	it("keeps a user's newest notifications, listed and paginated as before", async () => {
		const alice = await registerCustomer(url);
		const orders = ["o1", "o2", "o3", "o4", "o5"];
		for (const order_id of orders) await publish(EVENTS.ORDER_CREATED, { order_id, user_id: alice.id, total_cents: 100, currency: "USD" });
		await until(() => sent.filter(e => e.user_id === alice.id).length === 5);
		expect((await http<Page>(url, "GET", "/api/v1/account/notifications", { token: alice.token })).body.total).toBe(5);

		expect(await retention().runOnce()).toMatchObject({ trimmed: 2 });
		const list = await http<Page>(url, "GET", "/api/v1/account/notifications", { token: alice.token });
		expect(list.body.total).toBe(3);
		expect(list.body.rows.map(r => r.order_id)).toEqual(["o5", "o4", "o3"]);
		const page2 = await http<Page>(url, "GET", "/api/v1/account/notifications?page=2&page_size=2", { token: alice.token });
		expect(page2.body).toMatchObject({ total: 3, rows: [{ order_id: "o3" }] });
	});

	it("keeps the admins' newest notices and shows them to admins only", async () => {
		for (let i = 0; i < 4; i++) await publish(EVENTS.INVENTORY_LOW, { product_id: `p${i}`, available: i, threshold: 5 });
		await until(() => sent.filter(e => e.source_event === EVENTS.INVENTORY_LOW).length === 4);
		await retention().runOnce();
		const admin = await loginAdmin(url, config);
		const notices = await http<Page>(url, "GET", "/api/v1/account/notifications", { token: admin });
		expect(notices.body.rows.map(r => r.message)).toEqual([3, 2, 1].map(i => `Stock of p${i} is low: ${i} left (threshold 5).`));
		const bob = await registerCustomer(url);
		expect((await http<Page>(url, "GET", "/api/v1/account/notifications", { token: bob.token })).body.total).toBe(0);
	});

	it("asks users for the customer's channel once for all the notifications of an order", async () => {
		const carol = await registerCustomer(url);
		await http(url, "PUT", "/api/v1/account/profile", { token: carol.token, body: { notification_channel: "push" } });
		const calls = jest.spyOn(broker, "call");
		try {
			const base = { order_id: "oc", user_id: carol.id, amount_cents: 100, total_cents: 100, currency: "USD" };
			const events: Array<[EventName, object]> = [
				[EVENTS.ORDER_CREATED, base],
				[EVENTS.ORDER_UPDATED, { ...base, status: "SHIPPED" }],
				[EVENTS.ORDER_UPDATED, { ...base, status: "DELIVERED" }],
				[EVENTS.PAYMENT_REFUNDED, base],
			];
			const names = events.map(([name]) => name);
			for (const [name, payload] of events) await publish(name, payload);
			await until(() => sent.filter(e => e.user_id === carol.id).length === names.length);
			expect(calls.mock.calls.filter(([action]) => action === "users.get")).toHaveLength(1);
			expect(sent.filter(e => e.user_id === carol.id).every(e => e.channel === "push")).toBe(true);
		} finally {
			calls.mockRestore();
		}
	});
});
