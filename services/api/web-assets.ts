/**
 * The browser pages: moleculer-web serves the built storefront (`/`) and operations console (`/ops/`) from
 * WEB_DIR (dist/web, written by `npm run build` from web/) when no route matched. Hashed files under /assets/ are
 * kept by browsers for a year; the pages themselves are checked again on every load, so a new build shows at once.
 */
import type { ServerResponse } from "node:http";
import type { Config } from "../../config/env";

/** What a page may load: its own scripts, styles and images, and calls to its own origin (the API, the live stream). */
export const WEB_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** moleculer-web's `assets` setting for the built pages. */
export function webAssets(config: Pick<Config, "webDir">): { folder: string; options: Record<string, unknown> } {
	return {
		folder: config.webDir,
		options: {
			index: ["index.html"],
			fallthrough: true,
			redirect: true,
			setHeaders(res: ServerResponse, file: string): void {
				res.setHeader("Content-Security-Policy", WEB_CSP);
				res.setHeader("X-Content-Type-Options", "nosniff");
				res.setHeader("Referrer-Policy", "no-referrer");
				res.setHeader("Cache-Control", /[/\\]assets[/\\]/.test(file) ? "public, max-age=31536000, immutable" : "no-cache");
			},
		},
	};
}
