/**
 * Behavior (fault injection): applies the behavior that the gateway put in `ctx.meta.behavior` just before an action or event
 * handler of the named service runs, on whichever node it runs. An injected error is a real
 * Moleculer error: a 5xx is a MoleculerRetryableError, so retries, circuit breakers, traces and metrics see it.
 */
import type { Context, Middleware, ServiceBroker } from "moleculer";
import { Errors } from "moleculer";
import { formatBehavior, type Behavior, type BehaviorTarget } from "../../services/common/behavior";
import { actionRule, decide, describeDecision, eventRules, isBehavior, type FaultDecision } from "./behavior/resolve";

export const INJECTED_FAULTS_METRIC = "shopflow.faults.injected.total";

/** Data of an injected error, so that traces, metrics and the chaos run can tell it from a real failure. */
export interface InjectedFaultData {
	injected: true;
	target: BehaviorTarget;
	handler: string;
	behavior: string;
}

/** Whether an error (or the error it wraps) was injected by a behavior. */
export function isInjectedFault(err: unknown): boolean {
	const data = (err as { data?: Partial<InjectedFaultData> } | null)?.data;
	return !!data && data.injected === true;
}

/** A real Moleculer error for an injected status code: 5xx retryable, 4xx a client error. */
export function injectedError(code: number, data: InjectedFaultData): Errors.MoleculerError {
	const message = `Injected fault: ${data.handler} answered ${code} (behavior ${data.behavior})`;
	return code >= 500
		? new Errors.MoleculerRetryableError(message, code, "INJECTED_FAULT", data)
		: new Errors.MoleculerClientError(message, code, "INJECTED_FAULT", data);
}

interface Locals {
	fault?: string;
}

export interface BehaviorOptions {
	/** Random source in [0, 1); tests pass a fixed one. */
	random?: () => number;
}

/** The behavior in a context's meta, when it has the right shape. */
export function behaviorOf(ctx: Context): Behavior | undefined {
	const b = (ctx.meta as { behavior?: unknown } | undefined)?.behavior;
	return isBehavior(b) ? b : undefined;
}

/** The broker middleware that injects latency and errors before local action and event handlers. */
export function BehaviorMiddleware(opts: BehaviorOptions = {}): Middleware {
	const random = opts.random ?? Math.random;
	let broker: ServiceBroker;

	/** Suffers one decision: notes it for traces, waits, then throws the injected error. */
	async function apply(ctx: Context, decision: FaultDecision, service: string, handler: string, kind: "action" | "event"): Promise<void> {
		const text = describeDecision(decision);
		if (!text) return;
		const locals = ctx.locals as Locals;
		locals.fault = locals.fault ? `${locals.fault}; ${text}` : text;
		if (decision.delayMs > 0) {
			count(decision.target, service, kind, "latency", "");
			await new Promise(resolve => setTimeout(resolve, decision.delayMs));
		}
		if (decision.errorCode !== null) {
			count(decision.target, service, kind, "error", String(decision.errorCode));
			throw injectedError(decision.errorCode, {
				injected: true,
				target: decision.target,
				handler,
				behavior: formatBehavior(behaviorOf(ctx) ?? {}),
			});
		}
	}

	/** Retried attempts share `locals` with the first one: each attempt starts without the previous one's fault. */
	function clearFault(ctx: Context): void {
		const locals = ctx.locals as Locals | undefined;
		if (locals?.fault) delete locals.fault;
	}

	function count(target: string, service: string, kind: string, fault: string, code: string): void {
		broker.metrics.increment(INJECTED_FAULTS_METRIC, { target, service, kind, fault, code });
	}


	return {
		name: "Behavior",

		created(b: ServiceBroker) {
			broker = b;
			broker.metrics.register({
				name: INJECTED_FAULTS_METRIC,
				type: "counter",
				labelNames: ["target", "service", "kind", "fault", "code"],
				description: "Faults injected by request behaviors (latency or error), by target and handler kind",
			});
		},

		localAction(next: (ctx: Context) => Promise<unknown>, action: { name: string; service?: { name: string } }) {
			const service = action.service?.name;
			if (!service || service.startsWith("$")) return next;
			return async function faultInjectedAction(ctx: Context): Promise<unknown> {
				clearFault(ctx);
				const rule = actionRule(behaviorOf(ctx), service);
				if (rule) await apply(ctx, decide(service as BehaviorTarget, rule, random), service, action.name, "action");
				return next(ctx);
			};
		},

		localEvent(next: (ctx: Context) => Promise<unknown>, event: { name: string; service?: { name: string } }) {
			const service = event.service?.name;
			if (!service || service.startsWith("$")) return next;
			return async function faultInjectedEvent(ctx: Context): Promise<unknown> {
				clearFault(ctx);
				for (const { target, rule } of eventRules(behaviorOf(ctx), service))
					await apply(ctx, decide(target, rule, random), service, `${service} ← ${ctx.eventName ?? event.name}`, "event");
				return next(ctx);
			};
		},
	} as unknown as Middleware;
}
