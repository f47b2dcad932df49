import { http, NATS_URL, startShop, type Shop } from "../helpers/shop";

describe("api and users on two brokers over the real NATS", () => {
	const namespace = `t-accounts-${process.pid}-${Date.now()}`;
	let gateway: Shop;
	let users: Shop;

	beforeAll(async () => {
		users = await startShop(["users"], { NATS_URL, NAMESPACE: namespace }, `users-node-${process.pid}`);
		gateway = await startShop(["api"], { NATS_URL, NAMESPACE: namespace }, `gateway-node-${process.pid}`);
		await gateway.broker.waitForServices(["users"], 10_000);
	});
	afterAll(async () => {
		await gateway?.stop();
		await users?.stop();
	});

	it("registers and logs in through a gateway whose users service runs on another node", async () => {
		expect(gateway.broker.getLocalService("users")).toBeFalsy();
		const reg = await http<{ token: string; user: { email: string } }>(gateway.url, "POST", "/api/v1/users/register", {
			body: { email: "remote@example.com", password: "far-away-pass", name: "Remote" },
		});
		expect(reg.status).toBe(201);
		const login = await http<{ token: string }>(gateway.url, "POST", "/api/v1/users/login", {
			body: { email: "remote@example.com", password: "far-away-pass" },
		});
		expect(login.status).toBe(200);
		const me = await http(gateway.url, "GET", "/api/v1/account/profile", { token: login.body.token });
		expect(me.body).toMatchObject({ email: "remote@example.com" });
	});

	it("routes the call to the users node", async () => {
		const nodes = gateway.broker.registry.getActionEndpoints("users.login")?.endpoints.map(e => e.node.id);
		expect(nodes).toEqual([`users-node-${process.pid}`]);
	});

	it("reports the transporter and the remote storage as ready", async () => {
		const ready = await http<{ checks: { transporter: string; storage: Record<string, string> } }>(gateway.url, "GET", "/health/ready");
		expect(ready.status).toBe(200);
		expect(ready.body.checks.transporter).toBe("ok");
		expect(ready.body.checks.storage.users).toBe("ok");
	});

	it("answers 503 with a clear message while no users node is reachable", async () => {
		await users.stop();
		await new Promise(r => setTimeout(r, 300));
		const res = await http(gateway.url, "POST", "/api/v1/users/login", { body: { email: "remote@example.com", password: "far-away-pass" } });
		expect(res.status).toBe(503);
		users = await startShop(["users"], { NATS_URL, NAMESPACE: namespace }, `users-node-${process.pid}`);
		await gateway.broker.waitForServices(["users"], 10_000);
		const again = await http(gateway.url, "POST", "/api/v1/users/login", { body: { email: "admin@shopflow.local", password: "admin-password" } });
		expect(again.status).toBe(200);
	});
});
