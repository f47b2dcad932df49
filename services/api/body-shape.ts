/**
 * What a request body must be once parsed: an object of fields (audit D8), with no `__proto__` key at any depth
 * (audit D9). moleculer-web copies the body into the action's params with Object.assign, where an own
 * `__proto__` key would set the params' prototype and slip fields past what the client seemed to send
 * (`{"product_id":"x","__proto__":{"quantity":5}}` added 5). Such bodies are refused with 400 INVALID_BODY
 * naming the problem, before any action runs; nothing is written. So are values nested deeper than MAX_BODY_DEPTH
 * (a field of 5,000 nested arrays overflowed the stack where the validator builds its message: 500).
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

/** The deepest nesting a body may have: ShopFlow's bodies need a handful of levels; deeper ones only attack the parsers after this. */
export const MAX_BODY_DEPTH = 32;

/** What is wrong deep inside a body: a `__proto__` key (with its dotted path) or nesting beyond MAX_BODY_DEPTH. */
type DeepProblem = { kind: "key"; path: string } | { kind: "depth"; field: string };

/** The first deep problem of a value, or null; iterative, so deep nesting cannot overflow. */
export function deepProblem(value: unknown): DeepProblem | null {
	const stack: Array<{ value: unknown; path: string; field: string; depth: number }> = [{ value, path: "", field: "", depth: 0 }];
	while (stack.length > 0) {
		const item = stack.pop() as { value: unknown; path: string; field: string; depth: number };
		if (item.value === null || typeof item.value !== "object") continue;
		// A value this deep would be walked recursively by the validator and its messages, and overflow the stack.
		if (item.depth > MAX_BODY_DEPTH) return { kind: "depth", field: item.field };
		const isArray = Array.isArray(item.value);
		for (const key of Object.keys(item.value)) {
			const path = isArray ? `${item.path}[${key}]` : item.path ? `${item.path}.${key}` : key;
			if (key === FORBIDDEN_KEY) return { kind: "key", path };
			stack.push({ value: (item.value as Record<string, unknown>)[key], path, field: item.field || key, depth: item.depth + 1 });
		}
	}
	return null;
}

/** The dotted path of the first `__proto__` key anywhere in the value, or null. */
export function forbiddenKeyPath(value: unknown): string | null {
	const problem = deepProblem(value);
	return problem?.kind === "key" ? problem.path : null;
}

/** The problem with a parsed body, or null when it is fine (no body at all is fine too). */
export function bodyShapeError(body: unknown): InvalidBodyError | null {
	if (body === undefined) return null;
	if (body === null || typeof body !== "object" || Array.isArray(body))
		return new InvalidBodyError(`The request body must be an object of fields, not ${kind(body)}`, "body");
	const problem = deepProblem(body);
	if (problem?.kind === "key") return new InvalidBodyError(`The request body may not contain the key '${FORBIDDEN_KEY}' (at ${problem.path})`, problem.path);
	if (problem?.kind === "depth") return new InvalidBodyError(`The field '${problem.field}' is nested deeper than ${MAX_BODY_DEPTH} levels`, problem.field);
	return null;
}

/** Route middleware: refuses a parsed body of the wrong shape before the action is called. */
export function checkBodyShape(req: IncomingMessage, _res: ServerResponse, next: (err?: unknown) => void): void {
	next(bodyShapeError((req as IncomingMessage & { body?: unknown }).body) ?? undefined);
}
