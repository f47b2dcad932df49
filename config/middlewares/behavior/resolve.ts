/**
 * Which fault rule applies to a handler, and what it does on one call: pure code beside the parser.
 *
 * - An action of service S gets the rules for every service, overridden key by key by S's own section.
 *   The gateway's own actions and Moleculer's internal `$` services get only an explicit section.
 * - An event handler of S gets the `message-bus` rule (event delivery) and S's own section, each rolled on its own.
 */
import { ALL_SERVICES, MESSAGE_BUS, type Behavior, type BehaviorTarget, type FaultRule } from "../../../services/common/behavior";

/** What one call suffers: a delay, then possibly an error. */
export interface FaultDecision {
	target: BehaviorTarget;
	delayMs: number;
	errorCode: number | null;
}

/** The rule for an action of a service, or null when none applies. */
export function actionRule(behavior: Behavior | undefined, service: string): FaultRule | null {
	if (!behavior || service.startsWith("$")) return null;
	const own = behavior[service as BehaviorTarget];
	const all = service === "api" ? undefined : behavior[ALL_SERVICES];
	const latency = own?.latency ?? all?.latency;
	const error = own?.error ?? all?.error;
	return latency || error ? { latency, error } : null;
}

/** The rules for an event handler of a service, delivery first, each with the target it came from. */
export function eventRules(behavior: Behavior | undefined, service: string): Array<{ target: BehaviorTarget; rule: FaultRule }> {
	if (!behavior || service.startsWith("$")) return [];
	const out: Array<{ target: BehaviorTarget; rule: FaultRule }> = [];
	const bus = behavior[MESSAGE_BUS];
	if (bus) out.push({ target: MESSAGE_BUS, rule: bus });
	const own = behavior[service as BehaviorTarget];
	if (own) out.push({ target: service as BehaviorTarget, rule: own });
	return out;
}

/** Rolls a rule for one call; `random` returns numbers in [0, 1). */
export function decide(target: BehaviorTarget, rule: FaultRule, random: () => number = Math.random): FaultDecision {
	const delayMs = rule.latency ? Math.round(rule.latency.min + random() * (rule.latency.max - rule.latency.min)) : 0;
	const errorCode = rule.error && rule.error.probability > 0 && random() < rule.error.probability ? rule.error.code : null;
	return { target, delayMs, errorCode };
}

/** A short text for traces: "latency 734ms", "error 503", "latency 120ms, error 500". */
export function describeDecision(d: FaultDecision): string | null {
	const parts: string[] = [];
	if (d.delayMs > 0) parts.push(`latency ${d.delayMs}ms`);
	if (d.errorCode !== null) parts.push(`error ${d.errorCode}`);
	return parts.length ? parts.join(", ") : null;
}

/** Whether a value from `ctx.meta` has the shape of a parsed behavior (meta can come from any node or the REPL). */
export function isBehavior(value: unknown): value is Behavior {
	if (!value || typeof value !== "object" || Array.isArray(value)) return false;
	return Object.values(value as Record<string, unknown>).every(rule => {
		if (!rule || typeof rule !== "object") return false;
		const r = rule as FaultRule;
		const latencyOk = r.latency === undefined || (typeof r.latency.min === "number" && typeof r.latency.max === "number");
		const errorOk = r.error === undefined || (typeof r.error.code === "number" && typeof r.error.probability === "number");
		return latencyOk && errorOk;
	});
}
