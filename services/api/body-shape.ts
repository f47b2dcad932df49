/**
 * What a request body must be once parsed: an object of fields (audit D8), with no `__proto__` key at any depth
 * (audit D9). moleculer-web copies the body into the action's params with Object.assign, where an own
 * `__proto__` key would set the params' prototype and slip fields past what the client seemed to send
 * (`{"product_id":"x","__proto__":{"quantity":5}}` added 5). Such bodies are refused with 400 INVALID_BODY
 * naming the problem, before any action runs; nothing is written.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Errors } from "moleculer";

/** 400: the body parsed, but it is not an object of fields, or it carries a key that is never a field. */
export class InvalidBodyError extends Errors.MoleculerClientError {
	constructor(message: string, field: string) {
		super(message, 400, "INVALID_BODY", { field });
	}
}

/** A key that would reach an object's prototype when copied. */
const FORBIDDEN_KEY = "__proto__";

/** What kind of value a body is, for the message. */
function kind(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "an array";
	return `a ${typeof value}`;
}

/** The dotted path of the first `__proto__` key anywhere in the value, or null; iterative, so deep nesting cannot overflow. */
export function forbiddenKeyPath(value: unknown): string | null {
	const stack: Array<{ value: unknown; path: string }> = [{ value, path: "" }];
	while (stack.length > 0) {
		const item = stack.pop() as { value: unknown; path: string };
		if (item.value === null || typeof item.value !== "object") continue;
		const isArray = Array.isArray(item.value);
		for (const key of Object.keys(item.value)) {
			const path = isArray ? `${item.path}[${key}]` : item.path ? `${item.path}.${key}` : key;
			if (key === FORBIDDEN_KEY) return path;
			stack.push({ value: (item.value as Record<string, unknown>)[key], path });
		}
	}
	return null;
}

/** The problem with a parsed body, or null when it is fine (no body at all is fine too). */
export function bodyShapeError(body: unknown): InvalidBodyError | null {
	if (body === undefined) return null;
	if (body === null || typeof body !== "object" || Array.isArray(body))
		return new InvalidBodyError(`The request body must be an object of fields, not ${kind(body)}`, "body");
	const path = forbiddenKeyPath(body);
	if (path !== null) return new InvalidBodyError(`The request body may not contain the key '${FORBIDDEN_KEY}' (at ${path})`, path);
	return null;
}

/** Route middleware: refuses a parsed body of the wrong shape before the action is called. */
export function checkBodyShape(req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void): void {
	next(bodyShapeError((req as IncomingMessage & { body?: unknown }).body) ?? undefined);
}
