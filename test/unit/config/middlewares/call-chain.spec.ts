import { Errors, ServiceBroker, type BrokerOptions, type Context, type Middleware } from "moleculer";
import { collectUpstreamCalls, takeUpstreamCalls, type CallRecord } from "../../../../services/common/call-chain";
import { CallChainMiddleware } from "../../../../config/middlewares/call-chain";

/** Two brokers over Moleculer's in-process transporter: "front" calls "back" on the other node. */
function brokers(namespace: string): { front: ServiceBroker; back: ServiceBroker; chainCalls: string[] } {
	const chainCalls: string[] = [];
	const common: BrokerOptions = {
		namespace,
		transporter: "Fake",
		logger: false,
		retryPolicy: { enabled: true, retries: 2, delay: 5, maxDelay: 10, factor: 2, check: (err: Error) => !!(err as Errors.MoleculerError).retryable },
	};
	// One call-chain middleware per broker (it knows its node).
	const counter = {
		name: "count",
		localAction: (next: (ctx: Context) => unknown, action: { name?: string }) => (ctx: Context) => (chainCalls.push(action.name ?? ""), next(ctx)),
	} as unknown as Middleware;
	const middlewares = () => [CallChainMiddleware(), counter];
	const front = new ServiceBroker({ ...common, nodeID: "front", middlewares: middlewares() });
	const back = new ServiceBroker({ ...common, nodeID: "back", middlewares: middlewares() });
	let flaky = 0;
	back.createService({
		name: "back",
		actions: {
			leaf: (ctx: Context<{ n: number }>) => ctx.params.n,
			branch: async (ctx: Context) => (await ctx.call<number, { n: number }>("back.leaf", { n: 1 })) + 1,
			slow: async () => {
				await new Promise(r => setTimeout(r, 300));
				return "late";
			},
			flaky: () => {
				if (flaky++ === 0) throw new Errors.MoleculerRetryableError("try again", 503, "BUSY");
				return "ok";
			},
		},
	});
	front.createService({
		name: "front",
		actions: {
			async top(ctx: Context) {
				collectUpstreamCalls(ctx);
				await Promise.all([ctx.call("back.branch"), ctx.call("back.flaky"), ctx.call("front.local")]);
				return takeUpstreamCalls(ctx).map((c: CallRecord) => [c.action, c.code, c.node]);
			},
			local: (ctx: Context) => ctx.call("back.leaf", { n: 2 }),
			/** A call that times out between two that answer. */
			async withTimeout(ctx: Context) {
				collectUpstreamCalls(ctx);
				await ctx.call("back.leaf", { n: 4 });
				await ctx.call("back.slow", {}, { timeout: 50, retries: 0 }).catch(() => undefined);
				await ctx.call("back.branch");
				return takeUpstreamCalls(ctx).map((c: CallRecord) => c.action);
			},
			plain: (ctx: Context) => ctx.call("back.leaf", { n: 3 }),
		},
	});
	return { front, back, chainCalls };
}

describe("upstream calls collected in band", () => {
	let b: ReturnType<typeof brokers>;
	beforeAll(async () => {
		b = brokers(`cc-${process.pid}-${Date.now()}`);
		await Promise.all([b.front.start(), b.back.start()]);
		await b.front.waitForServices(["back"]);
	});
	afterAll(() => Promise.all([b.front.stop(), b.back.stop()]));

	it("brings back every call made under the context, across nodes, concurrent and nested, failed attempts included, without asking any node", async () => {
		const calls = (await b.front.call("front.top")) as Array<[string, number, string]>;
		expect(calls).toHaveLength(6);
		expect(calls).toEqual(
			expect.arrayContaining([
				["back.branch", 200, "back"],
				["back.leaf", 200, "back"], // under back.branch, local to the back node
				["back.flaky", 503, "back"],
				["back.flaky", 200, "back"], // the retry
				["front.local", 200, "front"],
				["back.leaf", 200, "back"], // under front.local
			]),
		);
		expect(calls.filter(c => c[0] === "back.leaf")).toHaveLength(2);
		expect(b.chainCalls.filter(a => a.startsWith("$callchain"))).toEqual([]);
	});

	it("keeps the records collected so far when a call times out, and goes on collecting after it", async () => {
		const actions = (await b.front.call("front.withTimeout")) as string[];
		expect([...actions].sort()).toEqual(["back.branch", "back.leaf", "back.leaf"]);
		// The slow call's late answer, once it comes, is dropped: nothing is added to a finished collection.
		await new Promise(r => setTimeout(r, 400));
	});

	it("leaves nothing in the response's meta, and calls outside a collecting context carry none", async () => {
		const ctxMeta: Record<string, unknown> = {};
		await b.front.call("front.top", {}, { meta: ctxMeta });
		expect(ctxMeta).not.toHaveProperty("$calls");
		const meta: Record<string, unknown> = {};
		expect(await b.front.call("front.plain", {}, { meta })).toBe(3);
		expect(meta).not.toHaveProperty("$calls");
	});
});
