/**
 * Small HTTP helpers of the gateway: client keys for rate limits and the error body clients see.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Errors } from "moleculer";
import { CheckoutOutcomeUnknownError } from "../common/errors";

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

/** What a client may send as X-Request-ID (or X-Correlation-ID): one value of 1 to 128 safe characters. */
const CORRELATION_ID = /^[A-Za-z0-9._:+/=-]{1,128}$/;

/**
 * The client's correlation id: its X-Request-ID (or X-Correlation-ID) when it is one bounded value of safe
 * characters; undefined otherwise (the gateway then uses the trace id). It never becomes the trace id.
 */
export function correlationId(req: IncomingMessage): string | undefined {
	for (const name of ["x-request-id", "x-correlation-id"]) {
		const v = req.headers[name];
		if (v === undefined) continue;
		return typeof v === "string" && CORRELATION_ID.test(v) ? v : undefined;
	}
	return undefined;
}

/** 400: a request body that cannot be read (a gzip or deflate stream that does not inflate, a bad charset). */
export class UnreadableBodyError extends Errors.MoleculerClientError {
	constructor(reason: string) {
		super(`Request body could not be read: ${reason}`, 400, "UNREADABLE_BODY");
	}
}

interface BodyParserError {
	status?: number;
	statusCode?: number;
	type?: string;
	message?: string;
}

/**
 * A route middleware after the body parsers: body-parser's errors carry their status in `status` and a string
 * `code` (a zlib `Z_DATA_ERROR` for a malformed gzip body), which moleculer-web would turn into a 500. A client
 * error keeps its status; JSON and size errors keep their messages (describeError), others become a 400.
 */
export function bodyParserErrors(err: unknown, _req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void): void {
	if (err instanceof Errors.MoleculerError) return next(err);
	const e = (err ?? {}) as BodyParserError;
	const status = e.status ?? e.statusCode;
	if (status === 413) return next(new Errors.MoleculerClientError("Request body is too large", 413, "PAYLOAD_TOO_LARGE"));
	if (status === 415) return next(new Errors.MoleculerClientError(`Unsupported request body: ${e.message ?? ""}`.trim(), 415, "UNSUPPORTED_MEDIA_TYPE"));
	if (e.type === "entity.parse.failed") return next(new Errors.MoleculerClientError("Request body is not valid JSON", 400, "entity.parse.failed"));
	if (typeof status === "number" && status >= 400 && status < 500) return next(new UnreadableBodyError(bodyProblem(e)));
	next(err);
}

/** A short, safe description of why a body could not be read (never the body itself). */
function bodyProblem(e: BodyParserError): string {
	const code = (e as { code?: unknown }).code;
	if (typeof code === "string" && code.startsWith("Z_")) return "the Content-Encoding stream is malformed";
	if (e.type === "request.aborted") return "the request was aborted";
	if (e.type === "request.size.invalid") return "the Content-Length does not match the body";
	return "malformed body";
}

/** Seconds a client should wait before retrying a 429: the error's own hint, else the rate limit's reset, else 1. */
export function retryAfterSeconds(err: { data?: unknown }, res: ServerResponse, now = Date.now()): number {
	const hint = (err.data as { retry_after?: unknown } | undefined)?.retry_after;
	if (typeof hint === "number" && hint > 0) return Math.ceil(hint);
	const reset = Number(res.getHeader("X-Rate-Limit-Reset"));
	if (Number.isFinite(reset) && reset > now) return Math.max(1, Math.ceil((reset - now) / 1000));
	return 1;
}

/**
 * The rate limiter's 429 in the one error shape: moleculer-web's RateLimitExceeded carries no type and no data,
 * so it becomes RATE_LIMITED with `data.retry_after` (seconds, as in the Retry-After header).
 */
export function asRateLimitedError(err: Error, retryAfter: number): Error {
	if (err.name !== "RateLimitExceeded") return err;
	const e = new Errors.MoleculerClientError(`Too many requests from this address; retry after ${retryAfter} s`, 429, "RATE_LIMITED", {
		retry_after: retryAfter,
	});
	e.name = "RateLimitExceeded";
	return e;
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

/** A call to a service that no reachable node offers becomes a retryable 503 naming the service. */
/**
 * Actions that must not run twice and that the gateway never retries: when the answer is lost on the way (the node
 * left the cluster or the call timed out), what happened is unknown, and the customer is told so and to send the
 * same request again, which their claims answer with the same order instead of a second one.
 */
const ANSWER_ONCE_ACTIONS = new Set(["checkout.start"]);

/** A lost answer of an answer-once action (REQUEST_REJECTED, REQUEST_TIMEOUT) as OutcomeUnknownError; others unchanged. */
export function asOutcomeUnknown(err: Error, action: string | undefined): Error {
	const type = (err as ErrorLike).type;
	if (!action || !ANSWER_ONCE_ACTIONS.has(action) || (type !== "REQUEST_REJECTED" && type !== "REQUEST_TIMEOUT")) return err;
	return new CheckoutOutcomeUnknownError(action);
}

export function asDependencyError(err: Error): Error {
	const e = err as ErrorLike;
	if (e.name !== "ServiceNotFoundError" && e.name !== "ServiceNotAvailableError") return err;
	const action = (e.data as { action?: string } | undefined)?.action ?? "";
	const service = action.split(".")[0] || "a service";
	return new Errors.MoleculerRetryableError(`The ${service} service is unavailable; try again shortly`, 503, "SERVICE_UNAVAILABLE", {
		service,
	});
}
