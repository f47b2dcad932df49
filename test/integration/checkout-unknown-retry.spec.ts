/**
 * A checkout whose outcome is unknown keeps its order key until someone knows: the retry that takes its cart claim
 * over and cannot ask orders (the orders node is still down) answers "unknown" again and leaves the key in place.
 * It used to give the claim back, so the next retry claimed the cart afresh under a new order key and placed a second
 * order beside the first (crashtest --cluster: "orders no answer named", one click, two orders).
 */
import { Errors, type Context, type ServiceSchema } from "moleculer";
import { loadServiceSchema } from "../../config/boot/broker";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface CheckoutBody {
	order?: { id: string; status: string };
	type?: string;
}
type Handler = (this: unknown, ctx: Context) => Promise<unknown>;

const ADDRESS = { street: "123 Main St", city: "Springfield", postal_code: "12345", country: "US" };

describe("a checkout retried after its outcome was unknown", () => {
	let shop: Shop;
	/** orders.create stores the order and its answer is lost (as when the orders node dies before answering). */
	let loseAnswer = false;
	/** orders.byKey cannot be reached (the orders node left the cluster under the call). */
	let unreachable = false;

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "inventory", "cart", "checkout", "payments", "shipping"], { NAMESPACE: `t-unknown-${Date.now()}` });
		const orders = loadServiceSchema("orders", shop.config);
		const actions = orders.actions as Record<string, { handler: Handler }>;
		const observed: ServiceSchema = {
			name: "orders",
			mixins: [orders],
			actions: {
				create: {
					...actions.create,
					async handler(this: unknown, ctx: Context) {
						const result = await actions.create.handler.call(this, ctx);
						if (loseAnswer) {
							loseAnswer = false;
							throw new Errors.RequestTimeoutError({ action: "orders.create", nodeID: "orders-node" });
						}
						return result;
					},
				},
				byKey: {
					...actions.byKey,
					async handler(this: unknown, ctx: Context) {
						if (unreachable) throw new Errors.RequestRejectedError({ action: "orders.byKey", nodeID: "orders-node" });
						return actions.byKey.handler.call(this, ctx);
					},
				},
			},
		};
		shop.broker.createService(observed);
		await shop.broker.waitForServices(["orders"]);
	});
	afterAll(() => shop.stop());

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string } = {}) => http<T>(shop.url, method, `/api/v1${path}`, opts);
	const BODY = { shipping_address: ADDRESS, payment_method: "card-456" };

	/** A new customer with one unit of a new product in the cart. */
	async function customerWithCart(): Promise<{ token: string; userId: string; productId: string }> {
		const admin = await loginAdmin(shop.url, shop.config);
		const productId = `unknown-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
		expect((await api("POST", "/products", { token: admin, body: { id: productId, name: "Unknown", brand: "Acme", category: "gadgets", price: 10 } })).status).toBe(201);
		expect((await api("PUT", `/inventory/${productId}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 10 } })).status).toBe(200);
		const { token, id: userId } = await registerCustomer(shop.url);
		expect((await api("POST", "/cart/add", { token, body: { product_id: productId, quantity: 1 } })).status).toBe(200);
		return { token, userId, productId };
	}

	it("answers unknown while orders cannot be asked, then the one order placed, never a second one", async () => {
		const admin = await loginAdmin(shop.url, shop.config);
		const productId = `unknown-${Date.now()}`;
		expect((await api("POST", "/products", { token: admin, body: { id: productId, name: "Unknown", brand: "Acme", category: "gadgets", price: 10 } })).status).toBe(201);
		expect((await api("PUT", `/inventory/${productId}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 10 } })).status).toBe(200);
		const { token, id: userId } = await registerCustomer(shop.url);
		expect((await api("POST", "/cart/add", { token, body: { product_id: productId, quantity: 1 } })).status).toBe(200);
		const body = { shipping_address: ADDRESS, payment_method: "card-456" };

		loseAnswer = true;
		unreachable = true;
		const first = await api<CheckoutBody>("POST", "/checkout", { token, body });
		expect(first.status).toBe(503);
		expect(first.body.type).toBe("CHECKOUT_OUTCOME_UNKNOWN");

		const again = await api<CheckoutBody>("POST", "/checkout", { token, body });
		expect(again.status).toBe(503);
		expect(again.body.type).toBe("CHECKOUT_OUTCOME_UNKNOWN");

		unreachable = false;
		const last = await api<CheckoutBody>("POST", "/checkout", { token, body });
		expect(last.status).toBe(201);
		const { rows } = await shop.broker.call<{ rows: Array<{ id: string }> }, object>("orders.find", { user_id: userId });
		expect(rows.map(r => r.id)).toEqual([last.body.order?.id]);
	});

	it("takes the ordered lines out of the cart when the retry finds the order the lost answer placed", async () => {
		const { token, productId } = await customerWithCart();
		loseAnswer = true;
		unreachable = true;
		expect((await api<CheckoutBody>("POST", "/checkout", { token, body: BODY })).body.type).toBe("CHECKOUT_OUTCOME_UNKNOWN");
		unreachable = false;
		expect((await api<CheckoutBody>("POST", "/checkout", { token, body: BODY })).status).toBe(201);
		// Left in the cart, the lines would be bought a second time with the next product the customer adds.
		const cart = await api<{ items: Array<{ product_id: string }> }>("GET", "/cart", { token });
		expect(cart.body.items.filter(i => i.product_id === productId)).toEqual([]);
	});

	it("settles a claim left with an unknown outcome when the customer never retries", async () => {
		const { token, userId } = await customerWithCart();
		loseAnswer = true;
		unreachable = true;
		expect((await api<CheckoutBody>("POST", "/checkout", { token, body: BODY })).body.type).toBe("CHECKOUT_OUTCOME_UNKNOWN");
		const checkout = shop.broker.getLocalService("checkout") as unknown as { unknownOutcomes: { runOnce(): Promise<number> } };
		// orders still cannot say: the claim stays as it was, its order key kept.
		expect(await checkout.unknownOutcomes.runOnce()).toBe(0);
		unreachable = false;
		expect(await checkout.unknownOutcomes.runOnce()).toBe(1);
		const cart = await api<{ items: unknown[] }>("GET", "/cart", { token });
		expect(cart.body.items).toEqual([]);
		const { rows } = await shop.broker.call<{ rows: Array<{ id: string }> }, object>("orders.find", { user_id: userId });
		expect(rows).toHaveLength(1);
		// The customer's click now answers that order (the claim is done), never a second one.
		const again = await api<CheckoutBody>("POST", "/checkout", { token, body: BODY });
		expect(again.body.order?.id ?? again.body.type).not.toBe(undefined);
		const after = await shop.broker.call<{ rows: Array<{ id: string }> }, object>("orders.find", { user_id: userId });
		expect(after.rows).toHaveLength(1);
	});
});
