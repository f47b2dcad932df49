/**
 * The behavior (fault injection) grammar, as pure code:
 *
 *   behavior := token ("," token)*
 *   token    := [target ":"] key "=" value        a target starts a section; later key=value tokens belong to it
 *   key      := "latency" | "error"
 *   latency  := duration ["-" duration]           500-1000ms, 1s-3s, 50ms (a bare number is milliseconds)
 *   error    := probability | code [":" probability]   0.2 = 500 in 20%; 503:0.5; 503 = always 503
 *
 * Tokens before any section apply to every service; `message-bus` targets event delivery; targets are
 * Moleculer names or the seed's names (services/common/names.ts).
 */
import { SEED_ALIASES, SERVICE_NAMES, type ServiceName } from "./names";

export interface LatencyRule {
	/** Milliseconds. */
	min: number;
	max: number;
}

export interface ErrorRule {
	/** HTTP-like status code of the injected error (400-599). */
	code: number;
	/** Chance per call, 0 to 1. */
	probability: number;
}

export interface FaultRule {
	latency?: LatencyRule;
	error?: ErrorRule;
}

export const ALL_SERVICES = "*";
export const MESSAGE_BUS = "message-bus";

export type BehaviorTarget = ServiceName | typeof ALL_SERVICES | typeof MESSAGE_BUS;

/** Parsed rules per target: plain JSON, so that it travels in `ctx.meta` across nodes. */
export type Behavior = Partial<Record<BehaviorTarget, FaultRule>>;

/** Injected delays above this are refused: a behavior must not park a request for minutes. */
export const MAX_LATENCY_MS = 60_000;

/** A malformed behavior string; `token` is the offending token as written. */
export class BehaviorParseError extends Error {
	constructor(
		public readonly token: string,
		public readonly reason: string,
	) {
		super(`behavior token "${token}": ${reason}`);
		this.name = "BehaviorParseError";
	}
}

const NUMBER = /^(?:\d+(?:\.\d+)?|\.\d+)$/;
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)(ms|s)?$/;

/** Parses a behavior string; the empty string is "no faults". Throws BehaviorParseError naming the bad token. */
export function parseBehavior(input: string): Behavior {
	const behavior: Behavior = {};
	if (input.trim() === "") return behavior;

	let target: BehaviorTarget = ALL_SERVICES;
	for (const raw of input.split(",")) {
		const token = raw.trim();
		if (token === "") throw new BehaviorParseError(raw, "empty token (two commas in a row, or a trailing comma)");

		let assignment = token;
		const colon = token.indexOf(":");
		const eq = token.indexOf("=");
		if (colon >= 0 && (eq < 0 || colon < eq)) {
			target = parseTarget(token, token.slice(0, colon));
			assignment = token.slice(colon + 1).trim();
			if (assignment === "") throw new BehaviorParseError(token, `empty section: expected ${token}key=value`);
		}

		const sep = assignment.indexOf("=");
		if (sep < 0) throw new BehaviorParseError(token, "expected key=value (latency=... or error=...)");
		const key = assignment.slice(0, sep).trim().toLowerCase();
		const value = assignment.slice(sep + 1).trim();
		const rule = (behavior[target] ??= {});

		if (key === "latency") {
			if (rule.latency) throw new BehaviorParseError(token, `latency given twice for ${describeTarget(target)}`);
			rule.latency = parseLatency(token, value);
		} else if (key === "error") {
			if (rule.error) throw new BehaviorParseError(token, `error given twice for ${describeTarget(target)}`);
			rule.error = parseError(token, value);
		} else {
			throw new BehaviorParseError(token, `unknown key "${key}" (known: latency, error)`);
		}
	}
	return behavior;
}

/**
 * Every name a section may start with, in a Map: a lookup in a plain object would find `__proto__` or
 * `constructor` on Object.prototype and take them for services.
 */
const TARGETS: ReadonlyMap<string, BehaviorTarget> = new Map<string, BehaviorTarget>([
	...SERVICE_NAMES.map(n => [n, n] as [string, ServiceName]),
	...Object.entries(SEED_ALIASES),
	[MESSAGE_BUS, MESSAGE_BUS],
]);

