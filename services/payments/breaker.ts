/**
 * The opossum circuit breaker around the payment gateway: after enough technical failures it opens and every
 * call fails fast until a probe succeeds. Declines are answers, not failures, so they never trip it.
 * No moleculer here: the service turns these errors into Moleculer errors.
 */
import CircuitBreaker from "opossum";
import { GatewayUnavailableError } from "./gateway";

export interface BreakerOptions {
	/** A gateway call slower than this counts as a failure. */
	timeoutMs: number;
	/** How long the breaker stays open before letting one probe through. */
	resetTimeoutMs: number;
	/** Failure percentage in the rolling window that opens the breaker... */
	errorThresholdPercentage: number;
	/** ...once at least this many calls were made in the window. */
	volumeThreshold: number;
	rollingCountTimeoutMs: number;
}

export const DEFAULT_BREAKER_OPTIONS: BreakerOptions = {
	timeoutMs: 3_000,
	resetTimeoutMs: 5_000,
	errorThresholdPercentage: 50,
	volumeThreshold: 10,
	rollingCountTimeoutMs: 10_000,
};

export type BreakerStateName = "CLOSED" | "OPEN" | "HALF_OPEN";

export interface BreakerSnapshot {
	name: string;
	state: BreakerStateName;
	stats: { fires: number; successes: number; failures: number; rejects: number; timeouts: number };
	options: BreakerOptions;
}

/** The breaker is open: the gateway was not called. */
export class BreakerOpenError extends Error {
	constructor(readonly retryAfterMs: number) {
		super("payment gateway circuit breaker is open");
		this.name = "BreakerOpenError";
	}
}

type Operation = () => Promise<unknown>;

/** A circuit breaker that guards every call to one dependency. */
export class GatewayBreaker {
	private readonly breaker: CircuitBreaker<[Operation], unknown>;
	readonly options: BreakerOptions;

	constructor(readonly name: string, options: Partial<BreakerOptions> = {}) {
		this.options = { ...DEFAULT_BREAKER_OPTIONS, ...options };
		this.breaker = new CircuitBreaker<[Operation], unknown>((op: Operation) => op(), {
			name,
			timeout: this.options.timeoutMs,
			resetTimeout: this.options.resetTimeoutMs,
			errorThresholdPercentage: this.options.errorThresholdPercentage,
			volumeThreshold: this.options.volumeThreshold,
			rollingCountTimeout: this.options.rollingCountTimeoutMs,
		});
	}

	/** Runs the operation through the breaker; an open breaker or a timeout become typed errors. */
	async run<T>(op: () => Promise<T>): Promise<T> {
		try {
			return (await this.breaker.fire(op)) as T;
		} catch (err) {
			const code = (err as { code?: string }).code;
			if (code === "EOPENBREAKER") throw new BreakerOpenError(this.options.resetTimeoutMs);
			if (code === "ETIMEDOUT") throw new GatewayUnavailableError(`payment gateway timed out after ${this.options.timeoutMs} ms`);
			throw err;
		}
	}

	get state(): BreakerStateName {
		if (this.breaker.opened) return "OPEN";
		if (this.breaker.halfOpen) return "HALF_OPEN";
		return "CLOSED";
	}

	/** State and rolling-window counters, for the REPL and metrics. */
	snapshot(): BreakerSnapshot {
		const s = this.breaker.stats;
		return {
			name: this.name,
			state: this.state,
			stats: { fires: s.fires, successes: s.successes, failures: s.failures, rejects: s.rejects, timeouts: s.timeouts },
			options: this.options,
		};
	}

	/** Subscribes to state changes (open, halfOpen, close). */
	onStateChange(listener: (state: BreakerStateName) => void): void {
		this.breaker.on("open", () => listener("OPEN"));
		this.breaker.on("halfOpen", () => listener("HALF_OPEN"));
		this.breaker.on("close", () => listener("CLOSED"));
	}

	/** Stops the breaker's timers. */
	shutdown(): void {
		this.breaker.shutdown();
	}
}
