/**
 * Settings over NATS: a flag switched off through the gateway of one node is honoured by the gateway of another
 * node within one second (the `settings.changed` broadcast), and a change of the settings reaches that node's cache.
 */
import { SETTINGS_CHANGED_EVENT, type SettingsCacheVars } from "../../services/settings/client";
import { eventually } from "../helpers/eventually";
import { NATS_URL, http, loginAdmin, startShop, type Shop } from "../helpers/shop";

describe("settings over NATS: two gateways, one settings service", () => {
	const ns = `t-setnats-${Date.now()}-${Math.random().toString(36).slice(2)}`;
	const env = { NATS_URL, NAMESPACE: ns };
	const shops: Shop[] = [];
	let a: Shop;
	let b: Shop;
	let admin: string;
	const cacheOf = (shop: Shop): SettingsCacheVars["settingsCache"] => (shop.broker.getLocalService("api") as unknown as SettingsCacheVars).settingsCache;
	/** An anonymous checkout: 401 while checkout is on (the gateway wants a customer), 503 while it is off. */
	const checkoutStatus = async (shop: Shop): Promise<number> => (await http(shop.url, "POST", "/api/v1/checkout", { body: {} })).status;

	beforeAll(async () => {
		// checkout runs on node a: node b's gateway knows checkout.start, and its `feature`, from the registry.
		a = await startShop(["api", "users", "settings", "checkout"], env, `settings-a-${ns}`);
		shops.push(a);
		b = await startShop(["api", "products"], env, `gateway-b-${ns}`);
		shops.push(b);
		// Node b has loaded the settings of node a (over NATS) before the test starts.
		await eventually(() => expect(cacheOf(b).loaded).toBe(true), 10_000);
		// ... and node a knows node b's subscription to the broadcast (about a second after b joined).
		const registry = a.broker.registry as unknown as { events: { getAllEndpoints(name: string): Array<{ id: string }> } };
		await eventually(() => expect(registry.events.getAllEndpoints(SETTINGS_CHANGED_EVENT).map(e => e.id)).toContain(b.broker.nodeID), 10_000);
		admin = await loginAdmin(a.url, a.config);
	}, 30_000);
	afterAll(async () => {
		for (const s of shops.reverse()) await s.stop();
	});

	it("honours on node b, within one second, checkout switched off through node a, while b's catalog answers", async () => {
		expect(await checkoutStatus(b)).toBe(401);
		const started = Date.now();
		const res = await http(a.url, "PUT", "/api/v1/admin/flags/checkout", { token: admin, body: { enabled: false } });
		expect(res.status).toBe(200);
		await eventually(async () => expect(await checkoutStatus(b)).toBe(503), 1000, 5);
		const seenAfter = Date.now() - started;
		if (process.env.SHOW_TIMING) process.stderr.write(`checkout off seen by node b after ${seenAfter} ms\n`);
		expect(seenAfter).toBeLessThan(1000);
		expect((await http(b.url, "GET", "/api/v1/products")).status).toBe(200);

		await http(a.url, "PUT", "/api/v1/admin/flags/checkout", { token: admin, body: { enabled: true } });
		await eventually(async () => expect(await checkoutStatus(b)).toBe(401), 1000, 5);
	});

	it("gives node b's cache a change of the settings within one second", async () => {
		await http(a.url, "PUT", "/api/v1/admin/settings", { token: admin, body: { shipping: { flat_fee: 3.5 } } });
		await eventually(() => expect(cacheOf(b).settings.shipping.flat_fee).toBe(3.5), 1000, 5);
	});

	it("loads the current settings on a node that starts after the change", async () => {
		const c = await startShop(["api"], env, `gateway-c-${ns}`);
		shops.push(c);
		await eventually(() => expect(cacheOf(c).settings.shipping.flat_fee).toBe(3.5), 5000);
	});
});
