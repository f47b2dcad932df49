/**
 * The error answers of the gateway in the document: the one JSON error shape (`name`, `message`, `code`, `type`,
 * `data`, as services/api/http.ts `describeError` writes it) and the statuses the gateway itself gives a route by
 * what the route and its action declare. Errors an action raises of its own (404 for an unknown id, 409 for a
 * conflict, 402 for a declined card) are the `default` answer, in the same shape.
 */
import type { JsonSchema } from "./json-schema";

export type ErrorResponseName =
	| "BadRequest"
	| "Unauthorized"
	| "Forbidden"
	| "NotFound"
	| "PayloadTooLarge"
	| "UnsupportedMediaType"
	| "ValidationFailed"
	| "TooManyRequests"
	| "ServiceUnavailable";

interface ErrorResponse {
	status: string;
	description: string;
	schema?: string;
	retryAfter?: boolean;
}

/** Why the gateway gives each status, and which of them say when to retry. */
export const ERROR_RESPONSES: Record<ErrorResponseName, ErrorResponse> = {
	BadRequest: { status: "400", description: "The body is not JSON (INVALID_JSON), not an object of fields or carries `__proto__` (INVALID_BODY), or cannot be read (UNREADABLE_BODY)." },
	Unauthorized: { status: "401", description: "No valid Bearer token where one is needed, or a malformed, invalid, expired or revoked one on any route (UNAUTHORIZED, INVALID_TOKEN, TOKEN_REVOKED)." },
	Forbidden: { status: "403", description: "Signed in, but without the role the action needs (FORBIDDEN), or not the owner of the shop whose data it changes (NOT_SHOP_OWNER)." },
	NotFound: { status: "404", description: "No such id (`<KIND>_NOT_FOUND`), or another user's, which is never shown." },
	PayloadTooLarge: { status: "413", description: "The body is larger than the gateway takes (PAYLOAD_TOO_LARGE)." },
	UnsupportedMediaType: { status: "415", description: "The body is not `application/json` or its charset is not UTF-8 (UNSUPPORTED_MEDIA_TYPE)." },
	ValidationFailed: { status: "422", description: "A parameter is missing or not acceptable; `data` names each field.", schema: "ValidationError" },
	TooManyRequests: { status: "429", description: "Over this address's rate limit (RATE_LIMITED); `data.retry_after` and Retry-After say when to retry.", retryAfter: true },
	ServiceUnavailable: {
		status: "503",
		description: "A service the route needs is down (SERVICE_UNAVAILABLE), the action's feature is switched off (FEATURE_DISABLED), or a checkout's answer was lost (CHECKOUT_OUTCOME_UNKNOWN); Retry-After says when to retry.",
		retryAfter: true,
	},
};

const json = (ref: string): JsonSchema => ({ "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } });

/** The schemas, headers and responses that the operations refer to. */
export function errorComponents(): JsonSchema {
	const responses: Record<string, JsonSchema> = {
		Error: { description: "Any other error of the action, in the one error shape (404 unknown id, 409 conflict, 402 declined payment, 500 failure).", content: json("Error") },
	};
	for (const [name, r] of Object.entries(ERROR_RESPONSES)) {
		responses[name] = { description: r.description, content: json(r.schema ?? "Error") };
		if (r.retryAfter) responses[name].headers = { "Retry-After": { $ref: "#/components/headers/RetryAfter" } };
	}
	return {
		schemas: {
			Error: {
				type: "object",
				required: ["name", "message", "code"],
				properties: {
					name: { type: "string", examples: ["NotFoundError"] },
					message: { type: "string" },
					code: { type: "integer", minimum: 400, maximum: 599 },
					type: { type: "string", description: "What went wrong, in SCREAMING_SNAKE (INSUFFICIENT_STOCK)." },
					data: { description: "Details of the error (the fields, ids or limits it concerns)." },
				},
			},
			ValidationError: {
				allOf: [
					{ $ref: "#/components/schemas/Error" },
					{
						type: "object",
						properties: {
							data: {
								type: "array",
								items: {
									type: "object",
									required: ["field", "message"],
									properties: { field: { type: "string" }, message: { type: "string" }, type: { type: "string" } },
								},
							},
						},
					},
				],
			},
		},
		headers: {
			RetryAfter: { description: "Seconds to wait before sending the request again.", schema: { type: "integer", minimum: 1 } },
		},
		responses,
	};
}
