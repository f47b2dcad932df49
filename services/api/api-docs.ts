/**
 * `GET /api/openapi.json` and `GET /api/docs`: the OpenAPI document of this gateway (api/openapi/), made on the
 * first request from the gateway's own alias list and the registry's action declarations, and made again when
 * the services of the cluster change (a node joins or leaves, a service starts), so that new routes and actions
 * of any service appear without an edit.
 */
import type { ActionSchema, Context, Service, ServiceBroker } from "moleculer";
import type { ShopMeta } from "../common/meta";
import { buildDocument, type OpenApiDocument } from "./openapi/document";
import { actionLookup, gatewayRoutes, type AliasInfo, type CompiledRoute, type RegistryAction } from "./openapi/gateway";
import { renderDocsHtml } from "./openapi/html";

/** The gateway as the documents see it: its broker, moleculer-web's compiled routes and alias list. */
export interface DocumentedGateway {
	broker: ServiceBroker;
	routes: CompiledRoute[];
	actions: Record<string, (params?: unknown) => Promise<unknown>>;
	/** The document being made or made (null: make it on the next request). */
	apiDocument: Promise<OpenApiDocument> | null;
}

/** What the docs page may load: its own inline style, nothing else (no script at all). */
const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The document of the gateway's routes as they are now. */
export async function makeApiDocument(gw: DocumentedGateway): Promise<OpenApiDocument> {
	const aliases = (await gw.actions.listAliases({})) as AliasInfo[];
	const actions = gw.broker.registry.getActionList({ skipInternal: true }) as unknown as RegistryAction[];
	return buildDocument({
		title: "ShopFlow API",
		version: "1",
		description: "Generated from the gateway's routes and the actions' parameter schemas when first asked for, and again when services change.",
		routes: gatewayRoutes(aliases, gw.routes),
		action: actionLookup(actions),
	});
}

/** The current document, made once per change of the cluster's services. */
function currentDocument(gw: DocumentedGateway): Promise<OpenApiDocument> {
	if (!gw.apiDocument) {
		const made = makeApiDocument(gw);
		gw.apiDocument = made;
		made.catch(() => {
			if (gw.apiDocument === made) gw.apiDocument = null;
		});
	}
	return gw.apiDocument;
}

const gateway = (service: Service): DocumentedGateway => service as unknown as DocumentedGateway;

export const apiDocsActions: Record<string, ActionSchema> = {
	/** The OpenAPI 3.1 document of every gateway route (generated, never kept by hand). */
	openapi: {
		handler(this: Service): Promise<OpenApiDocument> {
			return currentDocument(gateway(this));
		},
	},

	/** The document as a static HTML page (no script, nothing loaded from elsewhere). */
	docs: {
		async handler(this: Service, ctx: Context<unknown, ShopMeta & { $responseType?: string }>): Promise<string> {
			ctx.meta.$responseType = "text/html; charset=utf-8";
			ctx.meta.$responseHeaders = { "Content-Security-Policy": DOCS_CSP };
			return renderDocsHtml(await currentDocument(gateway(this)));
		},
	},
};

export const apiDocsEvents = {
	/** Services came or went: the next request makes the document again. */
	"$services.changed"(this: Service): void {
		gateway(this).apiDocument = null;
	},
};
