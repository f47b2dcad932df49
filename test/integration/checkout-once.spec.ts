/**
 * One click is one order and one charge (issue 12, points 1, 2 and 6), through the gateway with every real
 * service in one broker: concurrent checkouts of one cart, a keyed retry after the first request died midway,
 * and a checkout whose order call is slower than its caller can wait.
 */
import type { ServiceBroker } from "moleculer";
import { parseBehavior } from "../../services/common/behavior";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface CheckoutBody {
	order: { id: string; status: string };
}
interface OrderRow {
	id: string;
	user_id: string;
	status: string;
}

const SERVICES = ["api", "users", "products", "inventory", "cart", "checkout", "orders", "payments", "shipping"] as const;
const ADDRESS = { street: "123 Main St", city: "Springfield", postal_code: "12345", country: "US" };
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

describe("checkout exactly once", () => {
	let shop: Shop;
	let broker: ServiceBroker;
	let admin: string;
	let seq = 0;

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-once-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
		admin = await loginAdmin(shop.url, shop.config);
	});
	afterAll(() => shop.stop());

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	/** A customer with `quantity` units of a fresh product (stock `units`) in the cart. */
	async function shopper(units: number, quantity = 1): Promise<{ token: string; userId: string; productId: string }> {
		const productId = `once-${++seq}-${Date.now()}`;
		const created = await api("POST", "/products", { token: admin, body: { id: productId, name: `Once ${seq}`, brand: "Acme", category: "gadgets", price: 10 } });
		expect(created.status).toBe(201);
		expect((await api("PUT", `/inventory/${productId}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: units } })).status).toBe(200);
		const { token, id } = await registerCustomer(shop.url, `once${seq}-${Date.now()}@example.com`);
		expect((await api("POST", "/cart/add", { token, body: { product_id: productId, quantity } })).status).toBe(200);
		return { token, userId: id, productId };
	}
	const ordersOf = async (userId: string) => (await broker.call<{ rows: OrderRow[] }, object>("orders.find", { user_id: userId })).rows;
	const charges = async (orderId: string) => (await broker.call<{ rows: Array<{ status: string }> }, object>("payments.listByOrder", { order_id: orderId })).rows;

	it("places one order and one charge for five concurrent checkouts of one cart without a key", async () => {
		const { token, userId } = await shopper(1);
		const body = { shipping_address: ADDRESS, payment_method: "card-456" };
		const answers = await Promise.all(Array.from({ length: 5 }, () => api<CheckoutBody & { type?: string }>("POST", "/checkout", { token, body })));

		const orders = await ordersOf(userId);
		expect(answers.map(a => a.status).sort()).toEqual(expect.arrayContaining([201]));
		expect(answers.filter(a => a.status !== 201 && a.status !== 409)).toEqual([]);
		expect(orders).toHaveLength(1);
		expect(await charges(orders[0].id)).toHaveLength(1);
		for (const a of answers) {
			if (a.status === 409) expect(a.body.type).toBe("CHECKOUT_IN_PROGRESS");
			else expect([a.status, a.body.order.id]).toEqual([201, orders[0].id]);
		}
		expect(answers.filter(a => a.status === 201).length).toBeGreaterThanOrEqual(1);
	});

	it("lets a customer check out again after a declined payment, as a new order", async () => {
		const { token, userId } = await shopper(5);
		const declined = await api<CheckoutBody>("POST", "/checkout", { token, body: { shipping_address: ADDRESS, payment_method: "card-declined" } });
		expect(declined.status).toBe(402);
		const paid = await api<CheckoutBody>("POST", "/checkout", { token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
		expect(paid.status).toBe(201);
		expect(paid.body.order.id).not.toBe(declined.body.order.id);
		expect(await ordersOf(userId)).toHaveLength(2);
	});

	it("answers a keyed retry with the first order after the first request died with the order placed", async () => {
		const { token, userId } = await shopper(5);
		const body = { shipping_address: ADDRESS, payment_method: "card-456" };
		const headers = { "Idempotency-Key": `crash-${seq}` };
		const first = await api<CheckoutBody>("POST", "/checkout", { token, body, headers });
		expect(first.status).toBe(201);

		// What a kill between orders.create and storing the answer leaves: the record still running, owned by a dead
		// process, and the cart already emptied.
		const requests = (broker.getLocalService("checkout") as unknown as { requests(): { updateWhere(q: object, u: object): Promise<number> } }).requests();
		const n = await requests.updateWhere({ user_id: userId, state: "DONE", body_hash: { $ne: "cart" } }, { $set: { state: "IN_PROGRESS", owner: "dead-node|gone", response: null, status_code: null } });
		expect(n).toBe(1);

		const retry = await api<CheckoutBody>("POST", "/checkout", { token, body, headers });
		expect(retry.status).toBe(201);
		expect(retry.body.order.id).toBe(first.body.order.id);
		expect(await ordersOf(userId)).toHaveLength(1);
	});

	it("starts no order when orders.create is reached after its caller's deadline", async () => {
		const { userId } = await shopper(5);
		const user = { id: userId, email: `${userId}@example.com`, name: "Late", role: "customer" };
		// orders starts 5 s late, payments 2 s late, and the caller waits 6 s: whatever the caller is told, nothing may be placed after it
		// was answered (before the fix, orders.create ran on after its timeout and placed and charged an order).
		const meta = { user, headers: {}, behavior: parseBehavior("orders:latency=5000ms,payments:latency=2000ms") };
		const answer = await broker.call<CheckoutBody, object>("checkout.start", { shipping_address: ADDRESS, payment_method: "card-456" }, { timeout: 6_000, meta }).then(
			body => ({ ok: true as const, body }),
			(err: Error & { code?: number }) => ({ ok: false as const, err }),
		);
		await sleep(3_000);
		const orders = await ordersOf(userId);
		if (answer.ok) expect(orders.map(o => o.id)).toEqual([answer.body.order.id]);
		else {
			expect(answer.err.code).toBe(503);
			expect(orders).toEqual([]);
		}
	});
});
