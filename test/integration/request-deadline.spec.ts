/**
 * A request held in transit (a NATS outage keeps it in the client's buffer until NATS is back; here a proxy between
 * the calling node and NATS holds what that node sends) must not start its work after its caller gave up. Moleculer
 * sends the time a request has left and starts counting again when it arrives, so without the deadline middleware
 * a request held for 2.5 s arrives with its whole timeout and runs: a checkout placed for a customer who was already
 * told "unknown, retry", or an orders.create for a checkout that had already answered.
 */
import net from "node:net";
import type { Context, ServiceSchema } from "moleculer";
import { NATS_URL, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

interface HoldingProxy {
	port: number;
	/** From now on, what the clients send waits (in order) until release. */
	hold(): void;
	release(): void;
	close(): Promise<void>;
}

/** A TCP proxy to NATS whose client-to-server direction can be held. */
async function holdingProxy(target: URL): Promise<HoldingProxy> {
	const clients = new Set<net.Socket>();
	const sockets = new Set<net.Socket>();
	let held = false;
	const server = net.createServer(client => {
		const upstream = net.connect({ host: target.hostname, port: Number(target.port) });
		for (const s of [client, upstream]) {
			sockets.add(s);
			s.on("error", () => undefined);
			s.on("close", () => (s === client ? upstream : client).destroy());
		}
		client.pipe(upstream);
		upstream.pipe(client);
		clients.add(client);
		if (held) client.pause();
	});
	await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
	return {
		port: (server.address() as net.AddressInfo).port,
		hold() {
			held = true;
			for (const c of clients) c.pause();
		},
		release() {
			held = false;
			for (const c of clients) c.resume();
		},
		async close() {
			for (const s of sockets) s.destroy();
			await new Promise(r => server.close(r));
		},
	};
}

describe("a request held in transit past its caller's deadline", () => {
	let proxy: HoldingProxy;
	let front: Shop;
	let back: Shop;
	const ran: Array<{ n: number; timeout: number | null }> = [];

	const probe: ServiceSchema = {
		name: "probe",
		actions: {
			touch: {
				retryPolicy: { enabled: false },
				handler(ctx: Context<{ n: number }>) {
					ran.push({ n: ctx.params.n, timeout: ctx.options.timeout ?? null });
					return ctx.params.n;
				},
			},
		},
	};

	beforeAll(async () => {
		proxy = await holdingProxy(new URL(NATS_URL));
		const namespace = `t-deadline-${process.pid}-${Date.now()}`;
		back = await startShop([], { NATS_URL, NAMESPACE: namespace }, `deadline-back-${process.pid}`);
		back.broker.createService(probe);
		front = await startShop([], { NATS_URL: `nats://127.0.0.1:${proxy.port}`, NAMESPACE: namespace }, `deadline-front-${process.pid}`);
		await front.broker.waitForServices(["probe"], 10_000);
	}, 30_000);

	afterAll(async () => {
		proxy?.release();
		// The front waits its 10 s grace for the late call's context: Moleculer keeps tracking a remote call that timed
		// out on the caller's side until an answer that its transit no longer waits for (seen before this fix too).
		await front?.stop();
		await back?.stop();
		await proxy?.close();
	});

	it("starts no work for a request that arrives after its caller gave up, and counts the time in transit against one that arrives in time", async () => {
		expect(await front.broker.call("probe.touch", { n: 0 }, { timeout: 5_000 })).toBe(0);
		ran.length = 0;

		proxy.hold();
		// Both wait on the way to NATS. The first caller gives up after 1 s; the second would wait 30 s.
		const late = front.broker.call("probe.touch", { n: 1 }, { timeout: 1_000 }).then(
			() => "answered",
			(err: Error) => err.name,
		);
		const patient = front.broker.call("probe.touch", { n: 2 }, { timeout: 30_000 }).catch((err: Error) => err.name);
		await sleep(2_500);
		proxy.release();

		expect(await late).toBe("RequestTimeoutError");
		expect(await patient).toBe(2);
		await eventually(() => expect(ran.map(r => r.n)).toContain(2), 5_000);
		// Give the late one every chance to show up.
		await sleep(500);
		expect(ran.map(r => r.n)).toEqual([2]);
		// The patient request ran with what was left of its 30 s, not a fresh 30 s.
		expect(ran[0].timeout).toBeLessThanOrEqual(30_000 - 2_000);
	}, 40_000);
});
