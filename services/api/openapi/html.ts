/**
 * `/api/docs`: the document as one static HTML page, written here from the document itself (no script, no
 * stylesheet or font from elsewhere: the shop may run without internet). Each operation shows its method and path,
 * who may call it, its parameters and body as JSON Schema, and its answers.
 */
import type { JsonSchema } from "./json-schema";
import type { OpenApiDocument } from "./document";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe for HTML (text and attribute values). */
export function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, c => ESCAPES[c]);
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:62rem;padding:1rem;color:#1d1d1f}
h2{border-bottom:1px solid #ddd;margin-top:2rem}details{border:1px solid #ddd;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer}code,pre{font:13px ui-monospace,monospace}pre{background:#f6f6f6;overflow:auto;padding:.5rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700}.get{color:#0b6e0b}.post{color:#0848a8}.put,.patch{color:#8a5a00}.delete{color:#a01010}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}`;

const pretty = (value: unknown): string => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;

/** A `$ref` into the document's components, followed. */
function resolve(doc: OpenApiDocument, value: JsonSchema): JsonSchema {
	const ref = value.$ref;
	if (typeof ref !== "string" || !ref.startsWith("#/")) return value;
	let node: unknown = doc;
	for (const part of ref.slice(2).split("/")) node = (node as Record<string, unknown> | undefined)?.[part];
	return (node as JsonSchema | undefined) ?? value;
}

function operationHtml(doc: OpenApiDocument, method: string, path: string, op: JsonSchema): string {
	const params = (op.parameters as JsonSchema[]) ?? [];
	const rows = params.map(p => `<tr><td><code>${escapeHtml(String(p.name))}</code></td><td>${escapeHtml(String(p.in))}</td><td>${p.required ? "yes" : "no"}</td><td>${pretty(p.schema)}</td></tr>`);
	const body = (op.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined)?.content?.["application/json"]?.schema;
	const answers = Object.entries((op.responses as Record<string, JsonSchema>) ?? {}).map(
		([status, r]) => `<li><b>${escapeHtml(status)}</b> ${escapeHtml(String(resolve(doc, r).description ?? ""))}</li>`,
	);
	return `<details id="${escapeHtml(String(op.operationId))}"><summary><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code> — ${escapeHtml(String(op.summary ?? ""))}</summary>
<p>${escapeHtml(String(op.description ?? ""))}</p>
${rows.length ? `<table><tr><th>Parameter</th><th>In</th><th>Required</th><th>Schema</th></tr>${rows.join("")}</table>` : ""}
${body ? `<h4>Body (application/json)</h4>${pretty(body)}` : ""}
<h4>Answers</h4><ul>${answers.join("")}</ul></details>`;
}

/** The whole page: operations grouped by service, then the error shape. */
export function renderDocsHtml(doc: OpenApiDocument): string {
	const info = doc.info as { title: string; version: string; description?: string };
	const byTag = new Map<string, string[]>();
	for (const [path, item] of Object.entries(doc.paths))
		for (const [method, op] of Object.entries(item)) {
			const tag = ((op.tags as string[] | undefined) ?? ["other"])[0];
			const list = byTag.get(tag) ?? [];
			list.push(operationHtml(doc, method, path, op));
			byTag.set(tag, list);
		}
	const sections = [...byTag.keys()].sort().map(tag => `<h2 id="tag-${escapeHtml(tag)}">${escapeHtml(tag)}</h2>\n${(byTag.get(tag) ?? []).join("\n")}`);
	const schemas = (doc.components as { schemas?: unknown } | undefined)?.schemas;
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(info.title)} — API</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>
<p>${escapeHtml(info.description ?? "")} The machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI ${escapeHtml(doc.openapi)}).</p>
<nav>${[...byTag.keys()].sort().map(t => `<a href="#tag-${escapeHtml(t)}">${escapeHtml(t)}</a>`).join(" · ")}</nav>
${sections.join("\n")}
<h2 id="errors">The error shape</h2>${pretty(schemas)}
</body></html>
`;
}
