// The browser build: two pages (the storefront at /, the operations console at /ops/), Preact for the views,
// written to dist/web, which the gateway serves (services/api/web-assets.ts).
import { resolve } from "node:path";
import { defineConfig } from "vite";

const here = import.meta.dirname;

export default defineConfig({
	root: here,
	base: "/",
	publicDir: false,
	build: {
		outDir: resolve(here, "../dist/web"),
		emptyOutDir: true,
		target: "es2022",
		sourcemap: false,
		reportCompressedSize: true,
		rollupOptions: {
			input: {
				store: resolve(here, "index.html"),
				ops: resolve(here, "ops/index.html"),
			},
		},
	},
	// `npm run web:dev`: the pages with live reload, the API of a running shop (npm start) behind them.
	server: { proxy: { "/api": "http://127.0.0.1:8080", "/health": "http://127.0.0.1:8080" } },
});
