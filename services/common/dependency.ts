/**
 * Calls to other services on a customer's behalf: when the callee is missing, timed out or failed on its side,
 * the customer gets a 503 naming the dependency, not Moleculer's 404 "service not found" or a bare 500.
 * A client error of the callee (404 unknown address, 422 bad token, 409 stock) passes through unchanged.
 */
import { DependencyUnavailableError } from "./errors";

const UNAVAILABLE = new Set(["ServiceNotAvailableError", "ServiceNotFoundError", "RequestTimeoutError", "QueueIsFullError", "CircuitBreakerOpenError"]);

/** Whether an error means the dependency could not answer (as opposed to answering no). */
export function isUnavailable(err: unknown): boolean {
	const e = (err ?? {}) as { name?: string; code?: number };
	if (e.name && UNAVAILABLE.has(e.name)) return true;
	return typeof e.code !== "number" || e.code >= 500;
}

/** Awaits a call to `dependency`, turning "could not answer" into a 503 that names it. */
export async function callDependency<T>(dependency: string, call: Promise<T>): Promise<T> {
	try {
		return await call;
	} catch (err) {
		if (!isUnavailable(err)) throw err;
		if (err instanceof DependencyUnavailableError) throw err;
		const message = err instanceof Error ? err.message : String(err);
		throw new DependencyUnavailableError(dependency, `${dependency} is unavailable: ${message}`);
	}
}
