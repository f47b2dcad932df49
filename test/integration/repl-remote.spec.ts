/**
 * The README's recipe for a REPL on another machine: a node started with SERVICES=none and the cluster's NATS_URL runs
 * no service of its own, joins over NATS, and calls the shop's actions, user-scoped ones with a user in `meta` (what
 * moleculer-repl's `call <action> [params] [meta]` passes).
 */
import type { ServiceBroker } from "moleculer";
import { createShopBroker } from "../../config/boot/broker";
import { setConfig } from "../../config/env";
import { NATS_URL, testConfig } from "../helpers/shop";

const ns = `t-repl-remote-${process.pid}-${Date.now()}`;

describe("a REPL node on another machine", () => {
	let shop: ServiceBroker;
	let repl: ServiceBroker;

	beforeAll(async () => {
		shop = createShopBroker({ config: setConfig(testConfig({ NAMESPACE: ns, NATS_URL })), services: ["users"], broker: { nodeID: `shop-${ns}` } });
		await shop.start();
		// As `npm run repl` builds it: the services come from SERVICES.
		const config = setConfig(testConfig({ NAMESPACE: ns, NATS_URL, SERVICES: "none" }));
		repl = createShopBroker({ config, broker: { nodeID: `repl-${ns}` } });
		await repl.start();
		await repl.waitForServices(["users"], 10_000);
	}, 30_000);

	afterAll(async () => {
		await repl?.stop();
		await shop?.stop();
	});

	it("runs no service of its own with SERVICES=none", () => {
		expect(repl.services.filter(s => !s.name.startsWith("$")).map(s => s.name)).toEqual([]);
	});

	it("calls a user-scoped action as the user named in meta, and is refused without one", async () => {
		const { user } = await repl.call<{ user: { id: string; email: string; name: string; role: "customer" } }, object>("users.register", {
			email: `repl-${Date.now()}@example.com`,
			password: "correct-horse-battery",
			name: "Repl User",
		});
		const meta = { user: { id: user.id, email: user.email, name: user.name, role: user.role } };
		await expect(repl.call("users.me", {}, { meta })).resolves.toMatchObject({ id: user.id, name: "Repl User" });
		await expect(repl.call("users.me", {})).rejects.toMatchObject({ code: 401 });
	});
});
