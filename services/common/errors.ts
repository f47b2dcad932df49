/**
 * Errors that cross service boundaries: MoleculerClientError subclasses with an HTTP code, a SCREAMING_SNAKE
 * type and data, and retryable errors for transient failures. Never a bare Error across a boundary.
 */
import { Errors } from "moleculer";

const { MoleculerClientError, MoleculerRetryableError } = Errors;

export interface FieldProblem {
	field: string;
	message: string;
	type?: string;
	actual?: unknown;
}

/** 422: a value that is well-formed JSON but not acceptable. */
export class ValidationFailedError extends MoleculerClientError {
	constructor(field: string, message: string, type = "VALIDATION_ERROR") {
		super(`${field}: ${message}`, 422, type, [{ field, message, type } satisfies FieldProblem]);
	}
}

/** 404: an unknown id, named with its kind. */
export class NotFoundError extends MoleculerClientError {
	constructor(entity: string, id: string) {
		super(`${entity} '${id}' not found`, 404, `${entity.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_NOT_FOUND`, { id });
	}
}

/** 409: the request conflicts with what is stored. */
export class ConflictError extends MoleculerClientError {
	constructor(message: string, type = "CONFLICT", data?: unknown) {
		super(message, 409, type, data);
	}
}

/** 401: no valid credentials. */
export class UnauthorizedError extends MoleculerClientError {
	constructor(message = "Authentication required: send Authorization: Bearer <token>", type = "UNAUTHORIZED") {
		super(message, 401, type);
	}
}

/** 403: authenticated, but not allowed. */
export class ForbiddenError extends MoleculerClientError {
	constructor(message = "You are not allowed to do this", type = "FORBIDDEN") {
		super(message, 403, type);
	}
}

/** 409: fewer units available than asked for. */
export class InsufficientStockError extends MoleculerClientError {
	constructor(productId: string, requested: number, available: number) {
		super(
			`Insufficient stock for '${productId}': requested ${requested}, available ${available}`,
			409,
			"INSUFFICIENT_STOCK",
			{ product_id: productId, requested, available },
		);
	}
}

/**
 * 503: a feature the admins switched off (a settings flag); Retry-After says when to look again. Not retryable by
 * the broker: the answer stays the same until an admin switches the feature on.
 */
export class FeatureDisabledError extends MoleculerClientError {
	constructor(feature: string, retryAfterSeconds: number) {
		super(`The ${feature} feature is switched off for now; try again later`, 503, "FEATURE_DISABLED", { feature, retry_after: retryAfterSeconds });
	}
}

/** 503: a dependency is down; the caller may retry. */
/**
 * A checkout whose answer was lost (the orders call timed out or its node left, and asking orders by key could not
 * tell): the order may exist. 503 with the advice to send the same request again, which the claims answer with the
 * same order, never a second one.
 */
export class CheckoutOutcomeUnknownError extends MoleculerRetryableError {
	constructor(action = "checkout.start") {
		super(
			"The checkout's answer was lost on its way; it may have been placed. Send the same request again (same cart or Idempotency-Key): it answers the order if there is one, and places none twice",
			503,
			"CHECKOUT_OUTCOME_UNKNOWN",
			{ action, retry: "same request" },
		);
	}
}

/**
 * 503: this node is stopping (SIGTERM) and took no part of the request; sent with `Connection: close`, so the client
 * sends it again on a new connection, which reaches another node.
 */
export class ShuttingDownError extends MoleculerRetryableError {
	constructor() {
		super("This node is shutting down and did not take the request; send it again", 503, "SHUTTING_DOWN", { retry: "same request" });
	}
}

export class DependencyUnavailableError extends MoleculerRetryableError {
	constructor(dependency: string, message?: string) {
		super(message ?? `${dependency} is unavailable`, 503, "SERVICE_UNAVAILABLE", { dependency });
	}
}
