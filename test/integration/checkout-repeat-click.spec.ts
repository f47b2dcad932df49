/**
 * A repeated click that lands while checkout takes the ordered lines out of the cart gets the order being placed:
 * checkout marks its cart claim done before it clears the cart, so the click sees either the cart as it was (its
 * claim: the same order) or an emptied cart whose last order is this one, never an empty cart beside a claim still
 * in progress, which answered the customer's previous order and left the new one named by nobody (crashtest
 * --cluster found it as "orders no answer named").
 */
import type { Context, ServiceSchema } from "moleculer";
import { loadServiceSchema } from "../../config/boot/broker";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface CheckoutBody {
	order: { id: string; status: string };
}

const ADDRESS = { street: "123 Main St", city: "Springfield", postal_code: "12345", country: "US" };

describe("a repeated click while checkout clears the cart", () => {
	let shop: Shop;
	/** Runs inside cart.clearFor, once the lines are gone and before checkout hears back. */
	let whileClearing: (() => Promise<void>) | null = null;

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "inventory", "checkout", "orders", "payments", "shipping"], { NAMESPACE: `t-repeat-${Date.now()}` });
		const cart = loadServiceSchema("cart", shop.config);
		const clearFor = (cart.actions as Record<string, { handler: (this: unknown, ctx: Context) => Promise<unknown> }>).clearFor;
		const observed: ServiceSchema = {
			name: "cart",
			mixins: [cart],
			actions: {
				clearFor: {
					...clearFor,
					async handler(this: unknown, ctx: Context) {
						const result = await clearFor.handler.call(this, ctx);
						const hook = whileClearing;
						whileClearing = null;
						if (hook) await hook();
						return result;
					},
				},
			},
		};
		shop.broker.createService(observed);
		await shop.broker.waitForServices(["cart"]);
	});
	afterAll(() => shop.stop());

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string } = {}) => http<T>(shop.url, method, `/api/v1${path}`, opts);

	it("answers the order being placed, not the customer's previous order", async () => {
		const admin = await loginAdmin(shop.url, shop.config);
		const productId = `repeat-${Date.now()}`;
		expect((await api("POST", "/products", { token: admin, body: { id: productId, name: "Repeat", brand: "Acme", category: "gadgets", price: 10 } })).status).toBe(201);
		expect((await api("PUT", `/inventory/${productId}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 10 } })).status).toBe(200);
		const { token } = await registerCustomer(shop.url);
		const body = { shipping_address: ADDRESS, payment_method: "card-456" };

		expect((await api("POST", "/cart/add", { token, body: { product_id: productId, quantity: 1 } })).status).toBe(200);
		const previous = await api<CheckoutBody>("POST", "/checkout", { token, body });
		expect(previous.status).toBe(201);

		expect((await api("POST", "/cart/add", { token, body: { product_id: productId, quantity: 2 } })).status).toBe(200);
		let repeat: Awaited<ReturnType<typeof api<CheckoutBody>>> | null = null;
		whileClearing = async () => {
			repeat = await api<CheckoutBody>("POST", "/checkout", { token, body });
		};
		const placed = await api<CheckoutBody>("POST", "/checkout", { token, body });
		expect(placed.status).toBe(201);
		expect(placed.body.order.id).not.toBe(previous.body.order.id);
		expect(repeat).not.toBeNull();
		expect(repeat!.status).toBe(201);
		expect(repeat!.body.order.id).toBe(placed.body.order.id);
	});
});
