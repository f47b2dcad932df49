/**
 * What the document is made of, read from the running gateway: moleculer-web's alias list (its `listAliases`
 * action) with the options of the route each alias belongs to, and the broker registry's action declarations.
 */
import type { ActionDeclaration, GatewayRoute } from "./document";

/** One entry of moleculer-web's `listAliases` answer. */
export interface AliasInfo {
	actionName?: string | null;
	fullPath: string;
	methods: string;
	routePath: string;
}

/** A compiled moleculer-web route: its path and the options it was declared with. */
export interface CompiledRoute {
	path: string;
	opts: { authentication?: unknown; bodyParsers?: unknown; rateLimit?: unknown };
}

/** One entry of `broker.registry.getActionList()`. */
export interface RegistryAction {
	name: string;
	action?: Record<string, unknown> | null;
}

/** The gateway's routes that call an action (an alias with a handler of its own has no action to describe). */
export function gatewayRoutes(aliases: AliasInfo[], routes: CompiledRoute[]): GatewayRoute[] {
	const out: GatewayRoute[] = [];
	for (const alias of aliases) {
		if (!alias.actionName) continue;
		const opts = routes.find(r => r.path === alias.routePath)?.opts ?? {};
		const parsers = opts.bodyParsers as { json?: unknown } | false | undefined;
		out.push({
			method: alias.methods.toUpperCase(),
			path: alias.fullPath,
			action: alias.actionName,
			authenticated: Boolean(opts.authentication),
			jsonBody: Boolean(parsers && parsers.json),
			rateLimited: Boolean(opts.rateLimit),
		});
	}
	return out;
}

/** Looks actions up in the registry's list; an action no node offers is undefined. */
export function actionLookup(list: RegistryAction[]): (name: string) => ActionDeclaration | undefined {
	const byName = new Map(list.filter(a => a.action).map(a => [a.name, a.action as ActionDeclaration]));
	return name => byName.get(name);
}
