/**
 * Request and event-handler metrics at a cost a checkout can afford.
 *
 * Moleculer's own Metrics middleware records six registry updates per action call and per event handler
 * (each one turns its label object into a string key and looks it up): about 2.7 ms of CPU per checkout, a
 * fifth of all the CPU an order cost (measured with `npm run bench` and CPU profiles). This middleware keeps
 * the same series under the same Prometheus names (`moleculer_request_total`, `_active`, `_error_total`,
 * the `moleculer_request_time` histogram, and the `moleculer_event_received_*` ones) with one Map lookup per
 * call and plain number updates; the text is rendered only when `/metrics` is scraped. Client-side quantiles
 * are not kept: `histogram_quantile()` over the buckets gives them in Prometheus.
 *
 * `RequestMetricsMiddleware` is Moleculer's Metrics middleware with these hooks in the place of its action and
 * event hooks; it also counts the domain events this node publishes in `moleculer_event_emit_total{event}`.
 */
import { METRIC, type Context, type Middleware, type ServiceBroker } from "moleculer";
import { onPublished } from "../../services/common/published";
import { moleculerMiddlewareFactory } from "./moleculer-internals";

/** Moleculer's default histogram buckets, in milliseconds. */
export const BUCKETS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

interface Series {
	labels: string;
	total: number;
	active: number;
	sum: number;
	/** Non-cumulative counts per bucket; the last slot is +Inf. */
	buckets: number[];
	errors: Map<string, number>;
}

/** Every series of one broker: `request` for actions, `event` for event handlers. */
export class RequestMetrics {
	readonly request = new Map<string, Series>();
	readonly event = new Map<string, Series>();

	/** The series of a label set, created on first use (the key is the rendered labels). */
	series(kind: "request" | "event", labels: string): Series {
		const map = this[kind];
		let s = map.get(labels);
		if (!s) {
			s = { labels, total: 0, active: 0, sum: 0, buckets: new Array<number>(BUCKETS_MS.length + 1).fill(0), errors: new Map() };
			map.set(labels, s);
		}
		return s;
	}

	/** Prometheus text exposition of every series. */
	render(): string {
		return [...renderKind("moleculer_request", "Requests", this.request), ...renderKind("moleculer_event_received", "Event handler executions", this.event)].join("\n");
	}
}

const stores = new WeakMap<ServiceBroker, RequestMetrics>();

/** The request metrics of a broker (empty when the middleware is not listed). */
export function requestMetricsOf(broker: ServiceBroker): RequestMetrics {
	let m = stores.get(broker);
	if (!m) {
		m = new RequestMetrics();
		stores.set(broker, m);
	}
	return m;
}

/** Records one finished call or handler run. */
export function observe(s: Series, ms: number, err: unknown): void {
	s.active--;
	s.sum += ms;
	let i = 0;
	while (i < BUCKETS_MS.length && ms > BUCKETS_MS[i]) i++;
	s.buckets[i]++;
	if (err !== undefined) {
		const e = (err ?? {}) as { name?: string; code?: number | string; type?: string };
		const key = `,errorName="${esc(String(e.name ?? ""))}",errorCode="${esc(String(e.code ?? ""))}",errorType="${esc(String(e.type ?? ""))}"`;
		s.errors.set(key, (s.errors.get(key) ?? 0) + 1);
	}
}

