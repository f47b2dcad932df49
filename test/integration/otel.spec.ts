import { randomBytes } from "node:crypto";
import {
	context,
	trace,
	type Attributes,
	type AttributeValue,
	type Context as OtelContext,
	type Span,
	type SpanContext,
	type SpanKind,
	type SpanOptions,
	type SpanStatus,
	type Tracer,
	type TracerProvider,
} from "@opentelemetry/api";
import type { Context, ServiceSchema } from "moleculer";
import { http, NATS_URL, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { startChaosShop } from "../chaos/shop";
import { collectCallChain } from "../../services/common/call-chain";

/** A span kept in memory: what an exporter would receive. */
class MemorySpan implements Span {
	attributes: Attributes = {};
	status: SpanStatus = { code: 0 };
	exceptions: unknown[] = [];
	ended = false;
	constructor(
		public name: string,
		public kind: SpanKind | undefined,
		private readonly sc: SpanContext,
		public parentSpanId: string | undefined,
		attributes: Attributes | undefined,
		private readonly finished: MemorySpan[],
	) {
		Object.assign(this.attributes, attributes);
	}
	spanContext(): SpanContext {
		return this.sc;
	}
	setAttribute(key: string, value: AttributeValue): this {
		this.attributes[key] = value;
		return this;
	}
	setAttributes(attributes: Attributes): this {
		Object.assign(this.attributes, attributes);
		return this;
	}
	addEvent(): this {
		return this;
	}
	addLink(): this {
		return this;
	}
	addLinks(): this {
		return this;
	}
	setStatus(status: SpanStatus): this {
		this.status = status;
		return this;
	}
	updateName(name: string): this {
		this.name = name;
		return this;
	}
	end(): void {
		if (this.ended) return;
		this.ended = true;
		this.finished.push(this);
	}
	isRecording(): boolean {
		return !this.ended;
	}
	recordException(exception: unknown): void {
		this.exceptions.push(exception);
	}
}

/** The smallest TracerProvider that records spans with their parents (the SDK is not a dependency). */
class MemoryTracerProvider implements TracerProvider {
	readonly spans: MemorySpan[] = [];
	getTracer(): Tracer {
		const spans = this.spans;
		const startSpan = (name: string, options: SpanOptions = {}, ctx: OtelContext = context.active()): Span => {
			const parent = options.root ? undefined : trace.getSpanContext(ctx);
			const sc: SpanContext = {
				traceId: parent?.traceId ?? randomBytes(16).toString("hex"),
				spanId: randomBytes(8).toString("hex"),
				traceFlags: 1,
			};
			return new MemorySpan(name, options.kind, sc, parent?.spanId, options.attributes, spans);
		};
		const startActiveSpan = (name: string, ...args: unknown[]): unknown => {
			const fn = args.pop() as (span: Span) => unknown;
			const [options, ctx] = args as [SpanOptions | undefined, OtelContext | undefined];
			const span = startSpan(name, options, ctx);
			return context.with(trace.setSpan(ctx ?? context.active(), span), () => fn(span));
		};
		return { startSpan, startActiveSpan } as Tracer;
	}
}

const provider = new MemoryTracerProvider();

const edgeNode: ServiceSchema = {
	name: "checkout",
	actions: {
		start: {
			async handler(ctx: Context): Promise<{ ok: true }> {
				await ctx.call("payments.charge", {});
				await ctx.call("inventory.reserve", {});
				await ctx.emit("order.created", { order_id: "o1", event_id: `e-${Math.random()}` });
				return { ok: true };
			},
		},
	},
};
const backNode: ServiceSchema[] = [
	{ name: "payments", actions: { charge: { handler: (): string => "charged" } } },
	{ name: "inventory", actions: { reserve: { handler: (): string => "reserved" } } },
	{ name: "notifications", events: { "order.created": { handler: (): void => undefined } } },
];

describe("OpenTelemetry spans", () => {
	let front: Shop;
	let back: Shop;
	beforeAll(async () => {
		trace.setGlobalTracerProvider(provider);
		const env = { NATS_URL, NAMESPACE: `t-otel-${Date.now()}-${Math.random().toString(36).slice(2)}` };
		back = await startShop([], env, `back-${process.pid}`);
		for (const s of backNode) back.broker.createService(s);
		front = await startShop(["api", "users"], env, `front-${process.pid}`);
		front.broker.createService(edgeNode);
		await front.broker.waitForServices(["payments", "inventory", "notifications", "checkout"], 10_000);
	});
	afterAll(async () => {
		await front?.stop();
		await back?.stop();
		trace.disable();
	});

	it("builds one tree for a gateway request across two nodes: request, actions and event delivery", async () => {
		const incomingTrace = randomBytes(16).toString("hex");
		const res = await http(front.url, "POST", "/api/v1/checkout", {
			body: {},
			headers: { traceparent: `00-${incomingTrace}-${randomBytes(8).toString("hex")}-01` },
		});
		expect(res.status).toBe(200);
		for (let i = 0; i < 50 && !provider.spans.some(s => s.name === "order.created → notifications"); i++) await new Promise(r => setTimeout(r, 20));

		const spans = provider.spans.filter(s => s.spanContext().traceId === incomingTrace);
		const byName = (name: string): MemorySpan => {
			const span = spans.find(s => s.name === name);
			if (!span) throw new Error(`no span ${name} among ${spans.map(s => s.name).join(", ")}`);
			return span;
		};
		const request = byName("POST /api/v1/checkout");
		const start = byName("checkout.start");
		const charge = byName("payments.charge");
		const reserve = byName("inventory.reserve");
		const delivery = byName("order.created → notifications");

		expect(start.parentSpanId).toBe(request.spanContext().spanId);
		expect(charge.parentSpanId).toBe(start.spanContext().spanId);
		expect(reserve.parentSpanId).toBe(start.spanContext().spanId);
		expect(delivery.parentSpanId).toBe(start.spanContext().spanId);
		expect(request.attributes["http.response.status_code"]).toBe(200);
		expect(start.attributes["moleculer.node_id"]).toBe(`front-${process.pid}`);
		expect(charge.attributes["moleculer.node_id"]).toBe(`back-${process.pid}`);

		// The call chain of the same request gathers the records of both nodes.
		const chain = await collectCallChain(front.broker, res.headers.get("x-trace-id") ?? "");
		expect(new Set(chain.map(c => c.node))).toEqual(new Set([`front-${process.pid}`, `back-${process.pid}`]));
		expect(chain.find(c => c.action === "payments.charge")?.node).toBe(`back-${process.pid}`);
	});

	it("shows on the gateway's span and call-chain row the status the client received, also when the gateway maps an error", async () => {
		// An action that calls a service nobody runs: ServiceNotFoundError (404) inside, which the gateway answers as 503.
		front.broker.createService({
			name: "orders",
			actions: { sagaLog: { handler: (ctx: Context) => ctx.call("nowhere.toBeFound", {}) } },
		});
		await front.broker.waitForServices(["orders"], 10_000);
		const res = await http(front.url, "GET", "/api/v1/admin/sagas/s-1");
		expect(res.status).toBe(503);
		const traceId = res.headers.get("x-trace-id") ?? "";
		const chain = await collectCallChain(front.broker, traceId);
		expect(chain.find(c => c.action === "api.rest")?.code).toBe(503);
		const request = provider.spans.find(s => s.name === "GET /api/v1/admin/sagas/s-1" && s.attributes["moleculer.request_id"] === traceId);
		expect(request?.attributes["http.response.status_code"]).toBe(503);
	});

	it("marks an injected failure on the span that failed", async () => {
		const res = await http(front.url, "POST", "/api/v1/checkout?behavior=payment:error=503:1", { body: {} });
		expect(res.status).toBe(503);
		const traceId = provider.spans.find(s => s.name === "POST /api/v1/checkout" && s.attributes["http.response.status_code"] === 503)
			?.spanContext().traceId;
		const charges = provider.spans.filter(s => s.name === "payments.charge" && s.spanContext().traceId === traceId);
		expect(charges.length).toBe(4);
		for (const c of charges) {
			expect(c.status.code).toBe(2);
			expect(c.attributes["shopflow.injected"]).toBe(true);
			expect(c.attributes["shopflow.status_code"]).toBe(503);
		}
	});
});

describe("OpenTelemetry spans of a real checkout", () => {
	it("nests the saga's calls under checkout.start under the gateway request", async () => {
		trace.setGlobalTracerProvider(provider);
		const shop = await startChaosShop({ productCount: 1, stock: 100 });
		try {
			const user = await registerCustomer(shop.url);
			await http(shop.url, "POST", "/api/v1/cart/add", { token: user.token, body: { product_id: shop.products[0], quantity: 1 } });
			const res = await http(shop.url, "POST", "/api/v1/checkout", { token: user.token, body: { shipping_address: "1 Test Street", payment_method: "card-456" } });
			expect(res.status).toBe(201);
			const request = provider.spans.find(s => s.name === "POST /api/v1/checkout" && s.attributes["http.response.status_code"] === 201);
			const traceId = request?.spanContext().traceId;
			const spans = provider.spans.filter(s => s.spanContext().traceId === traceId);
			const one = (name: string): MemorySpan => {
				const found = spans.filter(s => s.name === name);
				if (found.length !== 1) throw new Error(`${found.length} spans ${name} among ${spans.map(s => s.name).join(", ")}`);
				return found[0];
			};
			const start = one("checkout.start");
			const create = one("orders.create");
			expect(start.parentSpanId).toBe(request?.spanContext().spanId);
			expect(create.parentSpanId).toBe(start.spanContext().spanId);
			for (const step of ["payments.charge", "inventory.reserve", "shipping.create"]) expect(one(step).parentSpanId).toBe(create.spanContext().spanId);
			expect(one("inventory.commit").parentSpanId).toBe(one("shipping.create").spanContext().spanId);
			expect(spans.every(s => s.ended)).toBe(true);
		} finally {
			await shop.stop();
			trace.disable();
		}
	}, 60_000);
});
