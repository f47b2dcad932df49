/**
 * What the chaos run watches inside the embedded shop, through one extra broker middleware: every domain event
 * published, every successful delivery per consuming service, and when Moleculer circuit breakers were open.
 */
import type { Context, Middleware, ServiceBroker } from "moleculer";

interface Interval {
	from: number;
	to: number | null;
}

type EmitFn = (event: string, payload?: unknown, opts?: unknown) => Promise<unknown>;

export class ChaosObserver {
	/** event_id → event name, for every domain event stored and relayed. */
	readonly published = new Map<string, string>();
	/** `${service}|${event_id}` for every delivery a consumer handled. */
	readonly handled = new Set<string>();
	/** Event deliveries that failed (each failed attempt). */
	failedDeliveries = 0;
	private readonly breakers = new Map<string, Interval[]>();

	/** The middleware to add to the shop's broker. */
	middleware(): Middleware {
		return {
			name: "ChaosObserver",
			emit: (next: EmitFn): EmitFn => (event, payload, opts) => {
				const id = (payload as { event_id?: unknown } | null)?.event_id;
				if (typeof event === "string" && !event.startsWith("$") && typeof id === "string") this.published.set(id, event);
				return next(event, payload, opts);
			},
			broadcast: (next: EmitFn): EmitFn => (event, payload, opts) => {
				if (typeof event === "string" && event.startsWith("$circuit-breaker.")) this.breakerChanged(event, payload);
				return next(event, payload, opts);
			},
			localEvent: (next: (ctx: Context) => Promise<unknown>, event: { service?: { name: string } }) => {
				const service = event.service?.name;
				if (!service || service.startsWith("$")) return next;
				return async (ctx: Context): Promise<unknown> => {
					try {
						const res = await next(ctx);
						const id = (ctx.params as { event_id?: unknown } | null)?.event_id;
						if (typeof id === "string") this.handled.add(`${service}|${id}`);
						return res;
					} catch (err) {
						this.failedDeliveries++;
						throw err;
					}
				};
			},
		} as unknown as Middleware;
	}

	private breakerChanged(event: string, payload: unknown): void {
		const p = (payload ?? {}) as { nodeID?: string; action?: string };
		const key = `${p.nodeID ?? ""}:${p.action ?? ""}`;
		const list = this.breakers.get(key) ?? [];
		this.breakers.set(key, list);
		const open = list.length > 0 && list[list.length - 1].to === null;
		if (event === "$circuit-breaker.opened" && !open) list.push({ from: Date.now(), to: null });
		if (event === "$circuit-breaker.closed" && open) list[list.length - 1].to = Date.now();
	}

	/** How many times a breaker opened. */
	get breakerOpenings(): number {
		return [...this.breakers.values()].reduce((n, l) => n + l.length, 0);
	}

	/** Whether some breaker was open (or half-open) at some point between two times. */
	breakerOpenDuring(from: number, to: number): boolean {
		for (const list of this.breakers.values())
			for (const i of list) if (i.from <= to && (i.to === null || i.to >= from)) return true;
		return false;
	}

	/** The consuming services of each event name, from the services' event runtimes. */
	static subscriptions(broker: ServiceBroker): Map<string, string[]> {
		const out = new Map<string, string[]>();
		for (const svc of broker.services) {
			const invokers = (svc as unknown as { $events?: { invokers?: Map<string, unknown> } }).$events?.invokers;
			for (const name of invokers?.keys() ?? []) out.set(name, [...(out.get(name) ?? []), svc.name]);
		}
		return out;
	}
}
