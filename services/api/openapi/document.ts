/**
 * The OpenAPI 3.1 document of the gateway, built from what runs: its routes (each alias with its method, path and
 * action, and what the route does to every request: authentication, JSON bodies, rate limit) and each action's
 * declaration (`params`, `auth`, `roles`, `feature`). Nothing here names a route or an action, so a route added to
 * the gateway, or a service that joins, is described without an edit. Pure: the gateway hands it plain data.
 */
import { paramsSchema, type JsonSchema } from "./json-schema";
import { ERROR_RESPONSES, errorComponents, type ErrorResponseName } from "./errors";

/** One route of the gateway: an alias, with what its route does to every request. */
export interface GatewayRoute {
	/** GET, POST, PUT, PATCH, DELETE, or `*` (any). */
	method: string;
	/** The full path as the gateway matches it, with `:name` parameters (`/api/v1/products/:id`). */
	path: string;
	action: string;
	/** The route resolves a Bearer token on every request (a bad token is a 401 even where none is needed). */
	authenticated: boolean;
	/** The route parses JSON bodies (and refuses unreadable, oversized or non-object ones). */
	jsonBody: boolean;
	rateLimited: boolean;
}

/** What an action declares, as the registry holds it (unknown until checked: it may come from another node). */
export interface ActionDeclaration {
	params?: unknown;
	auth?: unknown;
	roles?: unknown;
	feature?: unknown;
	owned?: unknown;
}

export interface DocumentInput {
	title: string;
	version: string;
	description?: string;
	routes: GatewayRoute[];
	/** The declaration of an action, or undefined when no node offers it right now. */
	action(name: string): ActionDeclaration | undefined;
}

export type OpenApiDocument = JsonSchema & { openapi: string; paths: Record<string, Record<string, JsonSchema>> };

const WRITE_METHODS = ["post", "put", "patch", "delete"];
const ANY_METHOD = ["get", ...WRITE_METHODS];

/** `/api/v1/cart/items/:product_id` as `/api/v1/cart/items/{product_id}`, with the names of its parameters. */
export function openApiPath(path: string): { path: string; names: string[] } {
	const names: string[] = [];
	const out = path.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?\??/g, (_m, name: string) => {
		names.push(name);
		return `{${name}}`;
	});
	return { path: out, names };
}

/** Who may call an action: anyone, any signed-in user, or the roles it names. */
export function accessOf(decl: ActionDeclaration | undefined): { needsUser: boolean; roles: string[] } {
	const roles = Array.isArray(decl?.roles) ? decl.roles.filter((r): r is string => typeof r === "string") : [];
	return { needsUser: decl?.auth === "required" || roles.length > 0, roles };
}

/** The document for the gateway's routes and its actions' declarations. */
export function buildDocument(input: DocumentInput): OpenApiDocument {
	const paths: Record<string, Record<string, JsonSchema>> = {};
	const routes = [...input.routes].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
	const counts = new Map<string, number>();
	for (const r of routes) counts.set(r.action, (counts.get(r.action) ?? 0) + 1);
	const tags = new Set<string>();

	for (const route of routes) {
		const { path, names } = openApiPath(route.path);
		const methods = route.method === "*" ? ANY_METHOD : [route.method.toLowerCase()];
		for (const method of methods) {
			const op = operation(route, method, names, input.action(route.action));
			// An action behind several routes (`/products` and `/catalog`) gets an id per route.
			op.operationId = (counts.get(route.action) ?? 0) > 1 || methods.length > 1 ? `${route.action}:${method}:${path}` : route.action;
			tags.add((op.tags as string[])[0]);
			(paths[path] ??= {})[method] = op;
		}
	}

	return {
		openapi: "3.1.0",
		info: { title: input.title, version: input.version, ...(input.description ? { description: input.description } : {}) },
		jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
		tags: [...tags].sort().map(name => ({ name })),
		paths,
		components: {
			...errorComponents(),
			securitySchemes: {
				bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "The token that POST /api/v1/users/login or /users/register answers." },
			},
		},
	};
}

