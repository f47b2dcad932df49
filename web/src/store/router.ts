// Hash routing (#/product/:id, #/cart, ...): every page is index.html, so the gateway needs no fallback route.
import { useEffect, useState } from "preact/hooks";

export interface Route {
	/** The path's segments, e.g. ["product", "laptop-123"] for #/product/laptop-123. */
	parts: string[];
	/** The query after the path, e.g. category=audio in #/?category=audio. */
	query: URLSearchParams;
}

/** Parses a location hash into its route. */
export function parseHash(hash: string): Route {
	const raw = hash.replace(/^#\/?/, "");
	const [path = "", q = ""] = raw.split("?", 2);
	return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

/** A hash link to a path and query, dropping empty query values: href("/search", {q: "hub"}) → "#/search?q=hub". */
export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
	const s = q.toString();
	return `#${path}${s ? `?${s}` : ""}`;
}

/** Goes to a hash link (a new history entry). */
export function go(link: string): void {
	location.hash = link.replace(/^#/, "");
}

/** The current route, following hash changes. */
export function useRoute(): Route {
	const [route, setRoute] = useState(() => parseHash(location.hash));
	useEffect(() => {
		const on = () => setRoute(parseHash(location.hash));
		addEventListener("hashchange", on);
		return () => removeEventListener("hashchange", on);
	}, []);
	return route;
}
