/**
 * The broker-wide resilience defaults. Per-action overrides carry a one-line reason.
 * A client error (4xx) is never retried and never trips a breaker.
 */
import type { BrokerOptions, Errors } from "moleculer";

type MoleculerError = Errors.MoleculerError;

/** Whether an error is a transient technical failure worth retrying (timeouts, 5xx marked retryable). */
export function isRetryable(err: unknown): boolean {
	const e = err as Partial<MoleculerError> | null;
	return !!e && e.retryable === true && (e.code === undefined || e.code >= 500);
}

/** Whether an error counts against a circuit breaker: only server-side failures. */
export function isBreakerFailure(err: unknown): boolean {
	const e = err as Partial<MoleculerError> | null;
	return !!e && typeof e.code === "number" && e.code >= 500;
}

export const resilience = {
	retryPolicy: {
		enabled: true,
		/** Three more tries: enough to ride out a brief outage without piling up latency. */
		retries: 3,
		/** Exponential back-off: 50, 100, 200 ms, capped at 1 s. */
		delay: 50,
		maxDelay: 1000,
		factor: 2,
		check: isRetryable,
	},
	circuitBreaker: {
		enabled: true,
		/** Open when half of the calls in the window failed... */
		threshold: 0.5,
		/** ...but only after enough calls to judge. */
		minRequestCount: 20,
		windowTime: 30,
		/** Let one probe through after 5 s. */
		halfOpenTime: 5_000,
		check: isBreakerFailure,
	},
	bulkhead: {
		enabled: true,
		/** In-flight calls per action on one node. */
		concurrency: 200,
		/** Queued calls beyond which callers get a QueueIsFullError (429-like, retryable elsewhere). */
		maxQueueSize: 5_000,
	},
} satisfies Pick<BrokerOptions, "retryPolicy" | "circuitBreaker" | "bulkhead">;

/**
 * How long a saga step keeps retrying a call that found no node offering its service at all (the call reached
 * nobody, so trying again is safe): long enough for a node restarted by its supervisor to come back and register,
 * so that a restart of payments is not a failed order. Other technical failures, and calls refused by open
 * circuits, keep the retry policy's three tries.
 */
export const SAGA_NODE_WAIT_MS = 10_000;

/** The context header that carries the caller's deadline (epoch ms) from node to node (middlewares/deadline.ts). */
export const DEADLINE_HEADER = "deadline";
