/**
 * Small HTTP helpers of the gateway: client keys for rate limits and the error body clients see.
 */
import type { IncomingMessage } from "node:http";
import { Errors } from "moleculer";

interface ErrorLike {
	name?: string;
	message?: string;
	code?: number | string;
	type?: string;
	data?: unknown;
}

/**
 * A per-client key for rate limits: the caller's address. X-Forwarded-For counts only with TRUST_PROXY (behind a
 * proxy that sets it); otherwise any client could claim any address and buy itself a fresh budget.
 */
export function clientKey(req: IncomingMessage, trustProxy: boolean): string {
	const fwd = trustProxy ? req.headers["x-forwarded-for"] : undefined;
	const ip = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(",")[0]?.trim() || req.socket.remoteAddress || "unknown";
	return `ip:${ip}`;
}

/** The JSON body of an error response: name, message, code, type, data. */
export function describeError(err: ErrorLike, production: boolean): Record<string, unknown> {
	const code = typeof err.code === "number" && err.code >= 400 && err.code < 600 ? err.code : 500;
	let { message, type, data } = err;
	let name = err.name ?? "Error";

	if (name === "ValidationError" && Array.isArray(data)) {
		// fastest-validator: "The 'email' field is required." for each problem.
		const problems = data as Array<{ field?: string; message?: string; type?: string; actual?: unknown }>;
		message = problems.map(p => p.message ?? `${p.field}: ${p.type}`).join(" ");
		data = problems.map(p => ({ field: p.field, message: p.message, type: p.type }));
	} else if (code === 413) {
		name = "PayloadTooLargeError";
		message = "Request body is too large";
		type = "PAYLOAD_TOO_LARGE";
		data = undefined;
	} else if (code === 400 && (type === "entity.parse.failed" || /JSON/i.test(message ?? ""))) {
		name = "BadRequestError";
		message = "Request body is not valid JSON";
		type = "INVALID_JSON";
		data = undefined;
	} else if (code === 415) {
		type = "UNSUPPORTED_MEDIA_TYPE";
	} else if (code === 500 && production) {
		// Internal details can leak secrets or paths: say nothing more than that it failed.
		message = "Internal server error";
		data = undefined;
	}
	return { name, message, code, type, data };
}

/** A body that does not match its Content-Encoding (zlib's string code) becomes the client's 400 naming the header. */
export function asEncodingError(err: Error): Error {
	const code = (err as ErrorLike).code;
	if (typeof code !== "string" || !/^Z_/.test(code)) return err;
	return new Errors.MoleculerClientError("Request body could not be decompressed: it does not match its Content-Encoding", 400, "INVALID_CONTENT_ENCODING", {
		field: "Content-Encoding",
	});
}

/** A call to a service that no reachable node offers becomes a retryable 503 naming the service. */
export function asDependencyError(err: Error): Error {
	const e = err as ErrorLike;
	if (e.name !== "ServiceNotFoundError" && e.name !== "ServiceNotAvailableError") return err;
	const action = (e.data as { action?: string } | undefined)?.action ?? "";
	const service = action.split(".")[0] || "a service";
	return new Errors.MoleculerRetryableError(`The ${service} service is unavailable; try again shortly`, 503, "SERVICE_UNAVAILABLE", {
		service,
	});
}