/** One operation: parameters and body from the action's params, security and answers from its declaration and route. */
function operation(route: GatewayRoute, method: string, pathNames: string[], decl: ActionDeclaration | undefined): JsonSchema {
	const schema = paramsSchema(decl?.params);
	const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
	const required = new Set((schema.required ?? []) as string[]);
	const access = accessOf(decl);
	const feature = typeof decl?.feature === "string" ? decl.feature : undefined;

	const parameters: JsonSchema[] = pathNames.map(name => ({ name, in: "path", required: true, schema: props[name] ?? { type: "string" } }));
	const rest = Object.keys(props).filter(k => !pathNames.includes(k));
	let requestBody: JsonSchema | undefined;
	if (WRITE_METHODS.includes(method)) {
		const body = bodySchema(schema, rest, props, required);
		if (body) requestBody = { required: [...required].some(k => rest.includes(k)), content: { "application/json": { schema: body } } };
	} else {
		for (const name of rest) {
			const p: JsonSchema = { name, in: "query", required: required.has(name), schema: props[name] };
			if (props[name].type === "object") Object.assign(p, { style: "deepObject", explode: true });
			parameters.push(p);
		}
	}

	const errors: ErrorResponseName[] = [];
	if (requestBody !== undefined || (route.jsonBody && WRITE_METHODS.includes(method))) errors.push("BadRequest", "PayloadTooLarge", "UnsupportedMediaType");
	if (route.authenticated || access.needsUser) errors.push("Unauthorized");
	if (access.roles.length > 0 || decl?.owned !== undefined) errors.push("Forbidden");
	if (pathNames.length > 0) errors.push("NotFound");
	if (Object.keys(props).length > 0 || schema.anyOf) errors.push("ValidationFailed");
	if (route.rateLimited) errors.push("TooManyRequests");
	errors.push("ServiceUnavailable");

	const responses: JsonSchema = { "2XX": { description: "The action's answer (201 with Location when it created something, 202 when it was accepted)." } };
	for (const name of errors) responses[ERROR_RESPONSES[name].status] = { $ref: `#/components/responses/${name}` };
	responses.default = { $ref: "#/components/responses/Error" };

	const service = route.action.split(".")[0];
	const op: JsonSchema = {
		tags: [service],
		summary: route.action,
		description: describeAccess(access, feature, decl === undefined),
		"x-action": route.action,
		parameters,
		responses,
	};
	if (requestBody) op.requestBody = requestBody;
	if (access.needsUser) op.security = [{ bearerAuth: [] }];
	else if (route.authenticated) op.security = [{}, { bearerAuth: [] }];
	if (access.roles.length > 0) op["x-roles"] = access.roles;
	if (feature) op["x-feature"] = feature;
	if (decl === undefined) op["x-unavailable"] = true;
	return op;
}

/** The body of a write: the params that are not in the path (none: no body). */
function bodySchema(schema: JsonSchema, rest: string[], props: Record<string, JsonSchema>, required: Set<string>): JsonSchema | undefined {
	if (schema.anyOf) return schema;
	if (rest.length === 0) return undefined;
	const body: JsonSchema = { type: "object", properties: Object.fromEntries(rest.map(k => [k, props[k]])) };
	const req = rest.filter(k => required.has(k));
	if (req.length > 0) body.required = req;
	if (schema.additionalProperties === false) body.additionalProperties = false;
	return body;
}

function describeAccess(access: { needsUser: boolean; roles: string[] }, feature: string | undefined, unavailable: boolean): string {
	const parts = [
		access.roles.length > 0 ? `Needs a Bearer token of a user with the ${access.roles.join(" or ")} role.` : access.needsUser ? "Needs a Bearer token." : "Open to anyone.",
	];
	if (feature) parts.push(`Part of the '${feature}' feature: while an admin has it switched off, the answer is 503 FEATURE_DISABLED.`);
	if (unavailable) parts.push("No node offered this action when the document was made, so its parameters are not known.");
	return parts.join(" ");
}
