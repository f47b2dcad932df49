/**
 * A saga step's call (mixins/saga/calls.ts) waits for a node when none offers the action's service (a node
 * restarting), and only then: a service that is there but refuses (an open circuit says SERVICE_NOT_AVAILABLE
 * too) fails as it did before. A real in-process broker.
 */
import { Errors, ServiceBroker, type Context } from "moleculer";
import { callTracked } from "../../../../mixins/saga/calls";
import { DEADLINE_HEADER } from "../../../../config/resilience";

describe("callTracked", () => {
	const broker = new ServiceBroker({ logger: false });
	beforeAll(() => broker.start());
	afterAll(() => broker.stop());

	it("waits for a service that no node offers yet, and calls it once it is there", async () => {
		const started = Date.now();
		setTimeout(() => broker.createService({ name: "later", actions: { ping: () => "pong" } }), 700);
		await expect(callTracked(broker, "later.ping", {}, {}, 5_000)).resolves.toBe("pong");
		expect(Date.now() - started).toBeGreaterThanOrEqual(650);
	});

	it("gives up after the wait when no node comes", async () => {
		const started = Date.now();
		await expect(callTracked(broker, "never.ping", {}, {}, 600)).rejects.toMatchObject({ type: expect.stringMatching(/^SERVICE_NOT_(FOUND|AVAILABLE)$/) });
		expect(Date.now() - started).toBeGreaterThanOrEqual(550);
	});

	it("waits at most half of what the request's caller has left (its deadline header)", async () => {
		broker.createService({
			name: "caller",
			actions: {
				run: async (ctx: Context) => {
					ctx.headers = { ...ctx.headers, [DEADLINE_HEADER]: Date.now() + 1_000 };
					return callTracked(broker, "absent.ping", {}, { parentCtx: ctx }, 5_000);
				},
			},
		});
		await broker.waitForServices(["caller"]);
		const started = Date.now();
		await expect(broker.call("caller.run")).rejects.toMatchObject({ type: expect.stringMatching(/^SERVICE_NOT_(FOUND|AVAILABLE)$/) });
		expect(Date.now() - started).toBeGreaterThanOrEqual(400);
		expect(Date.now() - started).toBeLessThan(900);
	});

	it("does not wait when the service is there but says it is not available (as an open circuit does)", async () => {
		let calls = 0;
		broker.createService({
			name: "refusing",
			actions: {
				ping: () => {
					calls++;
					throw new Errors.ServiceNotAvailableError({ action: "refusing.ping", nodeID: broker.nodeID });
				},
			},
		});
		await broker.waitForServices(["refusing"]);
		const started = Date.now();
		await expect(callTracked(broker, "refusing.ping", {}, {}, 5_000)).rejects.toMatchObject({ type: "SERVICE_NOT_AVAILABLE" });
		// Not retryable under the policy (a 404-coded error): one try, as before the wait existed.
		expect(calls).toBe(1);
		expect(Date.now() - started).toBeLessThan(500);
	});
});
