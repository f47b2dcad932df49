/**
 * A node that dies and comes back under the same NODE_ID before the others miss its heartbeats (a container
 * restarted in place, `npm start` again on the same host) is, for Moleculer, the same node with a new instance id:
 * requests that were waiting for the dead instance's answer were left to time out (orders.create: 58 s, while the
 * customer waited). The node-restart middleware rejects them when the new instance announces itself, so callers
 * take their "lost on the way" path (checkout: the order by its key, or CHECKOUT_OUTCOME_UNKNOWN) at once.
 */
import type { ServiceSchema } from "moleculer";
import { NATS_URL, startShop, type Shop } from "../helpers/shop";

describe("a node restarted under the same id", () => {
	const namespace = `t-restart-${process.pid}-${Date.now()}`;
	const nodeId = `restart-back-${process.pid}`;
	let front: Shop;
	let back: Shop | null = null;
	let crashed: Shop | null = null;

	const stuck: ServiceSchema = {
		name: "stuck",
		actions: {
			wait: {
				retryPolicy: { enabled: false },
				handler: () => new Promise(() => undefined),
			},
		},
	};

	beforeAll(async () => {
		crashed = await startShop([], { NATS_URL, NAMESPACE: namespace }, nodeId);
		crashed.broker.createService(stuck);
		front = await startShop([], { NATS_URL, NAMESPACE: namespace }, `restart-front-${process.pid}`);
		await front.broker.waitForServices(["stuck"], 10_000);
	}, 30_000);

	afterAll(async () => {
		await front?.stop();
		await back?.stop();
	});

	it("rejects the calls waiting for the dead instance as soon as the new one announces itself", async () => {
		const started = Date.now();
		const pending = front.broker.call("stuck.wait", {}, { timeout: 20_000 }).then(
			() => ({ name: "answered", at: Date.now() - started }),
			(err: Error) => ({ name: err.name, at: Date.now() - started }),
		);
		await new Promise(r => setTimeout(r, 300));
		// Dies without a goodbye: its NATS connection is cut, as a SIGKILL would.
		const tx = (crashed!.broker as unknown as { transit: { tx: { disconnect(): Promise<void> } } }).transit.tx;
		await tx.disconnect();
		crashed = null;
		back = await startShop([], { NATS_URL, NAMESPACE: namespace }, nodeId);

		const outcome = await pending;
		expect(outcome.name).toBe("RequestRejectedError");
		// Well before the 20 s timeout and the 6 s heartbeat timeout.
		expect(outcome.at).toBeLessThan(5_000);
	}, 40_000);
});
