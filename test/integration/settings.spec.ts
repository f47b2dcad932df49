/**
 * The settings service through the gateway: admin-only settings and flags, validation that names the field and
 * writes nothing, the public subset, a switched-off feature answering 503 FEATURE_DISABLED while the catalog still
 * answers, customers' preferences honoured by notifications, and the low-stock threshold read by inventory.
 */
import type { REPLServer } from "node:repl";
import type { ServiceBroker, ServiceSchema } from "moleculer";
import { replOptions } from "../../config/boot/repl-commands";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin";
import { EVENTS, type DomainEvent } from "../../services/common/events";
import type { Flags, Settings, SettingsCacheVars } from "../../services/settings/client";
import { eventually } from "../helpers/eventually";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { payloadOf } from "../helpers/events";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const REPL = require("moleculer-repl") as (broker: ServiceBroker, opts: typeof replOptions) => REPLServer;

const sent: DomainEvent[] = [];
/** Publishes the events a test asks for and watches notification.sent. */
const ledger: ServiceSchema = {
	name: "ledger",
	mixins: [EventsMixin({ handlers: { [EVENTS.NOTIFICATION_SENT]: async (e: DomainEvent) => void sent.push(e) } })],
};

describe("settings through the gateway", () => {
	let shop: Shop;
	let admin: string;
	let customer: { token: string; id: string };
	const api = (method: string, path: string, opts: { body?: unknown; token?: string } = {}) => http(shop.url, method, `/api/v1${path}`, opts);

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "inventory", "reviews", "cart", "checkout", "notifications", "settings"], {
			NAMESPACE: `t-settings-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
			LOW_STOCK_THRESHOLD: "7",
		});
		shop.broker.createService(ledger);
		await shop.broker.waitForServices(["ledger"]);
		await shop.broker.call("products.seedDemo", {});
		admin = await loginAdmin(shop.url, shop.config);
		customer = await registerCustomer(shop.url);
	});
	afterAll(async () => {
		await shop.stop();
	});

	describe("settings", () => {
		it("lets only admins read and change them: 401 without a token, 403 for a customer", async () => {
			expect((await api("GET", "/admin/settings")).status).toBe(401);
			expect((await api("GET", "/admin/settings", { token: customer.token })).status).toBe(403);
			expect((await api("PUT", "/admin/settings", { token: customer.token, body: { store_name: "Mine" } })).status).toBe(403);
			expect((await api("PUT", "/admin/settings", { body: { store_name: "Mine" } })).status).toBe(401);
			expect((await api("GET", "/admin/flags", { token: customer.token })).status).toBe(403);
			expect((await api("PUT", "/admin/flags/checkout", { token: customer.token, body: { enabled: false } })).status).toBe(403);
			expect((await api("PUT", "/admin/flags/checkout", { body: { enabled: false } })).status).toBe(401);
		});

		it("starts from the environment's low-stock threshold and fixed defaults", async () => {
			const res = await api("GET", "/admin/settings", { token: admin });
			expect(res.status).toBe(200);
			expect(res.body).toMatchObject({ store_name: "ShopFlow", currency: "USD", low_stock_threshold: 7, shipping: { flat_fee: 0, free_over: null } });
		});

		it("merges a change section by section and shows it to the public without the admin-only fields", async () => {
			const put = await api("PUT", "/admin/settings", {
				token: admin,
				body: { store_name: "Corner Shop", shipping: { flat_fee: 4.99, free_over: 50 }, tax: { default_rate: 5, rates: { us: 8.25, DE: 19 } } },
			});
			expect(put.status).toBe(200);
			expect(put.body).toMatchObject({ store_name: "Corner Shop", shipping: { flat_fee: 4.99, free_over: 50 }, tax: { default_rate: 5, rates: { US: 8.25, DE: 19 } }, low_stock_threshold: 7 });
			const again = await api("PUT", "/admin/settings", { token: admin, body: { shipping: { flat_fee: 5.99 }, marketplace: { commission_percent: 12.5 } } });
			expect(again.body).toMatchObject({ shipping: { flat_fee: 5.99, free_over: 50 }, tax: { rates: { US: 8.25 } }, marketplace: { commission_percent: 12.5 } });

			const pub = await api("GET", "/settings");
			expect(pub.status).toBe(200);
			expect(pub.body).toEqual({
				store_name: "Corner Shop",
				currency: "USD",
				shipping: { flat_fee: 5.99, free_over: 50 },
				tax: { default_rate: 5, rates: { US: 8.25, DE: 19 } },
				features: { checkout: true, reviews: true, vouchers: true, marketplace: true },
			});
		});

		it.each([
			[{ shipping: { flat_fee: -1 } }, "shipping.flat_fee"],
			[{ shipping: { flat_fee: 1.234 } }, "shipping.flat_fee"],
			[{ tax: { rates: { US: 150 } } }, "tax.rates"],
			[{ tax: { default_rate: 101 } }, "tax.default_rate"],
			[{ currency: "dollars" }, "currency"],
			[{ low_stock_threshold: 2.5 }, "low_stock_threshold"],
			[{ shipping: { flat_fee: 1, fee: 2 } }, "shipping"],
			[{ colour: "red" }, "colour"],
		])("refuses %j with a 422 naming %s and writes nothing", async (body, field) => {
			const before = (await api("GET", "/admin/settings", { token: admin })).body;
			const res = await api("PUT", "/admin/settings", { token: admin, body: { store_name: "Half Written", ...body } });
			expect(res.status).toBe(422);
			expect(JSON.stringify(res.body)).toContain(field);
			expect((await api("GET", "/admin/settings", { token: admin })).body).toEqual(before);
		});

		it("gives inventory the threshold an admin sets: a fall below it is announced", async () => {
			await api("PUT", "/admin/settings", { token: admin, body: { low_stock_threshold: 42 } });
			const inventory = shop.broker.getLocalService("inventory") as unknown as SettingsCacheVars;
			await eventually(() => expect(inventory.settingsCache.settings.low_stock_threshold).toBe(42), 1000);
			const product = { id: "threshold-widget", name: "Threshold Widget", brand: "Acme", category: "gadgets", price: 5 };
			expect((await api("POST", "/products", { token: admin, body: product })).status).toBe(201);
			await api("POST", "/inventory/threshold-widget/restock", { token: admin, body: { warehouse_id: "wh-central", quantity: 100 } });
			// 41 is far above the environment's 7: only the setting makes it low.
			expect((await api("PUT", "/inventory/threshold-widget", { token: admin, body: { warehouse_id: "wh-central", on_hand: 41 } })).status).toBe(200);
			await eventually(async () => {
				const notices = await api("GET", "/account/notifications", { token: admin });
				expect(JSON.stringify(notices.body)).toContain("Stock of threshold-widget is low: 41 left (threshold 42).");
			}, 5000);
		});
	});

	describe("feature flags", () => {
		afterEach(async () => {
			for (const name of ["checkout", "reviews"]) await api("PUT", `/admin/flags/${name}`, { token: admin, body: { enabled: true } });
		});

		it("lists the flags and refuses an unknown one with a 404", async () => {
			const res = await api("GET", "/admin/flags", { token: admin });
			expect(res.body).toEqual({ checkout: true, reviews: true, vouchers: true, marketplace: true });
			expect((await api("PUT", "/admin/flags/teleport", { token: admin, body: { enabled: false } })).status).toBe(404);
			expect((await api("PUT", "/admin/flags/checkout", { token: admin, body: { enabled: "no" } })).status).toBe(422);
		});

		it("answers 503 FEATURE_DISABLED with Retry-After on checkout while it is off, and the catalog still answers", async () => {
			const off = await api("PUT", "/admin/flags/checkout", { token: admin, body: { enabled: false } });
			expect(off.body).toMatchObject({ checkout: false });
			await eventually(async () => {
				const res = await api("POST", "/checkout", { token: customer.token, body: { shipping_address: "1 Main St", payment_method: "card-456" } });
				expect(res.status).toBe(503);
				expect(res.body).toMatchObject({ type: "FEATURE_DISABLED", data: { feature: "checkout" } });
				expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
			}, 1000);
			expect((await api("GET", "/products")).status).toBe(200);
			expect((await api("GET", "/reviews?product_id=laptop-123")).status).toBe(200);
			expect((await api("GET", "/settings")).body).toMatchObject({ features: { checkout: false } });

			await api("PUT", "/admin/flags/checkout", { token: admin, body: { enabled: true } });
			await eventually(async () => {
				// On again: the checkout runs (an empty cart is the checkout's own answer, not the switch's).
				const res = await api("POST", "/checkout", { token: customer.token, body: { shipping_address: "1 Main St", payment_method: "card-456" } });
				expect(res.body).not.toMatchObject({ type: "FEATURE_DISABLED" });
			}, 1000);
		});

		it("switches off every route of reviews and nothing else", async () => {
			await api("PUT", "/admin/flags/reviews", { token: admin, body: { enabled: false } });
			await eventually(async () => expect((await api("GET", "/reviews?product_id=laptop-123")).status).toBe(503), 1000);
			const post = await api("POST", "/reviews", { token: customer.token, body: { product_id: "laptop-123", rating: 5 } });
			expect(post).toMatchObject({ status: 503, body: { type: "FEATURE_DISABLED" } });
			expect((await api("GET", "/products/laptop-123")).status).toBe(200);
			expect((await api("GET", "/cart", { token: customer.token })).status).toBe(200);
		});
	});

	describe("preferences", () => {
		const publish = async (payload: object): Promise<void> => {
			await (shop.broker.getLocalService("ledger") as unknown as EventsMethods).publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, payload as Record<string, unknown>));
		};

		it("needs a token", async () => {
			expect((await api("GET", "/account/preferences")).status).toBe(401);
			expect((await api("PUT", "/account/preferences", { body: { language: "de" } })).status).toBe(401);
		});

		it("starts from the profile's channel and keeps what the customer saves", async () => {
			const ann = await registerCustomer(shop.url);
			await api("PUT", "/account/profile", { token: ann.token, body: { notification_channel: "sms" } });
			expect((await api("GET", "/account/preferences", { token: ann.token })).body).toEqual({ notification_channels: { email: false, sms: true, push: false }, language: "en" });
			const put = await api("PUT", "/account/preferences", { token: ann.token, body: { notification_channels: { push: true }, language: "de-CH" } });
			expect(put.body).toEqual({ notification_channels: { email: false, sms: true, push: true }, language: "de-CH" });
			expect((await api("GET", "/account/preferences", { token: ann.token })).body).toEqual(put.body);
			// Someone else's preferences are their own.
			expect((await api("GET", "/account/preferences", { token: customer.token })).body).toMatchObject({ notification_channels: { email: true, sms: false } });
		});

		it.each([
			[{ notification_channels: { email: "yes" } }, "notification_channels.email"],
			[{ notification_channels: { pigeon: true } }, "notification_channels"],
			[{ language: "not a language" }, "language"],
		])("refuses %j with a 422 naming %s", async (body, field) => {
			const res = await api("PUT", "/account/preferences", { token: customer.token, body });
			expect(res.status).toBe(422);
			expect(JSON.stringify(res.body)).toContain(field);
		});

		it("notifies on the channels switched on, never on one switched off, and not at all with every channel off", async () => {
			const bea = await registerCustomer(shop.url);
			await api("PUT", "/account/preferences", { token: bea.token, body: { notification_channels: { email: false, sms: true, push: true } } });
			await publish({ order_id: "o-bea-1", user_id: bea.id, total_cents: 100, currency: "USD" });
			await eventually(() => expect(sent.filter(e => e.user_id === bea.id)).toHaveLength(1), 5000);
			const first = sent.find(e => e.user_id === bea.id) as DomainEvent;
			expect(first.channels).toEqual(["sms", "push"]);
			const list = await api("GET", "/account/notifications", { token: bea.token });
			expect(list.body).toMatchObject({ rows: [{ order_id: "o-bea-1", channel: "sms", channels: ["sms", "push"] }] });

			await api("PUT", "/account/preferences", { token: bea.token, body: { notification_channels: { sms: false, push: false } } });
			await publish({ order_id: "o-bea-2", user_id: bea.id, total_cents: 100, currency: "USD" });
			// A marker for another customer, published after: once it is sent, Bea's second order was handled.
			await publish({ order_id: "o-marker", user_id: customer.id, total_cents: 100, currency: "USD" });
			await eventually(() => expect(sent.some(e => e.order_id === "o-marker")).toBe(true), 5000);
			expect(sent.filter(e => e.user_id === bea.id)).toHaveLength(1);
			expect((await api("GET", "/account/notifications", { token: bea.token })).body).toMatchObject({ total: 1 });
		});
	});

	describe("REPL", () => {
		let repl: REPLServer;
		let output: string[] = [];
		let write: jest.SpyInstance;
		const run = async (line: string): Promise<string> => {
			output = [];
			await new Promise(resolve => repl.eval(line, repl.context, "repl", resolve));
			return output.join("");
		};
		beforeAll(() => {
			write = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array): boolean => {
				output.push(String(chunk));
				return true;
			});
			repl = REPL(shop.broker, replOptions);
			repl.removeAllListeners("exit");
		});
		afterAll(() => {
			repl.close();
			write.mockRestore();
		});

		it("shows and sets settings by path, keeping the other tax rates", async () => {
			expect(await run("settings")).toContain('"store_name"');
			await run("settings tax.rates.FR 20");
			await run("settings store_name Repl-Shop");
			const settings = (await shop.broker.call("settings.get")) as Settings;
			expect(settings.tax.rates).toMatchObject({ FR: 20, US: 8.25, DE: 19 });
			expect(settings.store_name).toBe("Repl-Shop");
			expect(await run("settings shipping.flat_fee -3")).toMatch(/shipping\.flat_fee/);
		});

		it("shows and switches flags", async () => {
			expect(await run("flags")).toMatch(/checkout\s*│?\s*on/);
			await run("flags vouchers off");
			expect(((await shop.broker.call("settings.flags")) as Flags).vouchers).toBe(false);
			await run("flags vouchers on");
			expect(((await shop.broker.call("settings.flags")) as Flags).vouchers).toBe(true);
		});
	});
});
