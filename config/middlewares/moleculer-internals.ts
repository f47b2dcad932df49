/**
 * The one place where ShopFlow depends on a Moleculer internal (something Moleculer does not document, whether or not
 * its typings declare it, so that its changelog would not tell us it changed). Everything else uses Moleculer's
 * public surface: the broker's methods, the registry's list queries (`getServiceList`, `getNodeList`,
 * `getActionEndpoints`, which `$node.*` answer with), the metric registry's methods, the reporters' extension points.
 * The lint rule `no-restricted-syntax` (eslint.config.mjs) refuses the known internals anywhere else. One exception
 * remains: the transporter's typed `broker.transit.connected`, read by the gateway's readiness (services/api/health.ts)
 * and the node health (config/boot/metrics-reporter.ts), since a service may not import this file.
 *
 * - Moleculer's built-in middlewares, in the order `ServiceBroker.registerMiddlewares` adds them
 *   (`INTERNAL_MIDDLEWARES` in moleculer/src/service-broker.js, not exported), and their factories (moleculer's
 *   `Middlewares` export, not in its typings). The broker runs with `internalMiddlewares: false` and
 *   config/middlewares/index.ts lists Moleculer's middlewares itself, by name, through `moleculerMiddlewares`, so that
 *   the request metrics (request-metrics.ts) take the place of Moleculer's Metrics middleware as an ordinary middleware.
 * - The circuit breaker's per-endpoint states (`broker.CircuitBreakerStore`, set by its middleware), for the REPL.
 * - Freezing a metric (its `set` replaced), so that Moleculer's periodic update of process metrics cannot refill it.
 * - Running only the base reporter's `init` for a reporter that extends Moleculer's Prometheus reporter without
 *   its HTTP server.
 * - Rejecting the requests pending on a node (the transit's, typed but undocumented), and hearing every node's INFO
 *   (`$node.connected` / `$node.updated` on the broker's `localBus`), for node-restart.ts.
 *
 * test/unit/config/middlewares/moleculer-internals.spec.ts fails when Moleculer changes any of these.
 */
import type { MetricRegistry, Middleware, ServiceBroker } from "moleculer";
import * as moleculer from "moleculer";

/** Moleculer 0.15's internal middlewares, innermost first (HotReload, added with `hotReload`, is not used here). */
export const MOLECULER_INTERNAL_MIDDLEWARES = [
	"ActionHook",
	"Validator",
	"Bulkhead",
	"Cacher",
	"ContextTracker",
	"CircuitBreaker",
	"Timeout",
	"Retry",
	"Fallback",
	"ErrorHandler",
	"Tracing",
	"Metrics",
	"Debounce",
	"Throttle",
] as const;

export type MoleculerMiddlewareName = (typeof MOLECULER_INTERNAL_MIDDLEWARES)[number];

/** A middleware as the broker's `middlewares` option takes it: a built-in's name or an object (or `byFactory`). */
export type MiddlewareEntry = string | Middleware;

/**
 * A middleware made by a factory that Moleculer calls with the broker when it adds the middleware
 * (`MiddlewareHandler.add`), before any method is wrapped; the typings of the `middlewares` option omit this form.
 */
export function byFactory(factory: (broker: ServiceBroker) => Middleware): Middleware {
	return factory as unknown as Middleware;
}

/** The hooks of Moleculer's Metrics middleware that the request metrics replace (the others are kept). */
export const METRICS_HOOKS_REPLACED = ["localAction", "remoteAction", "localEvent"] as const;

/** Moleculer's internal middlewares by name, in Moleculer's order, with some of them replaced. */
export function moleculerMiddlewares(replace: Partial<Record<MoleculerMiddlewareName, MiddlewareEntry>> = {}): MiddlewareEntry[] {
	return MOLECULER_INTERNAL_MIDDLEWARES.map(name => replace[name] ?? name);
}

type MiddlewareFactory = (this: ServiceBroker, broker: ServiceBroker) => Middleware | null;

/** Moleculer's built-in middleware factory of this name. */
export function moleculerMiddlewareFactory(name: MoleculerMiddlewareName): MiddlewareFactory {
	const builtIns = (moleculer as unknown as { Middlewares?: Record<string, unknown> }).Middlewares ?? {};
	const factory = builtIns[name];
	if (typeof factory !== "function") throw new Error(`Moleculer has no built-in middleware "${name}"`);
	return factory as MiddlewareFactory;
}

/** The state of Moleculer's circuit breaker for one action endpoint of this node's calls. */
export interface EndpointBreakerState {
	/** `<nodeID>:<action>`. */
	endpoint: string;
	state: string;
	failures: number;
	count: number;
}

/** The circuit breaker's state per endpoint this node has called (empty when the breaker is off). */
export function circuitBreakerStates(broker: ServiceBroker): EndpointBreakerState[] {
	const store = (broker as unknown as { CircuitBreakerStore?: Map<string, { state: string; count: number; failures: number }> }).CircuitBreakerStore;
	return [...(store?.entries() ?? [])].map(([endpoint, item]) => ({ endpoint, state: item.state, failures: item.failures, count: item.count }));
}

interface SettableMetric {
	clear(): void;
	set: (...args: unknown[]) => unknown;
}

/**
 * Empties a metric and makes it ignore every later value, Moleculer's periodic updates of the process metrics
 * included (they go through the metric's `set`, and would fail if the metric were removed). No-op for an unknown name.
 */
export function freezeMetric(registry: MetricRegistry, name: string): void {
	const metric = registry.getMetric(name) as unknown as SettableMetric | null;
	if (!metric) return;
	metric.clear();
	metric.set = () => null;
}

type ReporterInit = (this: unknown, registry: MetricRegistry) => void;

/**
 * Registers a reporter with the metric registry as Moleculer's base reporter does (`registry`, `broker`, `logger`),
 * skipping the `init` of the class in between: a subclass of the Prometheus reporter starts no server of its own.
 */
export function initAsBaseReporter(reporter: object, registry: MetricRegistry): void {
	const Base = moleculer.MetricReporters.Base as unknown as { prototype: { init: ReporterInit } };
	Base.prototype.init.call(reporter, registry);
}

/**
 * Rejects the requests this node is waiting on from `nodeID` with RequestRejectedError, as Moleculer does when a node
 * disconnects (`Transit.removePendingRequestByNodeID`, typed but not documented).
 */
export function rejectPendingRequestsTo(broker: ServiceBroker, nodeID: string): void {
	broker.transit?.removePendingRequestByNodeID(nodeID);
}

/** A node as the registry's `$node.connected` and `$node.updated` internal events carry it. */
export interface NodeInfoEvent {
	node: { id: string; instanceID?: string | null; local?: boolean };
}

/**
 * Calls `listener` for every node INFO the registry processes (a node connected, reconnected or updated), through the
 * broker's `localBus`, where Moleculer emits its `$node.*` events to whatever is not a service.
 */
export function onNodeInfo(broker: ServiceBroker, listener: (event: NodeInfoEvent) => void): void {
	broker.localBus.on("$node.connected", listener);
	broker.localBus.on("$node.updated", listener);
}