/** Escapes a Prometheus label value. */
export function esc(v: string): string {
	return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function renderKind(prefix: string, what: string, map: Map<string, Series>): string[] {
	if (map.size === 0) return [];
	const out: string[] = [];
	const all = [...map.values()];
	const block = (name: string, type: string, help: string, lines: string[]): void => {
		if (lines.length === 0) return;
		out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
	};
	block(`${prefix}_total`, "counter", `${what}`, all.map(s => `${prefix}_total{${s.labels}} ${s.total}`));
	block(`${prefix}_active`, "gauge", `${what} running now`, all.map(s => `${prefix}_active{${s.labels}} ${s.active}`));
	block(
		`${prefix}_error_total`,
		"counter",
		`${what} that failed`,
		all.flatMap(s => [...s.errors].map(([k, n]) => `${prefix}_error_total{${s.labels}${k}} ${n}`)),
	);
	block(
		`${prefix}_time`,
		"histogram",
		`${what}: time in milliseconds`,
		all.flatMap(s => {
			let cumulative = 0;
			const lines = BUCKETS_MS.map((le, i) => `${prefix}_time_bucket{${s.labels},le="${le}"} ${(cumulative += s.buckets[i])}`);
			const finished = cumulative + s.buckets[BUCKETS_MS.length];
			return [...lines, `${prefix}_time_bucket{${s.labels},le="+Inf"} ${finished}`, `${prefix}_time_sum{${s.labels}} ${s.sum}`, `${prefix}_time_count{${s.labels}} ${finished}`];
		}),
	);
	return out;
}

type Handler = (ctx: Context) => Promise<unknown>;

/** Records calls of one action or runs of one event handler, with a series per caller. */
function measured(kind: "request" | "event", store: RequestMetrics, base: string, next: Handler): Handler {
	const byCaller = new Map<string, Series>();
	return function requestMetrics(ctx: Context): Promise<unknown> {
		const caller = ctx.caller ?? "";
		let s = byCaller.get(caller);
		if (!s) {
			s = store.series(kind, `${base},caller="${esc(caller)}"`);
			byCaller.set(caller, s);
		}
		const series = s;
		series.total++;
		series.active++;
		const start = performance.now();
		return next(ctx).then(
			res => {
				observe(series, performance.now() - start, undefined);
				return res;
			},
			err => {
				observe(series, performance.now() - start, err ?? null);
				throw err;
			},
		);
	};
}

type Hooks = {
	localAction(next: Handler, action: { name: string; service?: { fullName?: string } }): Handler;
	remoteAction(next: Handler, action: { name: string; service?: { fullName?: string } }): Handler;
	localEvent(next: Handler, event: { name: string; group?: string; service?: { name?: string; fullName?: string } }): Handler;
};

/** The action and event hooks that record into `store`. */
function requestMetricsHooks(store: RequestMetrics): Hooks {
	return {
		localAction(next, action) {
			return measured("request", store, `service="${esc(action.service?.fullName ?? "")}",action="${esc(action.name)}",type="local"`, next);
		},
		remoteAction(next, action) {
			return measured("request", store, `service="${esc(action.service?.fullName ?? "")}",action="${esc(action.name)}",type="remote"`, next);
		},
		localEvent(next, event) {
			return measured(
				"event",
				store,
				`service="${esc(event.service?.fullName ?? "")}",group="${esc(event.group ?? event.service?.name ?? "")}",event="${esc(event.name)}"`,
				next,
			);
		},
	};
}

/**
 * The request metrics middleware: Moleculer's Metrics middleware (its cheaper emit, transit and transporter counters,
 * and the registration of every `moleculer_*` metric) with these action and event hooks instead of its own. Listed
 * in the place of Moleculer's Metrics (config/middlewares/index.ts, through moleculer-internals.ts), so the same
 * calls are counted as before: outside the validator, cacher, bulkhead, breaker, timeout and retry, so cache hits,
 * refused calls and timeouts count, and a call retried inside counts once. With metrics disabled nothing is recorded.
 */
export function RequestMetricsMiddleware(broker: ServiceBroker): Middleware {
	const moleculers = moleculerMiddlewareFactory("Metrics").call(broker, broker) ?? {};
	if (!broker.isMetricsEnabled()) return { ...moleculers, name: "RequestMetrics" };
	const ours = requestMetricsHooks(requestMetricsOf(broker));
	// A domain event published by a service of this node counts as one of its emitted events, once (the relay
	// announces it when the bus took it; services/common/published.ts).
	onPublished(broker, e => broker.metrics.increment(METRIC.MOLECULER_EVENT_EMIT_TOTAL, { event: e.name }));
	return { ...moleculers, name: "RequestMetrics", ...ours } as unknown as Middleware;
}