function parseTarget(token: string, rawName: string): BehaviorTarget {
	const service = TARGETS.get(rawName.trim().toLowerCase());
	if (!service)
		throw new BehaviorParseError(token, `unknown service "${rawName.trim()}" (known: ${[...SERVICE_NAMES, MESSAGE_BUS].join(", ")})`);
	return service;
}

function parseDuration(token: string, text: string, defaultUnit: "ms" | "s"): number {
	const m = DURATION.exec(text.trim());
	if (!m) throw new BehaviorParseError(token, `"${text}" is not a duration (examples: 50ms, 1s, 500-1000ms, 1s-3s)`);
	const unit = (m[2] as "ms" | "s" | undefined) ?? defaultUnit;
	return Math.round(Number(m[1]) * (unit === "s" ? 1000 : 1));
}

function parseLatency(token: string, value: string): LatencyRule {
	if (value === "") throw new BehaviorParseError(token, "latency needs a value such as 50ms or 500-1000ms");
	const parts = value.split("-");
	if (parts.length > 2) throw new BehaviorParseError(token, `"${value}" is not a duration range (example: 500-1000ms)`);
	// "500-1000ms": a bound without unit takes the other bound's unit.
	const unitOf = (s: string): "ms" | "s" | undefined => (/ms$/.test(s.trim()) ? "ms" : /s$/.test(s.trim()) ? "s" : undefined);
	const lastUnit = unitOf(parts[parts.length - 1]) ?? "ms";
	const min = parseDuration(token, parts[0], lastUnit);
	const max = parts.length === 2 ? parseDuration(token, parts[1], unitOf(parts[0]) ?? "ms") : min;
	if (min > max) throw new BehaviorParseError(token, `minimum ${min}ms is above maximum ${max}ms`);
	if (max > MAX_LATENCY_MS) throw new BehaviorParseError(token, `latency is capped at ${MAX_LATENCY_MS / 1000}s`);
	return { min, max };
}

function parseProbability(token: string, text: string): number {
	if (!NUMBER.test(text)) throw new BehaviorParseError(token, `"${text}" is not a probability (a number from 0 to 1, e.g. 0.2)`);
	const p = Number(text);
	if (p > 1) throw new BehaviorParseError(token, `probability ${text} is above 1 (0.2 means 20%)`);
	return p;
}

function parseCode(token: string, text: string): number {
	if (!/^\d{3}$/.test(text) || Number(text) < 400 || Number(text) > 599)
		throw new BehaviorParseError(token, `"${text}" is not an error status code (400 to 599)`);
	return Number(text);
}

function parseError(token: string, value: string): ErrorRule {
	if (value === "") throw new BehaviorParseError(token, "error needs a value such as 0.2 or 503:0.5");
	const parts = value.split(":").map(s => s.trim());
	if (parts.length > 2) throw new BehaviorParseError(token, `"${value}" is not code:probability (example: 503:0.5)`);
	if (parts.length === 2) return { code: parseCode(token, parts[0]), probability: parseProbability(token, parts[1]) };
	// One number: a status code (always) when it looks like one, otherwise a probability of a 500.
	if (/^\d{3}$/.test(parts[0])) return { code: parseCode(token, parts[0]), probability: 1 };
	return { code: 500, probability: parseProbability(token, parts[0]) };
}

function describeTarget(target: BehaviorTarget): string {
	return target === ALL_SERVICES ? "every service" : target;
}

/** The canonical string of a behavior (parses back to the same rules). */
export function formatBehavior(behavior: Behavior): string {
	const tokens: string[] = [];
	const order = [ALL_SERVICES, ...SERVICE_NAMES, MESSAGE_BUS] as BehaviorTarget[];
	for (const target of order) {
		const rule = behavior[target];
		if (!rule || (!rule.latency && !rule.error)) continue;
		const parts: string[] = [];
		if (rule.latency) parts.push(`latency=${rule.latency.min === rule.latency.max ? rule.latency.min : `${rule.latency.min}-${rule.latency.max}`}ms`);
		if (rule.error) parts.push(`error=${rule.error.code}:${rule.error.probability}`);
		if (target !== ALL_SERVICES) parts[0] = `${target}:${parts[0]}`;
		tokens.push(...parts);
	}
	// Global tokens must come first: they are listed first by `order`.
	return tokens.join(",");
}
