/**
 * The one place where ShopFlow depends on a Moleculer internal: the list of its built-in middlewares, in the order
 * `ServiceBroker.registerMiddlewares` adds them (`INTERNAL_MIDDLEWARES` in moleculer/src/service-broker.js, not
 * exported), and its built-in middleware factories (moleculer's `Middlewares` export, not in its typings).
 *
 * The broker runs with `internalMiddlewares: false` and config/middlewares/index.ts lists Moleculer's middlewares
 * itself, by name, through `moleculerMiddlewares`, so that the request metrics (request-metrics.ts) take the place
 * of Moleculer's Metrics middleware as an ordinary middleware. test/unit/config/middlewares/moleculer-internals.spec.ts
 * fails when Moleculer changes this list, its order, or the hooks of its Metrics middleware.
 */
import type { Middleware, ServiceBroker } from "moleculer";
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

/**
 * Rejects the requests this node is waiting on from `nodeID` with RequestRejectedError, as Moleculer does when a node
 * disconnects (`Transit.removePendingRequestByNodeID`, typed but not documented).
 */
export function rejectPendingRequestsTo(broker: ServiceBroker, nodeID: string): void {
	broker.transit?.removePendingRequestByNodeID(nodeID);
}
